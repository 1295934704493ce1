/** Generators of splits: 2-4 upstreams whose integer basis points sum to 10,000. */
import fc from "fast-check";
import { FULL_SPLIT_BP } from "../../src/config/units.ts";
import { compileSplit, type CompiledSplit } from "../../src/routing/split.ts";

export const UPSTREAM_NAMES = ["stable", "canary", "v3", "v4"] as const;

/** `count` weights in basis points summing to 10,000, from sorted cut points (zeros included). */
export function weightsBp(count: number): fc.Arbitrary<number[]> {
  return fc
    .array(fc.integer({ min: 0, max: FULL_SPLIT_BP }), {
      minLength: count - 1,
      maxLength: count - 1,
    })
    .map((cuts) => {
      const bounds = [0, ...cuts.sort((a, b) => a - b), FULL_SPLIT_BP];
      return bounds.slice(1).map((bound, i) => bound - (bounds[i] ?? 0));
    });
}

/** A split of 2-4 upstreams. */
export const anyWeightsBp: fc.Arbitrary<number[]> = fc
  .integer({ min: 2, max: UPSTREAM_NAMES.length })
  .chain(weightsBp);

/** An old and a new split of the same 2-4 upstreams. */
export const weightChange: fc.Arbitrary<[number[], number[]]> = fc
  .integer({ min: 2, max: UPSTREAM_NAMES.length })
  .chain((count) => fc.tuple(weightsBp(count), weightsBp(count)));

export function splitOf(weights: readonly number[]): CompiledSplit {
  return compileSplit(
    weights.map((weightBp, i) => ({ upstream: UPSTREAM_NAMES[i] ?? `u${i}`, weightBp })),
  );
}

/** Sticky keys as clients send them: cookie ids, user ids, any text. */
export const stickyKeys: fc.Arbitrary<string[]> = fc.uniqueArray(
  fc.oneof(fc.uuid(), fc.string({ minLength: 1, maxLength: 24 }), fc.nat().map(String)),
  { minLength: 200, maxLength: 400 },
);
