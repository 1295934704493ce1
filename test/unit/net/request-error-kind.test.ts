import { errors } from "undici";
import { describe, expect, it } from "vitest";
import {
  classifyRequestError,
  isConnectFailure,
  type RequestErrorKind,
} from "../../../src/net/request-error-kind.ts";
import { describeRequestError } from "../../../src/net/request-error-text.ts";

function errorWith(code: string | undefined, name = "Error"): Error {
  const error = new Error("boom");
  error.name = name;
  return code === undefined ? error : Object.assign(error, { code });
}

describe("classifyRequestError", () => {
  it.each<[string | undefined, string, RequestErrorKind]>([
    ["ECONNREFUSED", "Error", "refused"],
    ["UND_ERR_CONNECT_TIMEOUT", "Error", "connect-timeout"],
    ["EHOSTUNREACH", "Error", "unreachable"],
    ["ENETUNREACH", "Error", "unreachable"],
    ["ENOTFOUND", "Error", "dns"],
    ["EAI_AGAIN", "Error", "dns"],
    ["ECONNRESET", "Error", "reset"],
    ["EPIPE", "Error", "reset"],
    ["UND_ERR_SOCKET", "Error", "reset"],
    ["UND_ERR_CLOSED", "Error", "closed"],
    ["UND_ERR_HEADERS_TIMEOUT", "Error", "timeout"],
    ["UND_ERR_BODY_TIMEOUT", "Error", "timeout"],
    ["UND_ERR_RES_CONTENT_LENGTH_MISMATCH", "Error", "malformed"],
    ["HPE_INVALID_CONSTANT", "Error", "malformed"],
    ["HPE_INVALID_STATUS", "HTTPParserError", "malformed"],
    [undefined, "HTTPParserError", "malformed"],
    ["UND_ERR_ABORTED", "AbortError", "other"],
    ["ESOMETHING", "Error", "other"],
    [undefined, "Error", "other"],
  ])("%s (%s) is %s", (code, name, kind) => {
    expect(classifyRequestError(errorWith(code, name))).toBe(kind);
  });

  it.each<[Error, RequestErrorKind]>([
    [new errors.ConnectTimeoutError(), "connect-timeout"],
    [new errors.SocketError("other side closed"), "reset"],
    [new errors.ClientClosedError(), "closed"],
    [new errors.HeadersTimeoutError(), "timeout"],
    [new errors.BodyTimeoutError(), "timeout"],
    [new errors.ResponseContentLengthMismatchError(), "malformed"],
    [new errors.HTTPParserError("bad status"), "malformed"],
  ])("undici's %s is %s", (error, kind) => {
    expect(classifyRequestError(error)).toBe(kind);
  });

  it("reads only errors: anything thrown that is not one is other", () => {
    expect(classifyRequestError("ECONNREFUSED")).toBe("other");
    expect(classifyRequestError({ code: "ECONNREFUSED" })).toBe("other");
    expect(classifyRequestError(undefined)).toBe("other");
  });
});

describe("isConnectFailure", () => {
  it.each<[RequestErrorKind, boolean]>([
    ["refused", true],
    ["connect-timeout", true],
    ["unreachable", true],
    ["dns", true],
    ["reset", false],
    ["closed", false],
    ["timeout", false],
    ["malformed", false],
    ["other", false],
  ])("%s: %s", (kind, expected) => {
    expect(isConnectFailure(kind)).toBe(expected);
  });
});

describe("describeRequestError", () => {
  it.each<[unknown, string]>([
    [errorWith("ECONNREFUSED"), "connection refused"],
    [errorWith("UND_ERR_CONNECT_TIMEOUT"), "connect timeout"],
    [errorWith("ENETUNREACH"), "host unreachable"],
    [errorWith("EAI_AGAIN"), "DNS lookup failed"],
    [errorWith("EPIPE"), "connection reset"],
    [errorWith("UND_ERR_CLOSED"), "connection reset"],
    [errorWith("UND_ERR_BODY_TIMEOUT"), "timeout"],
    [errorWith("UND_ERR_RES_CONTENT_LENGTH_MISMATCH"), "malformed response"],
    [errorWith("UND_ERR_ODD"), "UND_ERR_ODD: boom"],
    [errorWith(undefined), "boom"],
    [42, "the fallback"],
  ])("%s -> %s", (error, expected) => {
    expect(describeRequestError(error, "the fallback")).toBe(expected);
  });
});
