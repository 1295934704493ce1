import { describe, expect, it } from "vitest";
import { parseSince, parseWeightsBody, parseWriteScope } from "../../../src/admin/admin-inputs.ts";

describe("parseWriteScope", () => {
  it.each([
    ["", "fleet"],
    ["local=false", "fleet"],
    ["local=true", "local"],
  ])("reads ?%s as a write to the %s", (query, value) => {
    expect(parseWriteScope(new URLSearchParams(query))).toEqual({ ok: true, value });
  });

  it.each(["local=", "local=1", "local=TRUE", "local=true&local=true"])(
    "refuses ?%s naming the field",
    (query) => {
      const result = parseWriteScope(new URLSearchParams(query));
      expect(!result.ok && Object.keys(result.fields)).toEqual(["local"]);
    },
  );
});

describe("parseSince", () => {
  it.each([
    ["", undefined],
    ["since=0", 0],
    ["since=17", 17],
    ["since=9007199254740991", 9007199254740991],
  ])("accepts ?%s", (query, value) => {
    expect(parseSince(new URLSearchParams(query))).toEqual({ ok: true, value });
  });

  it.each([
    "since=",
    "since=-1",
    "since=1.0",
    "since=abc",
    "since=0x10",
    "since=1e2",
    "since=%201",
    "since=9007199254740992",
    "since=1&since=2",
  ])("refuses ?%s naming the field", (query) => {
    const result = parseSince(new URLSearchParams(query));
    expect(result.ok).toBe(false);
    expect(!result.ok && Object.keys(result.fields)).toEqual(["since"]);
  });
});

describe("parseWeightsBody", () => {
  it("accepts upstream -> number", () => {
    expect(parseWeightsBody({ weights: { stable: 90.5, canary: 9.5 } })).toEqual({
      ok: true,
      value: { stable: 90.5, canary: 9.5 },
    });
  });

  it("names every wrong field at once", () => {
    const result = parseWeightsBody({ weights: { stable: "90", canary: true, beta: 1 }, x: 1 });
    expect(result).toEqual({
      ok: false,
      fields: {
        x: "is not a known field (the body takes only weights)",
        "weights.stable": "must be a number",
        "weights.canary": "must be a number",
      },
    });
  });

  it.each([null, 42, "weights", [1]])("refuses a body that is not an object: %j", (body) => {
    const result = parseWeightsBody(body);
    expect(!result.ok && Object.keys(result.fields)).toEqual(["body"]);
  });
});
