import { describe, expect, it } from "vitest";
import { cookieMatches, readCookie } from "../../../src/routing/cookies.ts";
import { ValueMatcher } from "../../../src/routing/value-matcher.ts";

describe("readCookie", () => {
  it.each([
    [undefined, "sy_id", undefined],
    ["", "sy_id", undefined],
    ["sy_id=abc", "sy_id", "abc"],
    ["a=1; sy_id=abc; b=2", "sy_id", "abc"],
    ["a=1;sy_id=abc;b=2", "sy_id", "abc"],
    ["  sy_id =  abc  ; b=2", "sy_id", "abc"],
    ['sy_id="abc"', "sy_id", "abc"],
    ["sy_id=", "sy_id", ""],
    ["sy_id=a=b", "sy_id", "a=b"],
    ["xsy_id=abc; sy_idx=def", "sy_id", undefined],
    ["SY_ID=abc", "sy_id", undefined],
    ["sy_id; b=2", "sy_id", undefined],
    ["sy_id=first; sy_id=second", "sy_id", "first"],
    [["a=1", "sy_id=fromSecondLine"], "sy_id", "fromSecondLine"],
    ["a=%41", "a", "%41"],
  ])("%j, %j -> %j", (header, name, expected) => {
    expect(readCookie(header, name)).toBe(expected);
  });
});

describe("cookieMatches", () => {
  it.each([
    ["canary=never", "never", true],
    ["canary=always", "never", false],
    ["other=never", "never", false],
    ["canary=always; canary=never", "never", true],
    ["canary=beta-7", "~^beta-\\d+$", true],
    [undefined, "never", false],
  ])("%j with %j -> %s", (header, source, expected) => {
    expect(cookieMatches(header, "canary", new ValueMatcher(source))).toBe(expected);
  });
});
