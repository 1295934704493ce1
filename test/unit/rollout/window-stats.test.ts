import { describe, expect, it } from "vitest";
import { configSchema } from "../../../src/config/schema.ts";
import type { Endpoint } from "../../../src/upstream/endpoint.ts";
import type { WindowSummary } from "../../../src/rollout/rollout-types.ts";
import {
  longestRolloutWindowMs,
  ringSizeFor,
  WindowStats,
} from "../../../src/rollout/window-stats.ts";
import { ManualClock } from "../../support/manual-clock.ts";

const EMPTY: WindowSummary = {
  requests: 0,
  failures: 0,
  errorRate: 0,
  latencyP50Ms: undefined,
  latencyP95Ms: undefined,
  latencyP99Ms: undefined,
};

function stats(longestWindowMs = 60_000, clock = new ManualClock()): WindowStats {
  return new WindowStats({ clock, longestWindowMs });
}

function expectNoNaN(summary: WindowSummary): void {
  for (const value of Object.values(summary) as (number | undefined)[]) {
    if (value !== undefined) expect(Number.isFinite(value)).toBe(true);
  }
}

/** One record per second at seconds 0..count-1 (at .200), latency 10 * (second + 1) ms. */
function recordEverySecond(window: WindowStats, count: number, upstream = "canary"): void {
  for (let second = 0; second < count; second++) {
    window.record("web", upstream, 10 * (second + 1), second % 2 === 0, second * 1000 + 200);
  }
}

describe("counts and error rate", () => {
  it("are exact", () => {
    const window = stats();
    for (let i = 0; i < 1000; i++) window.record("web", "canary", 20, i % 8 === 0, 5000 + i);
    const summary = window.summarize("web", "canary", 60_000, 6000);
    expect(summary.requests).toBe(1000);
    expect(summary.failures).toBe(125);
    expect(summary.errorRate).toBe(0.125);
    expectNoNaN(summary);
  });

  it("keep routes and upstreams apart", () => {
    const window = stats();
    window.record("web", "canary", 10, true, 1000);
    window.record("web", "stable", 10, false, 1000);
    window.record("web", "stable", 10, false, 1000);
    window.record("api", "canary", 10, false, 1000);
    expect(window.summarize("web", "canary", 10_000, 1500)).toMatchObject({
      requests: 1,
      failures: 1,
      errorRate: 1,
    });
    expect(window.summarize("web", "stable", 10_000, 1500)).toMatchObject({
      requests: 2,
      failures: 0,
      errorRate: 0,
    });
    expect(window.summarize("api", "canary", 10_000, 1500).requests).toBe(1);
  });

  it("give errorRate 0 and no percentiles without requests, and never NaN", () => {
    const window = stats();
    expect(window.summarize("web", "canary", 60_000, 0)).toEqual(EMPTY);
    window.record("web", "canary", Number.NaN, true, 0);
    window.record("web", "canary", -3, false, 0);
    window.record("web", "canary", Infinity, false, 0);
    const summary = window.summarize("web", "canary", 60_000, 0);
    expect(summary.requests).toBe(3);
    expectNoNaN(summary);
    expect(window.summarize("web", "stable", 60_000, 0)).toEqual(EMPTY);
    expect(window.summarize("web", "canary", Number.NaN, 0)).toEqual(EMPTY);
  });
});

describe("windows", () => {
  it("sum the last ceil(window / 1 s) seconds, the current one included", () => {
    const window = stats();
    recordEverySecond(window, 10);
    const now = 9500;
    expect(window.summarize("web", "canary", 1000, now)).toMatchObject({
      requests: 1,
      failures: 0,
      latencyP50Ms: expect.closeTo(100, -1) as number,
    });
    expect(window.summarize("web", "canary", 5000, now)).toMatchObject({
      requests: 5,
      failures: 2,
    });
    expect(window.summarize("web", "canary", 4001, now).requests).toBe(5);
    expect(window.summarize("web", "canary", 60_000, now)).toMatchObject({
      requests: 10,
      failures: 5,
      errorRate: 0.5,
    });
    const p50 = window.summarize("web", "canary", 5000, now).latencyP50Ms ?? 0;
    expect(Math.abs(p50 - 80) / 80).toBeLessThan(0.03);
  });

  it("let old seconds expire", () => {
    const window = stats(10_000);
    recordEverySecond(window, 5);
    expect(window.summarize("web", "canary", 10_000, 13_000).requests).toBe(1);
    expect(window.summarize("web", "canary", 10_000, 14_000)).toEqual(EMPTY);
    window.record("web", "canary", 10, false, 20_000);
    expect(window.summarize("web", "canary", 10_000, 20_000).requests).toBe(1);
  });

  it("reach back at most the ring's length", () => {
    const window = stats(10_000);
    expect(window.ringSeconds).toBe(11);
    recordEverySecond(window, 40);
    expect(window.summarize("web", "canary", 600_000, 39_500).requests).toBe(11);
  });

  it("survive wrap-around after a gap longer than the ring", () => {
    const window = stats(10_000);
    recordEverySecond(window, 8);
    // 1001 and 1002 share slots with seconds 0..7 (1001 mod 11 = 0).
    window.record("web", "canary", 500, true, 1_001_100);
    window.record("web", "canary", 700, false, 1_002_100);
    const summary = window.summarize("web", "canary", 10_000, 1_002_900);
    expect(summary).toMatchObject({ requests: 2, failures: 1, errorRate: 0.5 });
    expect(Math.abs((summary.latencyP99Ms ?? 0) - 700) / 700).toBeLessThan(0.03);
    expect(Math.abs((summary.latencyP50Ms ?? 0) - 500) / 500).toBeLessThan(0.03);
  });

  it("keep a second recorded just before a gap shorter than the ring", () => {
    const window = stats(10_000);
    window.record("web", "canary", 10, false, 0);
    window.record("web", "canary", 20, false, 9_900);
    expect(window.summarize("web", "canary", 10_000, 9_900).requests).toBe(2);
  });

  it("count a record whose clock stepped back in the current second", () => {
    const window = stats();
    window.record("web", "canary", 10, false, 5_000);
    window.record("web", "canary", 10, false, 3_000);
    expect(window.summarize("web", "canary", 1000, 5_000).requests).toBe(2);
  });
});

describe("resetFrom", () => {
  it("starts a fresh window, exactly, when called with the current time", () => {
    const window = stats();
    recordEverySecond(window, 6, "canary");
    recordEverySecond(window, 6, "stable");
    window.record("api", "canary", 10, false, 5_300);
    window.resetFrom("web", 5_300);
    expect(window.summarize("web", "canary", 60_000, 5_300)).toEqual(EMPTY);
    window.record("web", "canary", 40, true, 5_700);
    window.record("web", "canary", 40, false, 7_100);
    expect(window.summarize("web", "canary", 60_000, 7_500)).toMatchObject({
      requests: 2,
      failures: 1,
    });
    expect(window.summarize("web", "stable", 60_000, 7_500)).toEqual(EMPTY);
    expect(window.summarize("api", "canary", 60_000, 7_500).requests).toBe(1);
  });

  it("with a past time keeps whole seconds from the one containing it", () => {
    const window = stats();
    recordEverySecond(window, 6);
    window.resetFrom("web", 3_900);
    expect(window.summarize("web", "canary", 60_000, 5_500).requests).toBe(3);
  });

  it("ignores routes without records", () => {
    const window = stats();
    window.resetFrom("nothing", 1000);
    expect(window.summarize("nothing", "canary", 60_000, 1000)).toEqual(EMPTY);
  });
});

describe("routes and reloads", () => {
  it("removeRoute and retainOnly drop series", () => {
    const window = stats();
    for (const route of ["web", "api", "admin"]) window.record(route, "stable", 10, false, 0);
    window.removeRoute("admin");
    expect(window.summarize("admin", "stable", 1000, 0)).toEqual(EMPTY);
    window.retainOnly(new Set(["api"]));
    expect(window.summarize("web", "stable", 1000, 0)).toEqual(EMPTY);
    expect(window.summarize("api", "stable", 1000, 0).requests).toBe(1);
    expect(window.footprintBytes("web", "stable")).toBe(0);
  });

  it("resize keeps the newest seconds that fit", () => {
    const window = stats(10_000);
    recordEverySecond(window, 10);
    window.resize(3000);
    expect(window.ringSeconds).toBe(4);
    expect(window.summarize("web", "canary", 60_000, 9_500).requests).toBe(4);
    window.resize(120_000);
    expect(window.ringSeconds).toBe(121);
    expect(window.summarize("web", "canary", 60_000, 9_500).requests).toBe(4);
    window.record("web", "canary", 10, false, 9_800);
    window.record("web", "canary", 10, false, 30_000);
    const summary = window.summarize("web", "canary", 120_000, 30_000);
    expect(summary.requests).toBe(6);
    // 10, 10, 70, 80, 90, 100 ms: the kept seconds' latencies survived both resizes.
    expect(Math.abs((summary.latencyP50Ms ?? 0) - 70) / 70).toBeLessThan(0.03);
    expect(Math.abs((summary.latencyP99Ms ?? 0) - 100) / 100).toBeLessThan(0.03);
  });

  it("ringSizeFor and longestRolloutWindowMs size the ring from the config", () => {
    expect(ringSizeFor(300_000)).toBe(301);
    expect(ringSizeFor(1500)).toBe(3);
    expect(ringSizeFor(0)).toBe(2);
    const upstreams = {
      a: { endpoints: ["http://127.0.0.1:1"] },
      b: { endpoints: ["http://127.0.0.1:2"] },
    };
    const plain = { name: "plain", split: { a: 100 } };
    const web = {
      name: "web",
      split: { a: 95, b: 5 },
      rollout: {
        target: "b",
        baseline: "a",
        interval: "1m",
        checks: [{ metric: "errorRate", max: 0.1, window: "10m" }],
      },
    };
    const withRollout = configSchema.parse({ upstreams, routes: [plain, web] });
    expect(longestRolloutWindowMs(withRollout)).toBe(600_000);
    const defaults = configSchema.parse({
      upstreams,
      routes: [{ ...web, rollout: { target: "b", baseline: "a" } }],
    });
    expect(longestRolloutWindowMs(defaults)).toBe(300_000);
    expect(longestRolloutWindowMs(configSchema.parse({ upstreams, routes: [plain] }))).toBe(0);
  });
});

describe("as a recorder and a stats source", () => {
  const endpoint = { url: "http://127.0.0.1:1" } as unknown as Endpoint;

  it("records attempts at the clock's time and ignores the rest", () => {
    const clock = new ManualClock(10_000);
    const window = stats(60_000, clock);
    window.attemptFinished({
      route: "web",
      upstream: "canary",
      endpoint,
      status: 0,
      durationMs: 30,
      isFailure: true,
    });
    clock.advance(2000);
    window.attemptFinished({
      route: "web",
      upstream: "stable",
      endpoint,
      status: 200,
      durationMs: 12,
      isFailure: false,
    });
    window.requestFinished();
    window.retry();
    expect(window.summarize("web", "canary", 1000, 10_500)).toMatchObject({
      requests: 1,
      failures: 1,
    });
    expect(window.summarize("web", "canary", 1000, 12_000).requests).toBe(0);
    const source = window.forRoute("web", clock.now());
    expect(source.summarize("stable", 1000)).toMatchObject({ requests: 1, failures: 0 });
    expect(source.summarize("canary", 5000)).toMatchObject({ requests: 1, errorRate: 1 });
  });
});

describe("requests an unavailable upstream could not take", () => {
  it("count as failures of that upstream, with no latency", () => {
    const clock = new ManualClock(10_000);
    const window = new WindowStats({ clock, longestWindowMs: 10_000 });
    window.record("web", "canary", 40, false, clock.now());
    window.fallback("web", "canary");
    window.fallback("web", "canary");
    const summary = window.summarize("web", "canary", 5000, clock.now());
    expect(summary).toMatchObject({ requests: 3, failures: 2 });
    // Percentiles come from the one timed request only.
    expect(summary.latencyP50Ms).toBeGreaterThan(38);
    expect(summary.latencyP99Ms).toBeLessThan(42);
    expect(window.summarize("web", "stable", 5000, clock.now()).requests).toBe(0);
  });
});

describe("mergeSecond: a worker's closed second (SPEC 11)", () => {
  it("counts another process's second, buckets included, where it arrives", () => {
    const clock = new ManualClock(10_000);
    const primary = stats(60_000, clock);
    const worker = stats(60_000, new ManualClock(0));
    for (let i = 0; i < 10; i++) worker.record("web", "canary", 20 + i, i < 3, 500);
    const [record] = worker.readSecond(0);
    primary.mergeSecond(record === undefined ? [] : [record], 9);
    primary.record("web", "canary", 25, false, 10_000);
    expect(primary.summarize("web", "canary", 10_000, 10_000)).toMatchObject({
      requests: 11,
      failures: 3,
      latencyP50Ms: primary.summarize("web", "canary", 10_000, 10_000).latencyP50Ms,
    });
    const alone = stats(60_000, new ManualClock(0));
    for (let i = 0; i < 10; i++) alone.record("web", "canary", 20 + i, i < 3, 10_000);
    alone.record("web", "canary", 25, false, 10_000);
    expect(primary.summarize("web", "canary", 10_000, 10_000)).toEqual(
      alone.summarize("web", "canary", 10_000, 10_000),
    );
  });

  it("leaves out a second recorded before a fresh window", () => {
    const clock = new ManualClock(20_000);
    const primary = stats(60_000, clock);
    primary.resetFrom("web", 20_000);
    const counts = { route: "web", upstream: "canary", attempts: 5, failures: 5, buckets: [] };
    primary.mergeSecond([counts], 19);
    expect(primary.summarize("web", "canary", 10_000, 20_000).requests).toBe(0);
    primary.mergeSecond([counts], 20);
    expect(primary.summarize("web", "canary", 10_000, 20_000).requests).toBe(5);
  });
});
