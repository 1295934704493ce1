/**
 * Window statistics against a brute-force reference: every raw sample kept, filtered by second
 * and sorted. Counts must match exactly, percentiles must be the reference value's bucket, and
 * within 5% of the reference value itself.
 */
import { describe, expect, it } from "vitest";
import {
  bucketIndex,
  bucketRepresentativeMs,
  LATENCY_BUCKET_COUNT,
  LATENCY_MAX_MS,
  LATENCY_MIN_MS,
  nearestRank,
} from "../../../src/rollout/latency-histogram.ts";
import type { WindowSummary } from "../../../src/rollout/rollout-types.ts";
import { WindowStats } from "../../../src/rollout/window-stats.ts";
import { ManualClock } from "../../support/manual-clock.ts";
import { seededRandom } from "../routing/prng.ts";
import { bimodal, logNormal, uniform, type Sampler } from "./window-stats-samplers.ts";

interface Sample {
  atMs: number;
  durationMs: number;
  isFailure: boolean;
}

const QUANTILES = [
  ["latencyP50Ms", 0.5],
  ["latencyP95Ms", 0.95],
  ["latencyP99Ms", 0.99],
] as const;

function reference(samples: readonly Sample[], windowMs: number, nowMs: number) {
  const last = Math.floor(nowMs / 1000);
  const first = last - Math.ceil(windowMs / 1000) + 1;
  const inWindow = samples.filter((s) => {
    const second = Math.floor(s.atMs / 1000);
    return second >= first && second <= last;
  });
  const sorted = inWindow.map((s) => s.durationMs).sort((a, b) => a - b);
  const failures = inWindow.filter((s) => s.isFailure).length;
  return { requests: inWindow.length, failures, sorted };
}

function expectMatches(summary: WindowSummary, expected: ReturnType<typeof reference>): void {
  expect(summary.requests).toBe(expected.requests);
  expect(summary.failures).toBe(expected.failures);
  expect(summary.errorRate).toBe(
    expected.requests === 0 ? 0 : expected.failures / expected.requests,
  );
  for (const [field, quantile] of QUANTILES) {
    if (expected.requests === 0) {
      expect(summary[field]).toBeUndefined();
      continue;
    }
    const actual = expected.sorted[nearestRank(expected.requests, quantile) - 1]!;
    expect(summary[field]).toBe(bucketRepresentativeMs(bucketIndex(actual)));
    // Outside [0.05 ms, ~150 s) a value is reported as the first or last bucket.
    if (actual >= LATENCY_MIN_MS && actual < LATENCY_MAX_MS) {
      expect(Math.abs(summary[field]! - actual) / actual).toBeLessThanOrEqual(0.05);
    }
  }
}

const SAMPLERS: Sampler[] = [
  uniform(1, 500),
  logNormal(Math.log(40), 0.8),
  bimodal(5, 900, 0.1),
  logNormal(Math.log(200), 1.5),
];

describe("window statistics against a reference", () => {
  it("match over 1 s, 2.5 s and 10 s windows through wrap-arounds, gaps and arena growth", () => {
    const random = seededRandom(11);
    const stats = new WindowStats({ clock: new ManualClock(), longestWindowMs: 10_000 });
    const samples: Sample[] = [];
    let nowMs = 123_456;
    for (let step = 0; step < 150; step++) {
      // Mostly the next second; sometimes a gap, sometimes a long one.
      const gap = random();
      nowMs += gap < 0.05 ? 15_000 + random() * 30_000 : gap < 0.15 ? 3000 : 1000 * random();
      const sampler = SAMPLERS[step % SAMPLERS.length]!;
      const count = random() < 0.1 ? 0 : Math.floor(random() * 300);
      for (let i = 0; i < count; i++) {
        const sample = { atMs: nowMs, durationMs: sampler(random), isFailure: random() < 0.07 };
        samples.push(sample);
        stats.record("web", "canary", sample.durationMs, sample.isFailure, nowMs);
      }
      for (const windowMs of [1000, 2500, 10_000]) {
        expectMatches(
          stats.summarize("web", "canary", windowMs, nowMs),
          reference(samples, windowMs, nowMs),
        );
      }
    }
  });

  it.each([
    { name: "uniform", sampler: SAMPLERS[0]! },
    { name: "log-normal", sampler: SAMPLERS[1]! },
    { name: "bimodal", sampler: SAMPLERS[2]! },
    { name: "wide log-normal", sampler: SAMPLERS[3]! },
  ])("gives p50/p95/p99 within 5% over a minute of $name latencies", ({ sampler }) => {
    const random = seededRandom(3);
    const stats = new WindowStats({ clock: new ManualClock(), longestWindowMs: 60_000 });
    const samples: Sample[] = [];
    for (let i = 0; i < 20_000; i++) {
      const sample = { atMs: i * 3, durationMs: sampler(random), isFailure: false };
      samples.push(sample);
      stats.record("web", "stable", sample.durationMs, false, sample.atMs);
    }
    const nowMs = 59_999;
    expectMatches(
      stats.summarize("web", "stable", 60_000, nowMs),
      reference(samples, 60_000, nowMs),
    );
  });
});

describe("memory", () => {
  it("stops growing once the ring has filled (10-minute window, 200 attempts/s)", () => {
    const random = seededRandom(5);
    const stats = new WindowStats({ clock: new ManualClock(), longestWindowMs: 600_000 });
    const sampler = logNormal(Math.log(50), 1);
    const footprints: number[] = [];
    for (let second = 0; second < 1500; second++) {
      for (let i = 0; i < 200; i++) {
        stats.record("web", "canary", sampler(random), false, second * 1000 + i * 5);
      }
      if (second === 700 || second === 1499) footprints.push(stats.footprintBytes());
    }
    expect(stats.ringSeconds).toBe(601);
    expect(footprints[1]).toBe(footprints[0]);
    expect(footprints[1]).toBeLessThan(300 * 1024);
  });

  it("is bounded even when every second sees every latency bucket", () => {
    const stats = new WindowStats({ clock: new ManualClock(), longestWindowMs: 60_000 });
    for (let second = 0; second < 200; second++) {
      for (let bucket = 0; bucket < LATENCY_BUCKET_COUNT; bucket++) {
        stats.record("web", "canary", bucketRepresentativeMs(bucket), false, second * 1000);
      }
    }
    const ring = stats.ringSeconds;
    // 28 bytes of columns per slot, 4 per arena entry, 1280 for the current second.
    expect(stats.footprintBytes()).toBeLessThanOrEqual(
      ring * 28 + ring * LATENCY_BUCKET_COUNT * 4 + 1280,
    );
    expect(stats.summarize("web", "canary", 60_000, 199_000).requests).toBe(
      60 * LATENCY_BUCKET_COUNT,
    );
  });
});
