/**
 * Fixed log-bucket latency histogram math. Bucket i covers [MIN * G^i, MIN * G^(i+1)) ms, so a
 * value's bucket is one logarithm away (no search) and every value in a bucket is within
 * (G - 1) / (G + 1) ≈ 2.9% of the bucket's representative. 256 buckets span 0.05 ms to about
 * 150 s; values below go to the first bucket and values above to the last. 256 buckets also let
 * a bucket index pack into 8 bits (see window-series.ts).
 */

export const LATENCY_BUCKET_COUNT = 256;
/** Lower bound of bucket 0; smaller values (and NaN, negatives) are counted in bucket 0. */
export const LATENCY_MIN_MS = 0.05;
/** Ratio between consecutive bucket bounds. */
export const LATENCY_BUCKET_GROWTH = 1.06;
/** Upper bound of the last bucket (about 150 s); larger values are counted in the last bucket. */
export const LATENCY_MAX_MS = LATENCY_MIN_MS * LATENCY_BUCKET_GROWTH ** LATENCY_BUCKET_COUNT;
/** The worst relative error of a percentile for values inside [MIN, MAX). */
export const LATENCY_MAX_RELATIVE_ERROR = (LATENCY_BUCKET_GROWTH - 1) / (LATENCY_BUCKET_GROWTH + 1);

const INV_MIN = 1 / LATENCY_MIN_MS;
const INV_LOG_GROWTH = 1 / Math.log(LATENCY_BUCKET_GROWTH);
const LAST_BUCKET = LATENCY_BUCKET_COUNT - 1;

/**
 * The representative of [lo, lo * G) that minimises the worst relative error: the harmonic
 * mean of the bounds, 2 * lo * G / (1 + G) (a little better than the geometric midpoint).
 */
const REPRESENTATIVE_MS = Float64Array.from(
  { length: LATENCY_BUCKET_COUNT },
  (_, i) =>
    (LATENCY_MIN_MS * LATENCY_BUCKET_GROWTH ** i * 2 * LATENCY_BUCKET_GROWTH) /
    (1 + LATENCY_BUCKET_GROWTH),
);

/** The bucket a duration falls in: O(1), one logarithm. */
export function bucketIndex(durationMs: number): number {
  // Written so that NaN and values at or below the minimum land in bucket 0.
  if (!(durationMs > LATENCY_MIN_MS)) return 0;
  const index = Math.floor(Math.log(durationMs * INV_MIN) * INV_LOG_GROWTH);
  return index > LAST_BUCKET ? LAST_BUCKET : index;
}

/** Inclusive lower bound of a bucket, in ms. */
export function bucketLowerMs(index: number): number {
  return LATENCY_MIN_MS * LATENCY_BUCKET_GROWTH ** index;
}

/** The value reported for every sample in a bucket, in ms. */
export function bucketRepresentativeMs(index: number): number {
  return REPRESENTATIVE_MS[index] ?? LATENCY_MAX_MS;
}

/** Nearest rank: the smallest rank r with r >= q * total (at least 1). */
export function nearestRank(total: number, quantile: number): number {
  // The small slack keeps 0.95 * 20 (= 19.000000000000004) at rank 19.
  return Math.max(1, Math.ceil(quantile * total - 1e-9));
}

/**
 * The value at `quantile` (0..1] of the samples counted in `counts` (indexed by bucket),
 * nearest rank over buckets; undefined when `total` is 0. `total` must be the sum of `counts`.
 */
export function valueAtQuantile(
  counts: ArrayLike<number>,
  total: number,
  quantile: number,
): number | undefined {
  if (total <= 0) return undefined;
  const rank = nearestRank(total, quantile);
  let seen = 0;
  for (let i = 0; i < LATENCY_BUCKET_COUNT; i++) {
    seen += counts[i] ?? 0;
    if (seen >= rank) return bucketRepresentativeMs(i);
  }
  return bucketRepresentativeMs(LAST_BUCKET);
}
