import { describe, expect, it } from "vitest";
import { ERROR_CODES } from "../../../src/errors/error-codes.ts";
import type { RequestErrorKind } from "../../../src/net/request-error-kind.ts";
import type { ProxyErrorCode } from "../../../src/proxy/errors.ts";
import { upstreamErrorCode } from "../../../src/proxy/upstream-errors.ts";

describe("upstreamErrorCode", () => {
  it.each<[RequestErrorKind, ProxyErrorCode, number]>([
    ["refused", "SWITCHYARD_UPSTREAM_CONNECT_FAILED", 502],
    ["connect-timeout", "SWITCHYARD_UPSTREAM_CONNECT_FAILED", 502],
    ["unreachable", "SWITCHYARD_UPSTREAM_CONNECT_FAILED", 502],
    ["dns", "SWITCHYARD_UPSTREAM_CONNECT_FAILED", 502],
    ["reset", "SWITCHYARD_UPSTREAM_RESET", 502],
    ["closed", "SWITCHYARD_UPSTREAM_RESET", 502],
    ["other", "SWITCHYARD_UPSTREAM_RESET", 502],
    ["malformed", "SWITCHYARD_UPSTREAM_MALFORMED", 502],
    ["timeout", "SWITCHYARD_UPSTREAM_TIMEOUT", 504],
  ])("%s is answered %s (%d)", (kind, code, status) => {
    expect(upstreamErrorCode(kind)).toBe(code);
    expect(ERROR_CODES[code].status).toBe(status);
  });
});
