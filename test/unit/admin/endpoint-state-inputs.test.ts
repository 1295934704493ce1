/** The shape of an endpoint state call: the index in its path and its `{"state": ...}` body. */
import { describe, expect, it } from "vitest";
import { parseEndpointIndex, parseEndpointStateBody } from "../../../src/admin/admin-inputs.ts";

const CHOICES = '"ready", "drain", "maintenance"';

describe("parseEndpointIndex", () => {
  it.each([
    ["0", 0],
    ["1", 1],
    ["42", 42],
    ["999999999", 999_999_999],
  ])("accepts %s", (text, index) => {
    expect(parseEndpointIndex(text)).toBe(index);
  });

  it.each(["", "-1", "01", "1.0", "1e2", "0x1", " 1", "one", "1000000000"])(
    "refuses %j",
    (text) => {
      expect(parseEndpointIndex(text)).toBeUndefined();
    },
  );
});

describe("parseEndpointStateBody", () => {
  it.each(["ready", "drain", "maintenance"])("accepts %s", (state) => {
    expect(parseEndpointStateBody({ state })).toEqual({ ok: true, value: state });
  });

  it.each([
    ["a missing state", {}, { state: `is required: one of ${CHOICES}` }],
    ["an unknown state", { state: "down" }, { state: `must be one of ${CHOICES}` }],
    ["a state in another case", { state: "DRAIN" }, { state: `must be one of ${CHOICES}` }],
    ["a state that is not a string", { state: 1 }, { state: `must be one of ${CHOICES}` }],
    [
      "another field next to a good state",
      { state: "drain", weight: 0 },
      { weight: "is not a known field (the body takes only state)" },
    ],
    [
      "every problem at once",
      { status: "drain" },
      {
        status: "is not a known field (the body takes only state)",
        state: `is required: one of ${CHOICES}`,
      },
    ],
  ])("names the field's problem for %s", (_case, body, fields) => {
    expect(parseEndpointStateBody(body)).toEqual({ ok: false, fields });
  });

  it.each([null, "drain", ["drain"], 0])("refuses a body that is not an object: %j", (body) => {
    expect(parseEndpointStateBody(body)).toEqual({
      ok: false,
      fields: { body: 'must be a JSON object like {"state": "drain"}' },
    });
  });
});
