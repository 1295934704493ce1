/**
 * Sticky clients move only toward weight that rose (SPEC 3.3). Sticky picks are weighted
 * rendezvous hashing (src/routing/sticky.ts): a client moves from X to Y only when Y's weight
 * grew by a larger factor than X's. What that guarantees, each as a property below:
 * - two upstreams (every rollout): a client that moves goes to the upstream that was raised;
 * - any number: one upstream changes and the others keep their proportions: clients move only
 *   to it when it rises, only away from it when it falls;
 * - any change at all: every move X -> Y has new_Y/old_Y > new_X/old_X.
 * With three or more upstreams changed freely, a client may move to an upstream whose weight
 * fell less than its own (a: 50 -> 10, b: 30 -> 20, c: 20 -> 70 can move a client a -> b); no
 * layout with exact shares avoids that, see sticky.ts.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { FULL_SPLIT_BP } from "../../src/config/units.ts";
import type { CompiledSplit } from "../../src/routing/split.ts";
import { propertyRuns } from "./property-runs.ts";
import { splitOf, stickyKeys, weightChange, weightsBp } from "./split-arbitraries.ts";

interface Move {
  readonly key: string;
  readonly from: number;
  readonly to: number;
}

/** The keys whose upstream differs between the two splits, by upstream index. */
function movesBetween(before: CompiledSplit, after: CompiledSplit, keys: readonly string[]) {
  const indexOf = (split: CompiledSplit, name: string): number =>
    split.entries.findIndex((entry) => entry.upstream === name);
  const moves: Move[] = [];
  for (const key of keys) {
    const from = indexOf(before, before.pickSticky(key));
    const to = indexOf(after, after.pickSticky(key));
    if (from !== to) moves.push({ key, from, to });
  }
  return moves;
}

/**
 * One upstream (`changed`) takes what the others leave; the others hold `shares` scaled by
 * `oldScale`, then by `newScale`, so they keep their proportions exactly.
 */
const proportionalChange = fc
  .tuple(
    fc.array(fc.integer({ min: 0, max: 20 }), { minLength: 1, maxLength: 3 }),
    fc.nat(),
    fc.nat(),
    fc.nat(),
  )
  .filter(([shares]) => shares.some((share) => share > 0))
  .map(([shares, changedAt, a, b]) => {
    const total = shares.reduce((sum, share) => sum + share, 0);
    const maxScale = Math.floor(FULL_SPLIT_BP / total);
    const [oldScale, newScale] = [a % (maxScale + 1), b % (maxScale + 1)];
    const changed = changedAt % (shares.length + 1);
    const layout = (scale: number): number[] => {
      const others = shares.map((share) => share * scale);
      const rest = FULL_SPLIT_BP - scale * total;
      return [...others.slice(0, changed), rest, ...others.slice(changed)];
    };
    return { changed, before: layout(oldScale), after: layout(newScale) };
  });

describe("sticky moves (property)", () => {
  it("with two upstreams, move clients only to the upstream whose weight rose", () => {
    fc.assert(
      fc.property(weightsBp(2), weightsBp(2), stickyKeys, (oldBp, newBp, keys) => {
        for (const move of movesBetween(splitOf(oldBp), splitOf(newBp), keys)) {
          expect(newBp[move.to] ?? 0, `${move.key} moved`).toBeGreaterThan(oldBp[move.to] ?? 0);
        }
      }),
      propertyRuns(100),
    );
  });

  it("when one upstream changes and the others keep their proportions, move only its clients", () => {
    fc.assert(
      fc.property(proportionalChange, stickyKeys, ({ changed, before, after }, keys) => {
        const rose = (after[changed] ?? 0) > (before[changed] ?? 0);
        for (const move of movesBetween(splitOf(before), splitOf(after), keys)) {
          // Rising, it only gains clients; falling, it only loses them.
          expect(rose ? move.to : move.from, `${move.key} moved`).toBe(changed);
        }
      }),
      propertyRuns(100),
    );
  });

  it("for any change, move a client X -> Y only if Y's weight grew by a larger factor", () => {
    fc.assert(
      fc.property(weightChange, stickyKeys, ([oldBp, newBp], keys) => {
        for (const move of movesBetween(splitOf(oldBp), splitOf(newBp), keys)) {
          // new_Y / old_Y > new_X / old_X, multiplied out (old_X > 0: X held the client).
          const grewMore =
            (newBp[move.to] ?? 0) * (oldBp[move.from] ?? 0) >
            (newBp[move.from] ?? 0) * (oldBp[move.to] ?? 0);
          expect(grewMore, `${move.key} moved ${move.from} -> ${move.to}`).toBe(true);
        }
      }),
      propertyRuns(100),
    );
  });

  it("never send a client to a weight-0 upstream", () => {
    fc.assert(
      fc.property(weightChange, stickyKeys, ([, newBp], keys) => {
        const split = splitOf(newBp);
        for (const key of keys) {
          const upstream = split.pickSticky(key);
          const entry = split.entries.find((e) => e.upstream === upstream);
          expect(entry?.weightBp ?? 0, key).toBeGreaterThan(0);
        }
      }),
      propertyRuns(100),
    );
  });
});
