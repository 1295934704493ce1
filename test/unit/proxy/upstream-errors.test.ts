/**
 * How an error on the upstream side becomes the answer switchyard gives (SPEC 8): timeouts 504,
 * connection failures 502 "connect failed", resets 502 "reset", unparsable answers 502
 * "malformed". The errors are undici's own classes where it has one, and socket errors as node
 * raises them (an Error with a `code`).
 */
import { errors } from "undici";
import { describe, expect, it } from "vitest";
import type { ProxyErrorCode } from "../../../src/proxy/errors.ts";
import { classifyUpstreamError } from "../../../src/proxy/upstream-errors.ts";

function socketError(code: string): Error {
  return Object.assign(new Error(`socket: ${code}`), { code });
}

/** An HTTP parser error as undici raises it: a name, and llhttp's code. */
function parserError(code: string | undefined): Error {
  const error = new errors.HTTPParserError("Parse Error: Invalid header value char");
  return code === undefined ? error : Object.assign(error, { code });
}

const CASES: [string, Error, ProxyErrorCode][] = [
  ["no answer head in time", new errors.HeadersTimeoutError(), "SWITCHYARD_UPSTREAM_TIMEOUT"],
  ["a body that stalls", new errors.BodyTimeoutError(), "SWITCHYARD_UPSTREAM_TIMEOUT"],
  ["connection refused", socketError("ECONNREFUSED"), "SWITCHYARD_UPSTREAM_CONNECT_FAILED"],
  ["connect timeout", new errors.ConnectTimeoutError(), "SWITCHYARD_UPSTREAM_CONNECT_FAILED"],
  ["host unreachable", socketError("EHOSTUNREACH"), "SWITCHYARD_UPSTREAM_CONNECT_FAILED"],
  ["network unreachable", socketError("ENETUNREACH"), "SWITCHYARD_UPSTREAM_CONNECT_FAILED"],
  ["unknown host", socketError("ENOTFOUND"), "SWITCHYARD_UPSTREAM_CONNECT_FAILED"],
  ["DNS failing for now", socketError("EAI_AGAIN"), "SWITCHYARD_UPSTREAM_CONNECT_FAILED"],
  ["connection reset", socketError("ECONNRESET"), "SWITCHYARD_UPSTREAM_RESET"],
  ["broken pipe", socketError("EPIPE"), "SWITCHYARD_UPSTREAM_RESET"],
  [
    "socket closed mid-answer",
    new errors.SocketError("other side closed"),
    "SWITCHYARD_UPSTREAM_RESET",
  ],
  ["pool closed", new errors.ClientClosedError(), "SWITCHYARD_UPSTREAM_RESET"],
  ["a parser error code", parserError("HPE_INVALID_HEADER_TOKEN"), "SWITCHYARD_UPSTREAM_MALFORMED"],
  ["a parser error without a code", parserError(undefined), "SWITCHYARD_UPSTREAM_MALFORMED"],
  [
    "a body shorter than its Content-Length",
    new errors.ResponseContentLengthMismatchError(),
    "SWITCHYARD_UPSTREAM_MALFORMED",
  ],
  // Anything else ended the exchange without an answer: a reset is the closest truth.
  ["an error with an unknown code", socketError("EWHATEVER"), "SWITCHYARD_UPSTREAM_RESET"],
  ["an error without a code", new Error("something broke"), "SWITCHYARD_UPSTREAM_RESET"],
  ["a non-string code", Object.assign(new Error("odd"), { code: 42 }), "SWITCHYARD_UPSTREAM_RESET"],
];

describe("classifyUpstreamError", () => {
  it.each(CASES)("classifies %s", (_case, error, expected) => {
    expect(classifyUpstreamError(error)).toBe(expected);
  });
});
