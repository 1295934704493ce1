/**
 * A route's split compiled once per snapshot: random picks over 10,000 buckets, sticky picks by
 * rendezvous hashing (see sticky.ts), and the weighted pick among available upstreams that
 * fallback uses.
 */
import { FULL_SPLIT_BP } from "../config/units.ts";
import { hashKey } from "./hash.ts";
import { pickRendezvous } from "./sticky.ts";

export type SplitEntry = { readonly upstream: string; readonly weightBp: number };

export class CompiledSplit {
  /** The entries in split order, as given. */
  readonly entries: readonly SplitEntry[];
  /** `bucketEndsBp[i]` is the exclusive end of entry i's bucket range (ranges in split order). */
  readonly #bucketEndsBp: Uint32Array;
  readonly #weightsBp: Uint32Array;
  readonly #seeds: Uint32Array;
  readonly #names: readonly string[];

  constructor(entries: readonly SplitEntry[]) {
    validateEntries(entries);
    this.entries = Object.freeze(entries.map((e) => Object.freeze({ ...e })));
    this.#names = entries.map((e) => e.upstream);
    this.#weightsBp = Uint32Array.from(entries, (e) => e.weightBp);
    this.#seeds = Uint32Array.from(entries, (e) => hashKey(e.upstream));
    this.#bucketEndsBp = new Uint32Array(entries.length);
    let endBp = 0;
    entries.forEach((e, i) => {
      endBp += e.weightBp;
      this.#bucketEndsBp[i] = endBp;
    });
  }

  /** The upstream owning `bucket` (0..9999); buckets are consecutive ranges in split order. */
  pickByBucket(bucket: number): string {
    const ends = this.#bucketEndsBp;
    // Splits hold a handful of upstreams: a linear scan beats a 10,000-entry lookup table.
    for (let i = 0; i < ends.length; i++) {
      if (bucket < (ends[i] ?? 0)) return this.#names[i] ?? "";
    }
    return this.#lastWeightedName();
  }

  /** A random pick in proportion to the weights; `random` returns a number in [0, 1). */
  pickRandom(random: () => number): string {
    return this.pickByBucket(Math.floor(random() * FULL_SPLIT_BP));
  }

  /** The upstream a sticky key lands on: stable for a key and split, see sticky.ts. */
  pickSticky(key: string): string {
    return this.pickStickyByHash(hashKey(key));
  }

  /** As pickSticky, for a key already hashed with `hashKey`. */
  pickStickyByHash(keyHash: number): string {
    const index = pickRendezvous(keyHash, this.#seeds, this.#weightsBp);
    return this.#names[index] ?? "";
  }

  #lastWeightedName(): string {
    for (let i = this.entries.length - 1; i >= 0; i--) {
      if ((this.#weightsBp[i] ?? 0) > 0) return this.#names[i] ?? "";
    }
    return "";
  }
}

export function compileSplit(entries: readonly SplitEntry[]): CompiledSplit {
  return new CompiledSplit(entries);
}

/**
 * Fallback pick: among the upstreams for which `isAvailable` holds, in proportion to their
 * weights. If the available upstreams all have weight 0 (say canary at 100% and its breaker
 * open), one of them is picked uniformly, because a fallback must still serve when something
 * can. `undefined` when nothing is available. `isAvailable` is called up to twice per entry
 * and must answer the same both times.
 */
export function pickAvailable(
  split: CompiledSplit,
  isAvailable: (upstream: string) => boolean,
  random: () => number,
): string | undefined {
  const entries = split.entries;
  let availableCount = 0;
  let availableBp = 0;
  let lastAvailable: string | undefined;
  for (const entry of entries) {
    if (!isAvailable(entry.upstream)) continue;
    availableCount++;
    availableBp += entry.weightBp;
    lastAvailable = entry.upstream;
  }
  if (availableCount === 0) return undefined;

  const isUniform = availableBp === 0;
  let remaining = Math.floor(random() * (isUniform ? availableCount : availableBp));
  for (const entry of entries) {
    if (!isAvailable(entry.upstream)) continue;
    const share = isUniform ? 1 : entry.weightBp;
    if (remaining < share) return entry.upstream;
    remaining -= share;
  }
  return lastAvailable;
}

function validateEntries(entries: readonly SplitEntry[]): void {
  if (entries.length === 0) throw new RangeError("a split needs at least one upstream");
  const seen = new Set<string>();
  let totalBp = 0;
  for (const { upstream, weightBp } of entries) {
    if (seen.has(upstream)) throw new RangeError(`upstream "${upstream}" appears twice`);
    seen.add(upstream);
    if (!Number.isInteger(weightBp) || weightBp < 0 || weightBp > FULL_SPLIT_BP) {
      throw new RangeError(`weight of "${upstream}" must be an integer in 0..${FULL_SPLIT_BP}`);
    }
    totalBp += weightBp;
  }
  if (totalBp !== FULL_SPLIT_BP) {
    throw new RangeError(`weights sum to ${totalBp} basis points, not ${FULL_SPLIT_BP}`);
  }
}
