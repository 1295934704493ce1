/** WindowStats.readSecond: one closed second of every series, as plain counts and buckets. */
import { describe, expect, it } from "vitest";
import { bucketIndex } from "../../../src/rollout/latency-histogram.ts";
import { WindowStats } from "../../../src/rollout/window-stats.ts";
import { ManualClock } from "../../support/manual-clock.ts";

function stats(longestWindowMs = 10_000): WindowStats {
  return new WindowStats({ clock: new ManualClock(), longestWindowMs });
}

describe("readSecond", () => {
  it("gives each series' attempts, failures and sparse buckets for that second only", () => {
    const window = stats();
    window.record("web", "canary", 10, false, 1100);
    window.record("web", "canary", 10, true, 1200);
    window.record("web", "canary", 500, false, 1900);
    window.record("web", "stable", 20, false, 1500);
    window.record("web", "canary", 10, false, 2100);
    expect(window.readSecond(1)).toEqual([
      {
        route: "web",
        upstream: "canary",
        attempts: 3,
        failures: 1,
        buckets: [
          [bucketIndex(10), 2],
          [bucketIndex(500), 1],
        ],
      },
      {
        route: "web",
        upstream: "stable",
        attempts: 1,
        failures: 0,
        buckets: [[bucketIndex(20), 1]],
      },
    ]);
  });

  it("reads the last second recorded even before a later record closes it", () => {
    const window = stats();
    window.record("web", "canary", 10, false, 3100);
    expect(window.readSecond(3)).toEqual([
      {
        route: "web",
        upstream: "canary",
        attempts: 1,
        failures: 0,
        buckets: [[bucketIndex(10), 1]],
      },
    ]);
  });

  it("counts unserved attempts as failures without a latency", () => {
    const clock = new ManualClock(4200);
    const window = new WindowStats({ clock, longestWindowMs: 10_000 });
    window.fallback("web", "canary");
    expect(window.readSecond(4)).toEqual([
      { route: "web", upstream: "canary", attempts: 1, failures: 1, buckets: [] },
    ]);
  });

  it("leaves out seconds without traffic and seconds gone from the ring", () => {
    const window = stats(3000);
    window.record("web", "canary", 10, false, 1100);
    window.record("web", "canary", 10, false, 3100);
    expect(window.readSecond(2)).toEqual([]);
    window.record("web", "canary", 10, false, 9100);
    expect(window.readSecond(1)).toEqual([]);
    expect(window.readSecond(3)).toEqual([]);
    expect(window.readSecond(9)).toHaveLength(1);
  });

  it("ignores a fresh window's cut: replicas push raw seconds", () => {
    const window = stats();
    window.record("web", "canary", 10, false, 1100);
    window.record("web", "canary", 10, false, 2100);
    window.resetFrom("web", 2500);
    expect(window.readSecond(1)[0]?.attempts).toBe(1);
    expect(window.summarize("web", "canary", 10_000, 2600).requests).toBe(0);
  });

  it("sums seconds to what summarize gives for the same window", () => {
    const window = stats(60_000);
    for (let i = 0; i < 500; i++) {
      window.record("web", "canary", (i * 37) % 900, i % 7 === 0, 1000 + i * 20);
    }
    let attempts = 0;
    let failures = 0;
    for (let second = 1; second <= 10; second++) {
      for (const record of window.readSecond(second)) {
        attempts += record.attempts;
        failures += record.failures;
      }
    }
    const summary = window.summarize("web", "canary", 10_000, 10_999);
    expect({ attempts, failures }).toEqual({
      attempts: summary.requests,
      failures: summary.failures,
    });
  });
});
