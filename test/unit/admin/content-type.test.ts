import { describe, expect, it } from "vitest";
import { findContentTypeProblem, isJsonContentType } from "../../../src/admin/content-type.ts";

describe("isJsonContentType", () => {
  it.each([
    ["application/json", true],
    ["application/json; charset=utf-8", true],
    ["APPLICATION/JSON;CHARSET=UTF-8", true],
    ['application/json; charset="utf-8"', true],
    ["application/json; charset=latin1", false],
    ["application/jsonx", false],
    ["text/json", false],
    ["application/x-www-form-urlencoded", false],
    [undefined, false],
  ])("%s -> %s", (header, expected) => {
    expect(isJsonContentType(header)).toBe(expected);
  });
});

describe("findContentTypeProblem", () => {
  it.each([
    { case: "a read without a body", isWrite: false, hasBody: false, type: undefined },
    { case: "a read with a JSON body", isWrite: false, hasBody: true, type: "application/json" },
    { case: "an empty JSON write", isWrite: true, hasBody: false, type: "application/json" },
    {
      case: "a JSON write with charset",
      isWrite: true,
      hasBody: true,
      type: "Application/JSON; charset=UTF-8",
    },
  ])("accepts $case", ({ isWrite, hasBody, type }) => {
    expect(findContentTypeProblem(isWrite, hasBody, type)).toBeUndefined();
  });

  it.each([
    { type: undefined, sent: "none was sent" },
    { type: "text/plain", sent: "not text/plain" },
    { type: "application/x-www-form-urlencoded", sent: "not application/x-www-form-urlencoded" },
    { type: "multipart/form-data; boundary=x", sent: "not multipart/form-data; boundary=x" },
    { type: "application/json; charset=latin1", sent: "not application/json; charset=latin1" },
  ])("refuses a write with an empty body declared $type", ({ type, sent }) => {
    expect(findContentTypeProblem(true, false, type)).toBe(
      `A write call must be sent with Content-Type: application/json, even with an empty body; ${sent}.`,
    );
  });

  it("refuses a body that is not JSON on a read", () => {
    expect(findContentTypeProblem(false, true, "text/plain")).toBe(
      "The request body must be JSON (Content-Type: application/json), not text/plain.",
    );
  });
});
