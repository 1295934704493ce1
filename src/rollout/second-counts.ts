/**
 * One second of one (route, upstream) series as plain data: what a fleet replica pushes and
 * the leader sums. Counts and latency buckets only, never percentiles: buckets add up exactly
 * across replicas, percentiles do not.
 */
import { LATENCY_BUCKET_COUNT } from "./latency-histogram.ts";

export interface SecondCounts {
  route: string;
  upstream: string;
  /** Attempts, unserved ones included (they count as failures without a latency). */
  attempts: number;
  failures: number;
  /** Non-zero latency buckets as [bucket index, count], by increasing index. */
  buckets: Array<readonly [bucket: number, count: number]>;
}

/** The non-zero entries of a dense histogram (indexed by bucket). */
export function sparseBuckets(counts: ArrayLike<number>): SecondCounts["buckets"] {
  const buckets: SecondCounts["buckets"] = [];
  for (let bucket = 0; bucket < LATENCY_BUCKET_COUNT; bucket++) {
    const count = counts[bucket] ?? 0;
    if (count > 0) buckets.push([bucket, count]);
  }
  return buckets;
}
