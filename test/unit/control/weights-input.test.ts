/**
 * The weights an operator sends (SPEC 2 and 7): percentages with at most two decimals, of
 * upstreams that exist, summing to exactly 100; every problem reported with its field; the
 * split laid out in the route's own order.
 */
import { describe, expect, it } from "vitest";
import type { SplitEntry } from "../../../src/routing/split.ts";
import { parseWeightsInput } from "../../../src/control/weights-input.ts";
import { entriesToPercent, sameEntries } from "../../../src/routing/split-entries.ts";

const KNOWN = new Set(["stable", "canary", "legacy"]);
const ROUTE_ORDER = ["stable", "canary"];

describe("parseWeightsInput", () => {
  it.each([
    [
      "a split of the route's upstreams",
      { stable: 90, canary: 10 },
      [
        ["stable", 9000],
        ["canary", 1000],
      ],
    ],
    [
      "two decimals",
      { stable: 99.99, canary: 0.01 },
      [
        ["stable", 9999],
        ["canary", 1],
      ],
    ],
    [
      "the route's order, whatever the body's",
      { canary: 25, stable: 75 },
      [
        ["stable", 7500],
        ["canary", 2500],
      ],
    ],
    [
      "a zero weight",
      { stable: 100, canary: 0 },
      [
        ["stable", 10_000],
        ["canary", 0],
      ],
    ],
    ["one upstream alone", { canary: 100 }, [["canary", 10_000]]],
    [
      "an upstream the route's split does not name, last",
      { legacy: 50, stable: 50 },
      [
        ["stable", 5000],
        ["legacy", 5000],
      ],
    ],
  ] as const)("takes %s", (_case, weights, expected) => {
    const parsed = parseWeightsInput(weights, KNOWN, ROUTE_ORDER);
    expect(parsed).toEqual({
      ok: true,
      entries: expected.map(([upstream, weightBp]) => ({ upstream, weightBp })),
    });
  });

  it.each([
    ["null", null, { weights: 'must be an object like {"stable": 90, "canary": 10}' }],
    ["a number", 100, { weights: 'must be an object like {"stable": 90, "canary": 10}' }],
    ["an array", [90, 10], { weights: 'must be an object like {"stable": 90, "canary": 10}' }],
    ["an empty object", {}, { weights: "needs at least one upstream" }],
    ["a sum under 100", { stable: 90, canary: 5 }, { weights: "must sum to 100, not 95" }],
    [
      "a sum over 100 by a hundredth",
      { stable: 90.01, canary: 10 },
      { weights: "must sum to 100, not 100.01" },
    ],
    [
      "an unknown upstream",
      { stable: 90, blue: 10 },
      { "weights.blue": 'unknown upstream "blue" (known: stable, canary, legacy)' },
    ],
    ["a string", { stable: "90", canary: 10 }, { "weights.stable": "must be a number" }],
    ["NaN", { stable: Number.NaN, canary: 10 }, { "weights.stable": "must be a number" }],
    ["Infinity", { stable: Infinity }, { "weights.stable": "must be a number" }],
    [
      "a negative weight",
      { stable: 110, canary: -10 },
      {
        "weights.stable": "must be between 0 and 100",
        "weights.canary": "must be between 0 and 100",
      },
    ],
    [
      "three decimals",
      { stable: 99.995, canary: 0.005 },
      {
        "weights.stable": "99.995 has more than two decimals",
        "weights.canary": "0.005 has more than two decimals",
      },
    ],
    // Field problems come first: the sum is not judged on weights that are wrong themselves.
    [
      "a wrong field and a wrong sum",
      { stable: "x", canary: 5 },
      { "weights.stable": "must be a number" },
    ],
  ] as const)("refuses %s, naming each field's problem", (_case, weights, fields) => {
    expect(parseWeightsInput(weights, KNOWN, ROUTE_ORDER)).toEqual({ ok: false, fields });
  });
});

describe("entriesToPercent", () => {
  it.each([
    [[], {}],
    [
      [
        { upstream: "stable", weightBp: 9000 },
        { upstream: "canary", weightBp: 1000 },
      ],
      { stable: 90, canary: 10 },
    ],
    [
      [
        { upstream: "stable", weightBp: 9999 },
        { upstream: "canary", weightBp: 1 },
      ],
      { stable: 99.99, canary: 0.01 },
    ],
  ] as [SplitEntry[], Record<string, number>][])("reads %j as percentages", (entries, expected) => {
    expect(entriesToPercent(entries)).toEqual(expected);
  });

  it("keeps the split's order", () => {
    const entries = [
      { upstream: "canary", weightBp: 2500 },
      { upstream: "stable", weightBp: 7500 },
    ];
    expect(Object.keys(entriesToPercent(entries))).toEqual(["canary", "stable"]);
  });
});

describe("sameEntries", () => {
  const split = (pairs: [string, number][]): SplitEntry[] =>
    pairs.map(([upstream, weightBp]) => ({ upstream, weightBp }));

  it.each([
    [
      "the same split",
      [
        ["stable", 9000],
        ["canary", 1000],
      ],
      [
        ["stable", 9000],
        ["canary", 1000],
      ],
      true,
    ],
    [
      "the same split in another order",
      [
        ["stable", 9000],
        ["canary", 1000],
      ],
      [
        ["canary", 1000],
        ["stable", 9000],
      ],
      true,
    ],
    [
      "another weight",
      [
        ["stable", 9000],
        ["canary", 1000],
      ],
      [
        ["stable", 8000],
        ["canary", 2000],
      ],
      false,
    ],
    [
      "another upstream",
      [
        ["stable", 9000],
        ["canary", 1000],
      ],
      [
        ["stable", 9000],
        ["legacy", 1000],
      ],
      false,
    ],
    [
      "one upstream more",
      [["stable", 10_000]],
      [
        ["stable", 10_000],
        ["canary", 0],
      ],
      false,
    ],
    [
      "one upstream fewer",
      [
        ["stable", 10_000],
        ["canary", 0],
      ],
      [["stable", 10_000]],
      false,
    ],
  ] as [string, [string, number][], [string, number][], boolean][])(
    "compares %s",
    (_case, a, b, expected) => {
      expect(sameEntries(split(a), split(b))).toBe(expected);
    },
  );
});
