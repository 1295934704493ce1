import { describe, expect, it } from "vitest";
import {
  decayedEjectionCount,
  ejectionDurationMs,
  maxEjectedCount,
  OutlierDetector,
  type Ejectable,
  type OutlierDetectionConfig,
  type OutlierEjection,
} from "../../../src/upstream/outlier-detector.ts";
import { ManualClock } from "../../support/manual-clock.ts";

const BASE_MS = 30_000;

function config(overrides: Partial<OutlierDetectionConfig> = {}): OutlierDetectionConfig {
  return {
    consecutiveFailures: 3,
    baseEjectionTime: BASE_MS,
    maxEjectionPercent: 50,
    ...overrides,
  };
}

function endpoints(count: number, prefix = "http://127.0.0.1:"): Ejectable[] {
  return Array.from({ length: count }, (_, i) => ({
    url: `${prefix}${9000 + i}`,
    isEjected: false,
  }));
}

function setup(count: number, overrides: Partial<OutlierDetectionConfig> = {}) {
  const clock = new ManualClock();
  const events: string[] = [];
  const ejections: OutlierEjection<Ejectable>[] = [];
  const list = endpoints(count);
  const detector = new OutlierDetector<Ejectable>("stable", list, config(overrides), clock, (e) => {
    events.push(`${e.type} ${e.endpoint.url}`);
    if (e.type === "ejected") ejections.push(e);
  });
  return { clock, events, ejections, list, detector };
}

function fail(detector: OutlierDetector<Ejectable>, endpoint: Ejectable, times: number): void {
  for (let i = 0; i < times; i++) detector.recordFailure(endpoint);
}

describe("outlier detection decisions", () => {
  it.each([
    { count: 1, percent: 100, max: 0 },
    { count: 2, percent: 50, max: 1 },
    { count: 2, percent: 100, max: 1 },
    { count: 3, percent: 50, max: 1 },
    { count: 3, percent: 100, max: 2 },
    { count: 4, percent: 50, max: 2 },
    { count: 10, percent: 0, max: 0 },
    { count: 10, percent: 15, max: 1 },
  ])("$percent% of $count endpoints allows $max ejected", ({ count, percent, max }) => {
    expect(maxEjectedCount(count, percent)).toBe(max);
  });

  it("multiplies the base time by the ejection count, up to five minutes", () => {
    expect(ejectionDurationMs(30_000, 1)).toBe(30_000);
    expect(ejectionDurationMs(30_000, 3)).toBe(90_000);
    expect(ejectionDurationMs(30_000, 11)).toBe(300_000);
    // A base above the cap is not cut short.
    expect(ejectionDurationMs(600_000, 2)).toBe(600_000);
  });

  it("takes one off the ejection count per whole base time without an ejection", () => {
    expect(decayedEjectionCount(3, 29_999, 30_000)).toBe(3);
    expect(decayedEjectionCount(3, 30_000, 30_000)).toBe(2);
    expect(decayedEjectionCount(3, 95_000, 30_000)).toBe(0);
    expect(decayedEjectionCount(3, 1_000_000, 30_000)).toBe(0);
  });
});

describe("OutlierDetector", () => {
  it("ejects after the configured consecutive failures; a success starts the count again", () => {
    const { detector, list, events } = setup(2);
    const [a] = list as [Ejectable, Ejectable];
    fail(detector, a, 2);
    detector.recordSuccess(a);
    fail(detector, a, 2);
    expect(a.isEjected).toBe(false);
    detector.recordFailure(a);
    expect(a.isEjected).toBe(true);
    expect(events).toEqual(["ejected http://127.0.0.1:9000"]);
  });

  it("returns the endpoint when the ejection time has passed", () => {
    const { detector, list, events, ejections, clock } = setup(2);
    const [a] = list as [Ejectable, Ejectable];
    fail(detector, a, 3);
    expect(ejections[0]).toMatchObject({ upstreamName: "stable", ejectionMs: BASE_MS });
    clock.advance(BASE_MS - 1);
    expect(a.isEjected).toBe(true);
    clock.advance(1);
    expect(a.isEjected).toBe(false);
    expect(events).toEqual(["ejected http://127.0.0.1:9000", "returned http://127.0.0.1:9000"]);
    expect(clock.pendingCount).toBe(0);
  });

  it("ejects for longer each time an endpoint keeps failing, up to five minutes", () => {
    const { detector, list, ejections, clock } = setup(2);
    const [a] = list as [Ejectable, Ejectable];
    for (let round = 0; round < 12; round++) {
      fail(detector, a, 3);
      clock.advance(ejections.at(-1)?.ejectionMs ?? 0);
      expect(a.isEjected).toBe(false);
    }
    expect(ejections.map((e) => e.ejectionCount)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    expect(ejections.map((e) => e.ejectionMs / 1000)).toEqual([
      30, 60, 90, 120, 150, 180, 210, 240, 270, 300, 300, 300,
    ]);
  });

  it("lowers the multiplier again while the endpoint stays in", () => {
    const { detector, list, ejections, clock } = setup(2);
    const [a] = list as [Ejectable, Ejectable];
    for (let round = 0; round < 3; round++) {
      fail(detector, a, 3);
      clock.advance(ejections.at(-1)?.ejectionMs ?? 0);
    }
    expect(ejections.at(-1)?.ejectionCount).toBe(3);
    // Two whole base times in: the count drops from 3 to 1, so this ejection is the 2nd.
    clock.advance(2 * BASE_MS + 5000);
    fail(detector, a, 3);
    expect(ejections.at(-1)).toMatchObject({ ejectionCount: 2, ejectionMs: 2 * BASE_MS });
    clock.advance(2 * BASE_MS);
    // Long healthy: back to a first ejection.
    clock.advance(10 * BASE_MS);
    fail(detector, a, 3);
    expect(ejections.at(-1)).toMatchObject({ ejectionCount: 1, ejectionMs: BASE_MS });
  });

  it("never ejects the only endpoint", () => {
    const { detector, list, events } = setup(1, { maxEjectionPercent: 100 });
    const [a] = list as [Ejectable];
    fail(detector, a, 50);
    expect(a.isEjected).toBe(false);
    expect(events).toEqual([]);
  });

  it("ejects at most maxEjectionPercent, then ejects the next once one returned", () => {
    const { detector, list, clock, events } = setup(2);
    const [a, b] = list as [Ejectable, Ejectable];
    fail(detector, a, 3);
    clock.advance(1000);
    fail(detector, b, 10);
    expect([a.isEjected, b.isEjected]).toEqual([true, false]);
    clock.advance(BASE_MS - 1000);
    expect(a.isEjected).toBe(false);
    // b's failures stayed counted: its next failure ejects it.
    detector.recordFailure(b);
    expect(b.isEjected).toBe(true);
    expect(events).toEqual([
      "ejected http://127.0.0.1:9000",
      "returned http://127.0.0.1:9000",
      "ejected http://127.0.0.1:9001",
    ]);
  });

  it("ejects nothing with maxEjectionPercent 0", () => {
    const { detector, list } = setup(4, { maxEjectionPercent: 0 });
    for (const endpoint of list) fail(detector, endpoint, 10);
    expect(list.filter((e) => e.isEjected)).toEqual([]);
  });

  it("ignores results of an ejected endpoint and starts it afresh when it returns", () => {
    const { detector, list, clock, ejections } = setup(2);
    const [a] = list as [Ejectable, Ejectable];
    fail(detector, a, 3);
    fail(detector, a, 10);
    expect(ejections).toHaveLength(1);
    clock.advance(BASE_MS);
    fail(detector, a, 2);
    expect(a.isEjected).toBe(false);
    detector.recordFailure(a);
    expect(a.isEjected).toBe(true);
  });

  it("ignores endpoints it does not know", () => {
    const { detector } = setup(2);
    const stranger: Ejectable = { url: "http://127.0.0.1:1", isEjected: false };
    fail(detector, stranger, 10);
    detector.recordSuccess(stranger);
    expect(stranger.isEjected).toBe(false);
  });

  it("keeps the state of kept endpoints across a reload", () => {
    const { detector, list, clock, events } = setup(3, { maxEjectionPercent: 100 });
    const [a, b, c] = list as [Ejectable, Ejectable, Ejectable];
    fail(detector, a, 3);
    fail(detector, b, 2);
    fail(detector, c, 3);
    // c is removed; b comes back as a new object with the same URL; d is new.
    const bAgain: Ejectable = { url: b.url, isEjected: false };
    const d: Ejectable = { url: "http://127.0.0.1:9100", isEjected: false };
    detector.update([a, bAgain, d], config({ maxEjectionPercent: 100 }));
    expect(a.isEjected).toBe(true);
    detector.recordFailure(bAgain);
    expect(bAgain.isEjected).toBe(true);
    // c's timer was cancelled; a's and b's remain.
    expect(clock.pendingCount).toBe(2);
    clock.advance(BASE_MS);
    expect([a.isEjected, bAgain.isEjected, d.isEjected]).toEqual([false, false, false]);
    expect(events).not.toContain("returned http://127.0.0.1:9002");
  });

  it("carries an ejection over to a new Endpoint object with the same URL", () => {
    const { detector, list, clock } = setup(2);
    const [a, b] = list as [Ejectable, Ejectable];
    fail(detector, a, 3);
    const aAgain: Ejectable = { url: a.url, isEjected: false };
    detector.update([aAgain, b], config());
    expect(aAgain.isEjected).toBe(true);
    clock.advance(BASE_MS);
    expect(aAgain.isEjected).toBe(false);
  });

  it("returns the soonest-due endpoints when a reload leaves too many ejected", () => {
    const { detector, list, clock, events } = setup(4, { maxEjectionPercent: 75 });
    const [a, b, c] = list as [Ejectable, Ejectable, Ejectable, Ejectable];
    fail(detector, a, 3);
    clock.advance(1000);
    fail(detector, b, 3);
    clock.advance(1000);
    fail(detector, c, 3);
    events.length = 0;
    // d goes: 3 endpoints at 50% allow 1 ejected, so a and b (due first) return now.
    detector.update([a, b, c], config({ maxEjectionPercent: 50 }));
    expect([a.isEjected, b.isEjected, c.isEjected]).toEqual([false, false, true]);
    expect(events).toEqual(["returned http://127.0.0.1:9000", "returned http://127.0.0.1:9001"]);
    expect(clock.pendingCount).toBe(1);
  });

  it("never leaves every endpoint out after a reload", () => {
    const { detector, list } = setup(2);
    const [a] = list as [Ejectable, Ejectable];
    fail(detector, a, 3);
    detector.update([a], config());
    expect(a.isEjected).toBe(false);
  });

  it("applies a reloaded threshold to the next failures", () => {
    const { detector, list } = setup(2);
    const [a] = list as [Ejectable, Ejectable];
    fail(detector, a, 2);
    detector.update(list, config({ consecutiveFailures: 5 }));
    fail(detector, a, 2);
    expect(a.isEjected).toBe(false);
    detector.recordFailure(a);
    expect(a.isEjected).toBe(true);
  });

  it("cancels its timers on stop", () => {
    const { detector, list, clock, events } = setup(2);
    fail(detector, list[0] as Ejectable, 3);
    detector.stop();
    expect(clock.pendingCount).toBe(0);
    clock.advance(10 * BASE_MS);
    expect(events).toEqual(["ejected http://127.0.0.1:9000"]);
  });
});
