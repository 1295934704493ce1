/**
 * Window statistics for rollouts (SPEC 5): per (route, upstream), per-second counts of
 * attempts, failures (SPEC 4) and latencies, summarised over any window up to the longest
 * configured one. Attempts, not requests, are counted: a canary failure retried on the stable
 * upstream still counts against the canary.
 *
 * Time: records are stamped with `clock.now()` when the attempt is reported (a monotonic ms
 * clock; the report comes as the attempt ends). A window of W ms sums the last n = ceil(W / 1000)
 * one-second slots, the current partial second included, so it covers between n - 1 and n
 * seconds of traffic: up to a second short of W (the ±1 s edge).
 *
 * Memory per (route, upstream), ring of R = ceil(longest / 1000) + 1 seconds: 28 bytes per
 * slot, 1.25 KiB for the current second, and 4 bytes per (second, distinct latency bucket) in
 * the ring. A 10-minute window (R = 601) costs 18 KiB plus that arena: measured 43 KiB in all
 * at 10 attempts/s, 104 KiB at 50/s, 212 KiB at 200/s and above (log-normal latencies,
 * sigma 0.8), 456 KiB for a very wide spread (sigma 1.5); never more than 619 KiB.
 */
import type { Config } from "../config/schema.ts";
import type { AttemptOutcome, ProxyRecorder } from "../proxy/recorder.ts";
import type { Clock } from "../time/clock.ts";
import { LATENCY_BUCKET_COUNT, valueAtQuantile } from "./latency-histogram.ts";
import type { StatsSource, WindowSummary } from "./rollout-types.ts";
import { sparseBuckets, type SecondCounts } from "./second-counts.ts";
import { secondOf, WindowSeries, type WindowTotals } from "./window-series.ts";

export interface WindowStatsOptions {
  clock: Clock;
  /** The longest window any check or interval asks for; longer windows are cut to it. */
  longestWindowMs: number;
}

/** Slots needed for windows up to `longestWindowMs`: one per second plus the partial one. */
export function ringSizeFor(longestWindowMs: number): number {
  const seconds = Math.ceil(longestWindowMs / 1000);
  return (Number.isFinite(seconds) && seconds > 0 ? seconds : 1) + 1;
}

/** The longest rollout interval or check window in a config; 0 when no route has a rollout. */
export function longestRolloutWindowMs(config: Config): number {
  let longestMs = 0;
  for (const route of config.routes) {
    const rollout = route.rollout;
    if (rollout === undefined) continue;
    longestMs = Math.max(longestMs, rollout.interval);
    for (const check of rollout.checks) longestMs = Math.max(longestMs, check.window ?? 0);
  }
  return longestMs;
}

/** The window statistics kept: the longest window any rollout reads, and a minute at least for status. */
export function statsWindowMs(config: Config): number {
  return Math.max(60_000, longestRolloutWindowMs(config));
}

export class WindowStats implements ProxyRecorder {
  private readonly clock: Clock;
  private ringSize: number;
  private readonly routes = new Map<string, Map<string, WindowSeries>>();
  /** Per route, the first second a fresh window keeps (merged worker seconds are checked). */
  private readonly cutSeconds = new Map<string, number>();
  /** Reused by every summary: summaries run one at a time. */
  private readonly totals: WindowTotals = {
    requests: 0,
    failures: 0,
    counts: new Float64Array(LATENCY_BUCKET_COUNT),
  };

  constructor(options: WindowStatsOptions) {
    this.clock = options.clock;
    this.ringSize = ringSizeFor(options.longestWindowMs);
  }

  /** Seconds kept per series. */
  get ringSeconds(): number {
    return this.ringSize;
  }

  /** One attempt's outcome: O(1), allocation-free once the series exists and has warmed up. */
  record(
    route: string,
    upstream: string,
    durationMs: number,
    isFailure: boolean,
    nowMs: number,
  ): void {
    this.seriesOf(route, upstream).record(durationMs, isFailure, nowMs);
  }

  private seriesOf(route: string, upstream: string): WindowSeries {
    let byUpstream = this.routes.get(route);
    if (byUpstream === undefined) {
      byUpstream = new Map();
      this.routes.set(route, byUpstream);
    }
    let series = byUpstream.get(upstream);
    if (series === undefined) {
      series = new WindowSeries(this.ringSize);
      byUpstream.set(upstream, series);
    }
    return series;
  }

  /** The last ceil(windowMs / 1000) seconds up to `nowMs` (at most the ring) of one series. */
  summarize(route: string, upstream: string, windowMs: number, nowMs: number): WindowSummary {
    const totals = this.totals;
    totals.requests = 0;
    totals.failures = 0;
    totals.counts.fill(0);
    const series = this.routes.get(route)?.get(upstream);
    series?.addWindow(secondOf(nowMs), Math.max(1, Math.ceil(windowMs / 1000)), totals);
    return summaryOf(totals.requests, totals.failures, totals.counts);
  }

  /**
   * Every series' counts for one second (`secondOf` of this clock's `now()`, the monotonic
   * clock records are stamped with), series without traffic in it left out. For a closed
   * second: the caller passes one before `secondOf(clock.now())`. Off the request path.
   */
  readSecond(second: number): SecondCounts[] {
    const read: SecondCounts[] = [];
    const totals = this.totals;
    for (const [route, byUpstream] of this.routes) {
      for (const [upstream, series] of byUpstream) {
        totals.requests = 0;
        totals.failures = 0;
        totals.counts.fill(0);
        if (!series.addSecond(second, totals) || totals.requests === 0) continue;
        const { requests: attempts, failures, counts } = totals;
        read.push({ route, upstream, attempts, failures, buckets: sparseBuckets(counts) });
      }
    }
    return read;
  }

  /**
   * A worker's closed second (SPEC 11): counted in the current second as it arrives, unless
   * `originSecond` (when it was recorded, on this clock) is before its route's fresh window.
   */
  mergeSecond(records: readonly SecondCounts[], originSecond: number): void {
    const nowMs = this.clock.now();
    for (const record of records) {
      if (originSecond < (this.cutSeconds.get(record.route) ?? -Infinity)) continue;
      this.seriesOf(record.route, record.upstream).mergeSecond(record, nowMs);
    }
  }

  /** The view the decider reads: one route's series, as of `nowMs`. */
  forRoute(route: string, nowMs: number): StatsSource {
    return {
      summarize: (upstream, windowMs) => this.summarize(route, upstream, windowMs, nowMs),
    };
  }

  /**
   * A fresh window for a route: summaries leave out what was recorded before `fromMs`.
   * Exact when `fromMs` is the current time; a past `fromMs` keeps whole seconds from the one
   * containing it.
   */
  resetFrom(route: string, fromMs: number): void {
    this.cutSeconds.set(route, Math.max(this.cutSeconds.get(route) ?? -Infinity, secondOf(fromMs)));
    const byUpstream = this.routes.get(route);
    if (byUpstream === undefined) return;
    for (const series of byUpstream.values()) series.resetFrom(fromMs);
  }

  removeRoute(route: string): void {
    this.routes.delete(route);
    this.cutSeconds.delete(route);
  }

  /** After a reload: drops the series of routes that are gone. */
  retainOnly(routes: ReadonlySet<string>): void {
    for (const route of this.routes.keys()) {
      if (!routes.has(route)) this.removeRoute(route);
    }
  }

  /** After a reload that changed the longest window: keeps the newest seconds that fit. */
  resize(longestWindowMs: number): void {
    const ringSize = ringSizeFor(longestWindowMs);
    if (ringSize === this.ringSize) return;
    this.ringSize = ringSize;
    for (const byUpstream of this.routes.values()) {
      for (const series of byUpstream.values()) series.resize(ringSize);
    }
  }

  /** Bytes held in typed arrays by one series (0 when it does not exist), or by all of them. */
  footprintBytes(route?: string, upstream?: string): number {
    if (route !== undefined && upstream !== undefined) {
      return this.routes.get(route)?.get(upstream)?.footprintBytes() ?? 0;
    }
    let bytes = 0;
    for (const byUpstream of this.routes.values()) {
      for (const series of byUpstream.values()) bytes += series.footprintBytes();
    }
    return bytes;
  }

  attemptFinished(outcome: AttemptOutcome): void {
    this.record(
      outcome.route,
      outcome.upstream,
      outcome.durationMs,
      outcome.isFailure,
      this.clock.now(),
    );
  }

  requestFinished(): void {
    // Rollout checks count attempts; see attemptFinished.
  }

  /**
   * A request meant for `from` went to `to` because `from` was unavailable (breaker open, no
   * healthy endpoint): for a rollout that is `from` failing, or a canary whose breaker opened
   * would look like a canary with no traffic and never be rolled back.
   */
  fallback(route: string, from: string): void {
    this.seriesOf(route, from).recordUnserved(this.clock.now());
  }

  retry(): void {
    // The retried attempt is reported through attemptFinished.
  }
}

/**
 * A window's summary from its summed counts and latency buckets (one process's, or the
 * fleet's). Unserved requests count as failures but have no latency: percentiles use the
 * timed ones.
 */
export function summaryOf(
  requests: number,
  failures: number,
  counts: ArrayLike<number>,
): WindowSummary {
  let timed = 0;
  for (let bucket = 0; bucket < counts.length; bucket++) timed += counts[bucket] ?? 0;
  return {
    requests,
    failures,
    errorRate: requests > 0 ? failures / requests : 0,
    latencyP50Ms: valueAtQuantile(counts, timed, 0.5),
    latencyP95Ms: valueAtQuantile(counts, timed, 0.95),
    latencyP99Ms: valueAtQuantile(counts, timed, 0.99),
  };
}
