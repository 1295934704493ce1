/**
 * The fleet window: several replicas' pushed seconds sum to what one WindowStats that saw all
 * the traffic reports (percentiles from summed buckets, never averaged), and a second a
 * member should have pushed but did not is named as missing.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decodeSecond, encodeSecond } from "../../../src/fleet/stats-codec.ts";
import {
  seriesField,
  summarizeFleetWindow,
  type FleetMember,
} from "../../../src/fleet/fleet-window.ts";
import { bucketIndex, bucketRepresentativeMs } from "../../../src/rollout/latency-histogram.ts";
import type { SecondCounts } from "../../../src/rollout/second-counts.ts";
import { WindowStats } from "../../../src/rollout/window-stats.ts";
import { ManualClock } from "../../support/manual-clock.ts";

type Pushed = Map<string, Map<number, Map<string, SecondCounts>>>;

const SECONDS = 20;

function windowStats(): WindowStats {
  return new WindowStats({ clock: new ManualClock(), longestWindowMs: SECONDS * 1000 });
}

/** What a replica would push for seconds [0, SECONDS): through the codec, as Redis holds it. */
function pushedBy(stats: WindowStats, into: Pushed, replica: string, skip = new Set<number>()) {
  const seconds = new Map<number, Map<string, SecondCounts>>();
  for (let second = 0; second < SECONDS; second++) {
    if (skip.has(second)) continue;
    const decoded = decodeSecond(encodeSecond(stats.readSecond(second)));
    const series = new Map<string, SecondCounts>();
    for (const record of decoded?.records ?? []) {
      series.set(seriesField(record.route, record.upstream), record);
    }
    seconds.set(second, series);
  }
  into.set(replica, seconds);
}

const attempt = fc.record({
  replica: fc.integer({ min: 0, max: 2 }),
  atMs: fc.integer({ min: 0, max: SECONDS * 1000 - 1 }),
  upstream: fc.constantFrom("canary", "stable"),
  latencyMs: fc.oneof(fc.double({ min: 0.01, max: 5000, noNaN: true }), fc.constant(3)),
  isFailure: fc.boolean(),
  isUnserved: fc.boolean(),
});

describe("summarizeFleetWindow", () => {
  it("equals one WindowStats that saw every replica's traffic", () => {
    fc.assert(
      fc.property(fc.array(attempt, { maxLength: 300 }), fc.nat(SECONDS - 1), (all, from) => {
        const replicas = [windowStats(), windowStats(), windowStats()];
        const whole = windowStats();
        for (const a of [...all].sort((x, y) => x.atMs - y.atMs)) {
          for (const stats of [replicas[a.replica], whole]) {
            if (a.isUnserved) stats?.record("web", a.upstream, 0, true, a.atMs);
            else stats?.record("web", a.upstream, a.latencyMs, a.isFailure, a.atMs);
          }
        }
        const pushed: Pushed = new Map();
        replicas.forEach((stats, i) => {
          pushedBy(stats, pushed, `r${String(i)}`);
        });
        const members = ["r0", "r1", "r2"].map((replica) => ({ replica, joinedAtSecond: 0 }));
        for (const upstream of ["canary", "stable"]) {
          const fleet = summarizeFleetWindow({
            pushed,
            members,
            route: "web",
            upstream,
            firstSecond: from,
            lastSecond: SECONDS - 1,
          });
          const windowMs = (SECONDS - from) * 1000;
          const local = whole.summarize("web", upstream, windowMs, SECONDS * 1000 - 1);
          expect(fleet).toEqual({ ...local, missing: [] });
        }
      }),
      { numRuns: 150 },
    );
  });

  it("takes percentiles from the summed buckets, not an average of each replica's", () => {
    const fast = windowStats();
    const slow = windowStats();
    for (let i = 0; i < 90; i++) fast.record("web", "canary", 10, false, 1000);
    for (let i = 0; i < 10; i++) slow.record("web", "canary", 1000, false, 1000);
    const pushed: Pushed = new Map();
    pushedBy(fast, pushed, "r1");
    pushedBy(slow, pushed, "r2");
    const members = [
      { replica: "r1", joinedAtSecond: 0 },
      { replica: "r2", joinedAtSecond: 0 },
    ];
    const fleet = summarizeFleetWindow({
      pushed,
      members,
      route: "web",
      upstream: "canary",
      firstSecond: 0,
      lastSecond: 5,
    });
    // 90 of 100 at 10 ms: the median is 10 ms (an average of medians would say ~505 ms).
    expect(fleet.latencyP50Ms).toBe(bucketRepresentativeMs(bucketIndex(10)));
    expect(fleet.latencyP95Ms).toBe(bucketRepresentativeMs(bucketIndex(1000)));
    expect(fleet.requests).toBe(100);
  });
});

describe("missing seconds", () => {
  const stats = windowStats();
  stats.record("web", "canary", 10, false, 1500);

  function window(members: FleetMember[], pushed: Pushed) {
    return summarizeFleetWindow({
      pushed,
      members,
      route: "web",
      upstream: "canary",
      firstSecond: 0,
      lastSecond: 9,
    });
  }

  it("names the member and how many of its expected seconds are missing", () => {
    const pushed: Pushed = new Map();
    pushedBy(stats, pushed, "r1");
    pushedBy(stats, pushed, "r2", new Set([3, 4, 5, 6, 7, 8, 9]));
    const members = [
      { replica: "r1", joinedAtSecond: 0 },
      { replica: "r2", joinedAtSecond: 0 },
    ];
    const summary = window(members, pushed);
    expect(summary.missing).toEqual([{ replica: "r2", seconds: 7, of: 10 }]);
    // The partial data is still summed: decisive evidence may roll back.
    expect(summary.requests).toBe(2);
  });

  it("expects seconds only between a member's join and its leave", () => {
    const pushed: Pushed = new Map();
    pushedBy(stats, pushed, "r1", new Set([0, 1, 2, 8, 9]));
    expect(window([{ replica: "r1", joinedAtSecond: 3, leftAtSecond: 8 }], pushed).missing).toEqual(
      [],
    );
    expect(window([{ replica: "r1", joinedAtSecond: 2, leftAtSecond: 9 }], pushed).missing).toEqual(
      [{ replica: "r1", seconds: 2, of: 7 }],
    );
  });

  it("tells a quiet second (pushed, no traffic) from a missing one", () => {
    const quiet = windowStats();
    const pushed: Pushed = new Map();
    pushedBy(quiet, pushed, "r1");
    const summary = window([{ replica: "r1", joinedAtSecond: 0 }], pushed);
    expect(summary).toMatchObject({ requests: 0, missing: [] });
  });

  it("reports a member that never pushed", () => {
    const summary = window([{ replica: "r9", joinedAtSecond: 5 }], new Map());
    expect(summary.missing).toEqual([{ replica: "r9", seconds: 5, of: 5 }]);
  });
});
