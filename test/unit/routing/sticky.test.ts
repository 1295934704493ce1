import { describe, expect, it } from "vitest";
import { compileSplit, type CompiledSplit, type SplitEntry } from "../../../src/routing/split.ts";
import { formatStickyCookie } from "../../../src/routing/sticky.ts";
import { randomKeys, seededRandom } from "./prng.ts";

function split(weightsBp: Record<string, number>): CompiledSplit {
  return compileSplit(
    Object.entries(weightsBp).map(([upstream, weightBp]) => ({ upstream, weightBp })),
  );
}

function sharesPercent(s: CompiledSplit, keys: readonly string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const key of keys) {
    const upstream = s.pickSticky(key);
    counts.set(upstream, (counts.get(upstream) ?? 0) + 1);
  }
  return new Map([...counts].map(([name, count]) => [name, (count / keys.length) * 100]));
}

/** Three weights in basis points summing to 10000, zero now and then. */
function randomWeights(random: () => number): [number, number, number] {
  const cuts = [Math.floor(random() * 10_001), Math.floor(random() * 10_001)].sort((x, y) => x - y);
  const zeroCut = random() < 0.1 ? 0 : (cuts[0] ?? 0);
  return [zeroCut, (cuts[1] ?? 0) - zeroCut, 10_000 - (cuts[1] ?? 0)];
}

const NAMES = ["a", "b", "c"] as const;

function entriesOf(weightsBp: readonly number[]): SplitEntry[] {
  return weightsBp.map((weightBp, i) => ({ upstream: NAMES[i] ?? "", weightBp }));
}

describe("sticky picks", () => {
  const keys = randomKeys(10_000, seededRandom(1));

  it("send the same key to the same upstream every time, whatever the split's order", () => {
    const forward = split({ a: 2000, b: 3000, c: 5000 });
    const again = split({ a: 2000, b: 3000, c: 5000 });
    const reversed = split({ c: 5000, b: 3000, a: 2000 });
    for (const key of keys.slice(0, 2000)) {
      const upstream = forward.pickSticky(key);
      expect(forward.pickSticky(key)).toBe(upstream);
      expect(again.pickSticky(key)).toBe(upstream);
      expect(reversed.pickSticky(key)).toBe(upstream);
    }
  });

  it("are pinned across releases for known keys", () => {
    const ids = Array.from({ length: 12 }, (_, i) => `user-${i + 1}`);
    const twoWay = split({ stable: 5000, canary: 5000 });
    expect(ids.map((id) => twoWay.pickSticky(id))).toEqual(
      "canary canary stable canary stable stable canary stable stable stable canary stable".split(
        " ",
      ),
    );
    const threeWay = split({ a: 2000, b: 3000, c: 5000 });
    expect(ids.map((id) => threeWay.pickSticky(id)).join("")).toBe("bcacbcbccccc");
  });

  it.each([
    { stable: 9500, canary: 500 },
    { stable: 5000, canary: 5000 },
    { stable: 9999, canary: 1 },
    { a: 3333, b: 3333, c: 3334 },
    { a: 1234, b: 0, c: 8766 },
    { a: 100, b: 200, c: 300, d: 9400 },
  ])("spread 10,000 keys within one percentage point of %o", (weightsBp) => {
    const shares = sharesPercent(split(weightsBp), keys);
    for (const [name, weightBp] of Object.entries(weightsBp)) {
      expect(Math.abs((shares.get(name) ?? 0) - weightBp / 100)).toBeLessThanOrEqual(1);
    }
  });

  it("show no bias over 100,000 keys (within 0.5 point)", () => {
    const many = randomKeys(100_000, seededRandom(99));
    const weightsBp = { a: 2000, b: 3000, c: 5000 };
    const shares = sharesPercent(split(weightsBp), many);
    for (const [name, weightBp] of Object.entries(weightsBp)) {
      expect(Math.abs((shares.get(name) ?? 0) - weightBp / 100)).toBeLessThanOrEqual(0.5);
    }
  });

  it("never land on a weight-0 upstream, and all land on a 100% one", () => {
    const s = split({ stable: 10_000, canary: 0 });
    for (const key of keys) expect(s.pickSticky(key)).toBe("stable");
  });
});

describe("sticky layout when a split changes", () => {
  const keys = randomKeys(20_000, seededRandom(2));
  const sample = keys.slice(0, 4000);
  const canarySteps = [0, 500, 1000, 2500, 5000, 10_000];

  /** Every key whose upstream differs between the two splits, as "from>to". */
  function moves(before: CompiledSplit, after: CompiledSplit, on: readonly string[]): string[] {
    const found: string[] = [];
    for (const key of on) {
      const from = before.pickSticky(key);
      const to = after.pickSticky(key);
      if (from !== to) found.push(`${from}>${to}`);
    }
    return found;
  }

  it("moves clients only to the canary as it goes 5 -> 10 -> 25 -> 50 -> 100, never away", () => {
    for (const isStableFirst of [true, false]) {
      const build = (canaryBp: number): CompiledSplit =>
        isStableFirst
          ? split({ stable: 10_000 - canaryBp, canary: canaryBp })
          : split({ canary: canaryBp, stable: 10_000 - canaryBp });
      for (let step = 1; step < canarySteps.length; step++) {
        const fromBp = canarySteps[step - 1]!;
        const toBp = canarySteps[step]!;
        const found = moves(build(fromBp), build(toBp), keys);
        expect(new Set(found)).toEqual(new Set(["stable>canary"]));
        // About (toBp - fromBp) / 10000 of the clients move, no more.
        const movedPercent = (found.length / keys.length) * 100;
        expect(Math.abs(movedPercent - (toBp - fromBp) / 100)).toBeLessThanOrEqual(1);
      }
    }
  });

  it("moves clients only away from the canary when it is lowered (rollback)", () => {
    for (let step = canarySteps.length - 1; step > 0; step--) {
      const fromBp = canarySteps[step]!;
      const toBp = canarySteps[step - 1]!;
      const before = split({ stable: 10_000 - fromBp, canary: fromBp });
      const after = split({ stable: 10_000 - toBp, canary: toBp });
      expect(new Set(moves(before, after, keys))).toEqual(new Set(["canary>stable"]));
    }
  });

  it("with three upstreams, moves a client X -> Y only if Y's weight grew by a larger factor", () => {
    const random = seededRandom(3);
    let total = 0;
    for (let round = 0; round < 150; round++) {
      const fromBp = randomWeights(random);
      const toBp = randomWeights(random);
      const found = moves(compileSplit(entriesOf(fromBp)), compileSplit(entriesOf(toBp)), sample);
      total += found.length;
      const weightOf = (bp: readonly number[], name: string): number =>
        bp[NAMES.indexOf(name as (typeof NAMES)[number])]!;
      // toBp[y] / fromBp[y] > toBp[x] / fromBp[x], multiplied out (fromBp[x] > 0).
      const wrong = found.filter((move) => {
        const [x = "", y = ""] = move.split(">");
        return !(weightOf(toBp, y) * weightOf(fromBp, x) > weightOf(toBp, x) * weightOf(fromBp, y));
      });
      expect(wrong, `${fromBp.join("/")} -> ${toBp.join("/")}`).toEqual([]);
    }
    expect(total).toBeGreaterThan(0);
  });

  it("with three upstreams, when U rises and the others fall or stay, no client leaves U", () => {
    const random = seededRandom(4);
    let toU = 0;
    for (let round = 0; round < 150; round++) {
      const fromBp = randomWeights(random);
      const u = Math.floor(random() * 3);
      const toBp = fromBp.map((w, i) => (i === u ? w : Math.floor(w * random())));
      toBp[u] = 10_000 - toBp.reduce((sum, w, i) => (i === u ? sum : sum + w), 0);
      const found = moves(compileSplit(entriesOf(fromBp)), compileSplit(entriesOf(toBp)), sample);
      expect(found.filter((move) => move.startsWith(`${NAMES[u]}>`))).toEqual([]);
      toU += found.filter((move) => move.endsWith(`>${NAMES[u]}`)).length;
    }
    expect(toU).toBeGreaterThan(0);
  });

  it("with three upstreams, when U rises and the others keep their proportions, clients move only to U", () => {
    const random = seededRandom(5);
    let toU = 0;
    for (let round = 0; round < 150; round++) {
      const u = Math.floor(random() * 3);
      const units = [1, 2, 3].map(() => 1 + Math.floor(random() * 10));
      units[u] = 0;
      const unitTotal = units.reduce((sum, n) => sum + n, 0);
      const bigScale = 1 + Math.floor(random() * Math.floor(10_000 / unitTotal));
      const smallScale = Math.floor(random() * bigScale);
      const weightsAt = (scale: number): number[] => {
        const w = units.map((n) => n * scale);
        w[u] = 10_000 - w.reduce((sum, n) => sum + n, 0);
        return w;
      };
      const before = compileSplit(entriesOf(weightsAt(bigScale)));
      const after = compileSplit(entriesOf(weightsAt(smallScale)));
      const found = moves(before, after, sample);
      expect(found.filter((move) => !move.endsWith(`>${NAMES[u]}`))).toEqual([]);
      toU += found.length;
    }
    expect(toU).toBeGreaterThan(0);
  });
});

describe("formatStickyCookie", () => {
  it("writes a session cookie for the whole site, hidden from scripts", () => {
    expect(formatStickyCookie("sy_id", "abc-123")).toBe(
      "sy_id=abc-123; Path=/; HttpOnly; SameSite=Lax",
    );
  });
});
