import { describe, expect, it } from "vitest";
import { compileSplit, pickAvailable, type SplitEntry } from "../../../src/routing/split.ts";
import { seededRandom } from "./prng.ts";

const splits: Record<string, SplitEntry[]> = {
  "95/5": [
    { upstream: "stable", weightBp: 9500 },
    { upstream: "canary", weightBp: 500 },
  ],
  "50/50": [
    { upstream: "stable", weightBp: 5000 },
    { upstream: "canary", weightBp: 5000 },
  ],
  "99.99/0.01": [
    { upstream: "stable", weightBp: 9999 },
    { upstream: "canary", weightBp: 1 },
  ],
  "33.33/33.33/33.34": [
    { upstream: "a", weightBp: 3333 },
    { upstream: "b", weightBp: 3333 },
    { upstream: "c", weightBp: 3334 },
  ],
  "12.34/0/87.66": [
    { upstream: "a", weightBp: 1234 },
    { upstream: "b", weightBp: 0 },
    { upstream: "c", weightBp: 8766 },
  ],
  "100 on one": [
    { upstream: "stable", weightBp: 10000 },
    { upstream: "canary", weightBp: 0 },
  ],
};

function countBy(picks: Iterable<string | undefined>): Map<string | undefined, number> {
  const counts = new Map<string | undefined, number>();
  for (const pick of picks) counts.set(pick, (counts.get(pick) ?? 0) + 1);
  return counts;
}

describe("compileSplit", () => {
  it.each([
    ["no entries", []],
    ["a sum under 100%", [{ upstream: "a", weightBp: 9999 }]],
    [
      "a sum over 100%",
      [
        { upstream: "a", weightBp: 9999 },
        { upstream: "b", weightBp: 2 },
      ],
    ],
    [
      "a fractional weight",
      [
        { upstream: "a", weightBp: 9999.5 },
        { upstream: "b", weightBp: 0.5 },
      ],
    ],
    [
      "a negative weight",
      [
        { upstream: "a", weightBp: 10001 },
        { upstream: "b", weightBp: -1 },
      ],
    ],
    [
      "a duplicate upstream",
      [
        { upstream: "a", weightBp: 5000 },
        { upstream: "a", weightBp: 5000 },
      ],
    ],
  ])("refuses %s", (_label, entries: SplitEntry[]) => {
    expect(() => compileSplit(entries)).toThrow(RangeError);
  });

  it("keeps the entries in split order", () => {
    const split = compileSplit(splits["12.34/0/87.66"]!);
    expect(split.entries.map((e) => e.upstream)).toEqual(["a", "b", "c"]);
  });
});

describe("pickByBucket", () => {
  it.each(Object.entries(splits))(
    "gives each upstream exactly its weight in buckets for %s",
    (_label, entries) => {
      const split = compileSplit(entries);
      const picks = Array.from({ length: 10_000 }, (_, bucket) => split.pickByBucket(bucket));
      const counts = countBy(picks);
      for (const { upstream, weightBp } of entries) {
        expect(counts.get(upstream) ?? 0).toBe(weightBp);
      }
    },
  );

  it("lays buckets out as consecutive ranges in split order", () => {
    const split = compileSplit(splits["12.34/0/87.66"]!);
    expect(split.pickByBucket(0)).toBe("a");
    expect(split.pickByBucket(1233)).toBe("a");
    expect(split.pickByBucket(1234)).toBe("c");
    expect(split.pickByBucket(9999)).toBe("c");
  });

  it("maps out-of-range buckets to the last weighted upstream", () => {
    const split = compileSplit(splits["100 on one"]!);
    expect(split.pickByBucket(10_000)).toBe("stable");
    expect(split.pickByBucket(Number.NaN)).toBe("stable");
  });
});

describe("pickRandom", () => {
  it.each(Object.entries(splits))(
    "over 10,000 picks lands within one percentage point of the weights for %s",
    (label, entries) => {
      const split = compileSplit(entries);
      const random = seededRandom(label.length * 7919);
      const picks = Array.from({ length: 10_000 }, () => split.pickRandom(random));
      const counts = countBy(picks);
      for (const { upstream, weightBp } of entries) {
        const sharePercent = ((counts.get(upstream) ?? 0) / 10_000) * 100;
        expect(Math.abs(sharePercent - weightBp / 100)).toBeLessThanOrEqual(1);
      }
      if (entries.some((e) => e.weightBp === 0)) {
        const zero = entries.filter((e) => e.weightBp === 0).map((e) => e.upstream);
        for (const name of zero) expect(counts.get(name)).toBeUndefined();
      }
    },
  );

  it("reaches a 0.01% upstream only through its one bucket", () => {
    const split = compileSplit(splits["99.99/0.01"]!);
    expect(split.pickRandom(() => 0.9999)).toBe("canary");
    expect(split.pickRandom(() => 0.99989999)).toBe("stable");
    expect(split.pickRandom(() => 0)).toBe("stable");
  });
});

describe("pickAvailable", () => {
  const three = compileSplit([
    { upstream: "a", weightBp: 6000 },
    { upstream: "b", weightBp: 3000 },
    { upstream: "c", weightBp: 1000 },
  ]);

  it("picks among available upstreams in proportion to their weights", () => {
    const random = seededRandom(42);
    const isAvailable = (name: string): boolean => name !== "a";
    const picks = Array.from({ length: 10_000 }, () => pickAvailable(three, isAvailable, random));
    const counts = countBy(picks);
    expect(counts.get("a")).toBeUndefined();
    // b and c share 100% as 3000:1000.
    expect(Math.abs((counts.get("b") ?? 0) / 100 - 75)).toBeLessThanOrEqual(1);
    expect(Math.abs((counts.get("c") ?? 0) / 100 - 25)).toBeLessThanOrEqual(1);
  });

  it("uses the exact weights: each available basis point is one slot", () => {
    const isAvailable = (name: string): boolean => name !== "b";
    // Available: a (6000) then c (1000); 7000 slots.
    expect(pickAvailable(three, isAvailable, () => 5999 / 7000)).toBe("a");
    expect(pickAvailable(three, isAvailable, () => 6000 / 7000)).toBe("c");
    expect(pickAvailable(three, isAvailable, () => 0.999999)).toBe("c");
  });

  it("still serves when only weight-0 upstreams are available, uniformly", () => {
    const split = compileSplit([
      { upstream: "canary", weightBp: 10_000 },
      { upstream: "stable", weightBp: 0 },
      { upstream: "old", weightBp: 0 },
    ]);
    const random = seededRandom(7);
    const isAvailable = (name: string): boolean => name !== "canary";
    const picks = Array.from({ length: 10_000 }, () => pickAvailable(split, isAvailable, random));
    const counts = countBy(picks);
    expect(counts.get("canary")).toBeUndefined();
    expect(Math.abs((counts.get("stable") ?? 0) / 100 - 50)).toBeLessThanOrEqual(1);
    expect(Math.abs((counts.get("old") ?? 0) / 100 - 50)).toBeLessThanOrEqual(1);
  });

  it("prefers weighted upstreams over weight-0 ones", () => {
    const split = compileSplit([
      { upstream: "a", weightBp: 10_000 },
      { upstream: "b", weightBp: 0 },
    ]);
    for (const r of [0, 0.5, 0.999]) {
      expect(
        pickAvailable(
          split,
          () => true,
          () => r,
        ),
      ).toBe("a");
    }
  });

  it("returns undefined when nothing is available", () => {
    expect(pickAvailable(three, () => false, Math.random)).toBeUndefined();
  });
});
