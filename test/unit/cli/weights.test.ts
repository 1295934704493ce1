import { describe, expect, it } from "vitest";
import { formatWeightsChange, parseWeightPairs } from "../../../src/cli/weights.ts";

describe("parseWeightPairs", () => {
  it("reads UPSTREAM=PCT pairs, with an optional %", () => {
    expect(parseWeightPairs(["stable=90", "canary=9.5%", "beta=0.5", "off=0"])).toEqual({
      ok: true,
      weights: { stable: 90, canary: 9.5, beta: 0.5, off: 0 },
    });
    expect(parseWeightPairs(["v2.1-x=100"])).toEqual({ ok: true, weights: { "v2.1-x": 100 } });
  });

  it.each([
    ["stable:80", /"stable:80" is not UPSTREAM=PCT/],
    ["stable=", /is not UPSTREAM=PCT/],
    ["=80", /is not UPSTREAM=PCT/],
    ["stable=abc", /is not UPSTREAM=PCT/],
    ["stable=-5", /is not UPSTREAM=PCT/],
    ["stable=1.234", /is not UPSTREAM=PCT/],
    ["stable=1e2", /is not UPSTREAM=PCT/],
    ["stable=1000", /is not UPSTREAM=PCT/],
    ["stable=100.5", /"stable=100\.5" is over 100%/],
    ["stable=101", /is over 100%/],
  ])("refuses %s", (pair, message) => {
    const result = parseWeightPairs([pair]);
    expect(result.ok).toBe(false);
    expect(!result.ok && result.message).toMatch(message);
    expect(!result.ok && result.message).toContain("e.g. stable=90 canary=10");
  });

  it("refuses an upstream given twice", () => {
    expect(parseWeightPairs(["stable=50", "stable=50"])).toEqual({
      ok: false,
      message: 'upstream "stable" is given twice',
    });
  });
});

describe("formatWeightsChange", () => {
  it("prints before -> after per upstream, new upstreams first", () => {
    const lines = formatWeightsChange(
      {
        route: "web",
        before: { stable: 100 },
        after: { stable: 90, canary: 10 },
        splitSource: "admin",
      },
      false,
    );
    expect(lines).toEqual([
      "web: split set (source: admin)",
      "UPSTREAM  BEFORE      AFTER",
      "stable    100%    ->  90%",
      "canary    -       ->  10%",
    ]);
  });

  it("says where the split comes from after --clear", () => {
    const lines = formatWeightsChange(
      { route: "web", before: { a: 50 }, after: { a: 100 }, splitSource: "file" },
      true,
    );
    expect(lines[0]).toBe("web: admin override cleared; the split now comes from file");
  });
});
