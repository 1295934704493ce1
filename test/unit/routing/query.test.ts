import { describe, expect, it } from "vitest";
import { queryMatches } from "../../../src/routing/query.ts";
import { ValueMatcher } from "../../../src/routing/value-matcher.ts";

describe("queryMatches", () => {
  it.each([
    ["preview=1", "preview", "1", true],
    ["a=2&preview=1&b=3", "preview", "1", true],
    ["preview=0", "preview", "1", false],
    ["", "preview", "1", false],
    ["xpreview=1&previewx=1", "preview", "1", false],
    ["preview", "preview", "", true],
    ["preview=", "preview", "", true],
    ["preview=0&preview=1", "preview", "1", true],
    ["q=hello+world", "q", "hello world", true],
    ["q=hello%20world", "q", "hello world", true],
    ["q=caf%C3%A9", "q", "café", true],
    ["q=a%2Bb", "q", "a+b", true],
    ["pre%76iew=1", "preview", "1", true],
    ["my+key=1", "my key", "1", true],
    ["q=%zz", "q", "%zz", false],
    ["q=%E0%A4%A", "q", "~.", false],
    ["q=%zz&q=ok", "q", "ok", true],
    ["a=1&&preview=1&", "preview", "1", true],
    ["v=beta-12", "v", "~^beta-\\d+$", true],
  ])("%j: %s=%j -> %s", (rawQuery, name, source, expected) => {
    expect(queryMatches(rawQuery, name, new ValueMatcher(source))).toBe(expected);
  });
});
