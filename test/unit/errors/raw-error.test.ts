import { STATUS_CODES } from "node:http";
import { describe, expect, it } from "vitest";
import { ERROR_CODES } from "../../../src/errors/error-codes.ts";
import { rawErrorResponse, type RawErrorCode } from "../../../src/errors/raw-error.ts";
import { parseAllResponses } from "../../support/raw-client.ts";

const CODES = (Object.keys(ERROR_CODES) as (keyof typeof ERROR_CODES)[]).filter(
  (code): code is RawErrorCode => (ERROR_CODES[code].where as readonly string[]).includes("proxy"),
);

describe("rawErrorResponse", () => {
  it.each(CODES)("%s: one complete answer that closes the connection", (code) => {
    const raw = rawErrorResponse(code, "id-7");
    const responses = parseAllResponses(raw);
    expect(responses).toHaveLength(1);
    const [response] = responses;
    const status = ERROR_CODES[code].status;
    expect(response?.httpVersion).toBe("HTTP/1.1");
    expect(response?.statusCode).toBe(status);
    expect(response?.reason).toBe(STATUS_CODES[status]);
    expect(response?.isComplete).toBe(true);
    expect(response?.headers).toMatchObject({
      "content-type": "application/json",
      "x-request-id": "id-7",
      "cache-control": "no-store",
      connection: "close",
    });
    expect(response?.headers["retry-after"]).toBe(status === 503 ? "1" : undefined);
    expect(JSON.parse(response?.body ?? "")).toEqual({
      error: { code, message: ERROR_CODES[code].message, requestId: "id-7" },
    });
    // Nothing after the body: a second answer would desynchronise the client.
    expect(raw.endsWith(response?.body ?? "")).toBe(true);
  });

  it("counts the body in bytes, not characters", () => {
    const raw = rawErrorResponse("SWITCHYARD_NO_ROUTE", "id-é");
    const body = raw.slice(raw.indexOf("\r\n\r\n") + 4);
    expect(raw).toContain(`content-length: ${Buffer.byteLength(body)}\r\n`);
  });

  it("answers in the admin API's style: its content type, no request id", () => {
    const raw = rawErrorResponse("SWITCHYARD_BAD_REQUEST", undefined, "application/json; x=1");
    const [response] = parseAllResponses(raw);
    expect(response?.headers["content-type"]).toBe("application/json; x=1");
    expect(response?.headers["x-request-id"]).toBeUndefined();
    expect(JSON.parse(response?.body ?? "")).toEqual({
      error: {
        code: "SWITCHYARD_BAD_REQUEST",
        message: ERROR_CODES.SWITCHYARD_BAD_REQUEST.message,
      },
    });
  });
});
