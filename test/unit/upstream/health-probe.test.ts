import { describe, expect, it } from "vitest";
import { describeProbeError, isExpectedStatus } from "../../../src/upstream/health-probe.ts";

function errorWith(code: string | undefined, message = "boom", name = "Error"): Error {
  const error = new Error(message);
  error.name = name;
  return code === undefined ? error : Object.assign(error, { code });
}

describe("isExpectedStatus", () => {
  const ranges = [
    { from: 200, to: 299 },
    { from: 404, to: 404 },
  ];
  it.each([
    [200, true],
    [299, true],
    [204, true],
    [404, true],
    [199, false],
    [300, false],
    [403, false],
    [503, false],
  ])("%i -> %s", (status, expected) => {
    expect(isExpectedStatus(status, ranges)).toBe(expected);
  });
});

describe("describeProbeError", () => {
  it.each([
    [errorWith("ECONNREFUSED"), "connection refused"],
    [errorWith("ECONNRESET"), "connection reset"],
    [errorWith("UND_ERR_SOCKET"), "connection reset"],
    [errorWith("UND_ERR_CONNECT_TIMEOUT"), "connect timeout"],
    [errorWith("UND_ERR_HEADERS_TIMEOUT"), "timeout"],
    [errorWith("EHOSTUNREACH"), "host unreachable"],
    [errorWith("ENOTFOUND"), "DNS lookup failed"],
    [errorWith("HPE_INVALID_CONSTANT"), "malformed response"],
    [errorWith(undefined, "bad", "HTTPParserError"), "malformed response"],
    [errorWith("UND_ERR_WEIRD", "odd thing"), "UND_ERR_WEIRD: odd thing"],
    [errorWith(undefined, "plain message"), "plain message"],
    ["not an error", "probe failed"],
  ])("%s -> %s", (error, expected) => {
    expect(describeProbeError(error)).toBe(expected);
  });
});
