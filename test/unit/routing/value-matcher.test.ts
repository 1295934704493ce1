import { describe, expect, it } from "vitest";
import { ValueMatcher } from "../../../src/routing/value-matcher.ts";

describe("ValueMatcher", () => {
  it.each([
    ["always", "always", true],
    ["always", "Always", false],
    ["always", "always ", false],
    ["always", "", false],
    ["", "", true],
    ["~^v2\\.", "v2.1", true],
    ["~^v2\\.", "v12.1", false],
    ["~mobile", "Mozilla (mobile)", true],
    ["~^(alice|bob)$", "bob", true],
    ["~^(alice|bob)$", "bobby", false],
    ["~", "anything", true],
  ])("%j against %j -> %s", (source, value, expected) => {
    expect(new ValueMatcher(source).matches(value)).toBe(expected);
  });

  it("gives the same answer on every call (no lastIndex state)", () => {
    const matcher = new ValueMatcher("~a");
    for (let i = 0; i < 5; i++) expect(matcher.matches("banana")).toBe(true);
  });

  it.each([
    ["always", undefined, false],
    ["always", "always", true],
    ["always", ["never", "always"], true],
    ["always", ["never", "nope"], false],
    // Node joins a repeated header with ", ": any element matches.
    ["always", "never, always", true],
    ["always", "never,always", true],
    ["always", "never, nope", false],
    ["a, b", "a, b", true],
    ["~^b$", "a, b", true],
    ["", "x, , y", false],
  ])("header rule %j against %j -> %s", (source, value, expected) => {
    expect(new ValueMatcher(source).matchesHeader(value)).toBe(expected);
  });
});
