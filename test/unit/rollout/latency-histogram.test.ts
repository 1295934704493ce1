import { describe, expect, it } from "vitest";
import {
  bucketIndex,
  bucketLowerMs,
  bucketRepresentativeMs,
  LATENCY_BUCKET_COUNT,
  LATENCY_MAX_MS,
  LATENCY_MAX_RELATIVE_ERROR,
  LATENCY_MIN_MS,
  nearestRank,
  valueAtQuantile,
} from "../../../src/rollout/latency-histogram.ts";
import { seededRandom } from "../routing/prng.ts";
import { bimodal, logNormal, uniform, type Sampler } from "./window-stats-samplers.ts";

function relativeError(estimate: number | undefined, actual: number): number {
  if (estimate === undefined) return Infinity;
  return Math.abs(estimate - actual) / actual;
}

function histogramOf(values: readonly number[]): Float64Array {
  const counts = new Float64Array(LATENCY_BUCKET_COUNT);
  for (const value of values) counts[bucketIndex(value)]! += 1;
  return counts;
}

describe("buckets", () => {
  it("span 0.05 ms to over 2 minutes with a worst relative error under 3%", () => {
    expect(LATENCY_MIN_MS).toBe(0.05);
    expect(LATENCY_MAX_MS).toBeGreaterThan(120_000);
    expect(LATENCY_MAX_RELATIVE_ERROR).toBeLessThan(0.03);
  });

  it("put every value between its bucket's bounds, monotonically", () => {
    let previous = 0;
    for (let value = LATENCY_MIN_MS; value < LATENCY_MAX_MS; value *= 1.0037) {
      const index = bucketIndex(value);
      expect(index).toBeGreaterThanOrEqual(previous);
      expect(value).toBeGreaterThanOrEqual(bucketLowerMs(index) * (1 - 1e-12));
      expect(value).toBeLessThan(bucketLowerMs(index + 1) * (1 + 1e-12));
      previous = index;
    }
    expect(previous).toBe(LATENCY_BUCKET_COUNT - 1);
  });

  it("report every value in [min, max) within the worst relative error", () => {
    let worst = 0;
    for (let value = LATENCY_MIN_MS; value < LATENCY_MAX_MS; value *= 1.0011) {
      worst = Math.max(worst, relativeError(bucketRepresentativeMs(bucketIndex(value)), value));
    }
    expect(worst).toBeLessThanOrEqual(LATENCY_MAX_RELATIVE_ERROR + 1e-9);
    expect(worst).toBeGreaterThan(LATENCY_MAX_RELATIVE_ERROR * 0.9);
  });

  it("send out-of-range and invalid values to the first or last bucket", () => {
    expect(bucketIndex(0)).toBe(0);
    expect(bucketIndex(0.001)).toBe(0);
    expect(bucketIndex(-5)).toBe(0);
    expect(bucketIndex(Number.NaN)).toBe(0);
    expect(bucketIndex(1e9)).toBe(LATENCY_BUCKET_COUNT - 1);
    expect(bucketIndex(Infinity)).toBe(LATENCY_BUCKET_COUNT - 1);
    expect(Number.isFinite(bucketRepresentativeMs(0))).toBe(true);
  });
});

describe("nearestRank", () => {
  it.each([
    [100, 0.5, 50],
    [100, 0.95, 95],
    [20, 0.95, 19],
    [1, 0.99, 1],
    [3, 0.5, 2],
    [1000, 0.99, 990],
  ])("of %i samples at %f is %i", (total, quantile, rank) => {
    expect(nearestRank(total, quantile)).toBe(rank);
  });
});

describe("valueAtQuantile", () => {
  it("is undefined without samples", () => {
    expect(valueAtQuantile(new Float64Array(LATENCY_BUCKET_COUNT), 0, 0.5)).toBeUndefined();
  });

  it("gives the one sample's bucket at every quantile", () => {
    const counts = histogramOf([42]);
    for (const quantile of [0.01, 0.5, 0.95, 0.99, 1]) {
      expect(relativeError(valueAtQuantile(counts, 1, quantile), 42)).toBeLessThan(0.03);
    }
  });

  const samplers: [string, Sampler][] = [
    ["uniform 1..500 ms", uniform(1, 500)],
    ["log-normal around 40 ms", logNormal(Math.log(40), 0.8)],
    ["bimodal 5 ms / 900 ms", bimodal(5, 900, 0.1)],
    ["log-normal sub-millisecond", logNormal(Math.log(0.4), 0.5)],
  ];
  it.each(samplers)("matches a sorted reference within 5%% (%s)", (_, sampler) => {
    const random = seededRandom(7);
    for (const size of [10, 137, 5000]) {
      const values = Array.from({ length: size }, () => sampler(random));
      const sorted = [...values].sort((a, b) => a - b);
      const counts = histogramOf(values);
      for (const quantile of [0.5, 0.95, 0.99]) {
        const actual = sorted[nearestRank(size, quantile) - 1]!;
        const estimate = valueAtQuantile(counts, size, quantile);
        expect(relativeError(estimate, actual)).toBeLessThanOrEqual(0.05);
        expect(relativeError(estimate, actual)).toBeLessThanOrEqual(LATENCY_MAX_RELATIVE_ERROR);
      }
    }
  });
});
