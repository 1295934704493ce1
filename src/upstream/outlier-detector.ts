/**
 * Passive outlier detection for one upstream: an endpoint whose real requests fail
 * `consecutiveFailures` times in a row is ejected (its `isEjected` flag set) for
 * `baseEjectionTime × n`, where n counts its recent ejections, capped at 5 minutes. Each whole
 * `baseEjectionTime` it then stays in without an ejection takes one off n, so an endpoint that
 * recovered is treated as new again. At most `maxEjectionPercent` of the endpoints (rounded
 * down) are out at once, and never all of them. A Clock timer ends each ejection.
 */
import type { UpstreamConfig } from "../config/schema.ts";
import type { Clock, TimerHandle } from "../time/clock.ts";
import type { Endpoint } from "./endpoint.ts";

export type OutlierDetectionConfig = UpstreamConfig["outlierDetection"];

/** The part of an endpoint the detector reads and writes. */
export interface Ejectable {
  readonly url: string;
  isEjected: boolean;
}

export interface OutlierEjection<E extends Ejectable = Endpoint> {
  readonly type: "ejected";
  readonly upstreamName: string;
  readonly endpoint: E;
  readonly ejectionMs: number;
  /** 1 for a first ejection, 2 for one soon after the previous, ... */
  readonly ejectionCount: number;
}

export interface OutlierReturn<E extends Ejectable = Endpoint> {
  readonly type: "returned";
  readonly upstreamName: string;
  readonly endpoint: E;
}

export type OutlierEvent<E extends Ejectable = Endpoint> = OutlierEjection<E> | OutlierReturn<E>;

export type OutlierListener<E extends Ejectable = Endpoint> = (event: OutlierEvent<E>) => void;

export const MAX_EJECTION_MS = 5 * 60_000;

/** How long the `ejectionCount`-th ejection lasts; a base above the cap is used as is. */
export function ejectionDurationMs(baseEjectionMs: number, ejectionCount: number): number {
  return Math.min(baseEjectionMs * ejectionCount, Math.max(MAX_EJECTION_MS, baseEjectionMs));
}

/** The ejection count left after `inMs` without an ejection: one less per whole base time. */
export function decayedEjectionCount(
  ejectionCount: number,
  inMs: number,
  baseEjectionMs: number,
): number {
  if (baseEjectionMs <= 0) return 0;
  return Math.max(0, ejectionCount - Math.floor(inMs / baseEjectionMs));
}

/** How many of `endpointCount` endpoints may be ejected at once. */
export function maxEjectedCount(endpointCount: number, maxEjectionPercent: number): number {
  const byPercent = Math.floor((endpointCount * maxEjectionPercent) / 100);
  return Math.max(0, Math.min(byPercent, endpointCount - 1));
}

class EndpointState<E extends Ejectable> {
  endpoint: E;
  consecutiveFailures = 0;
  ejectionCount = 0;
  /** When the last ejection ended: the ejection count decays from here. */
  returnedAtMs = 0;
  ejectedUntilMs = 0;
  /** Set while ejected. */
  timer: TimerHandle | undefined = undefined;

  constructor(endpoint: E) {
    this.endpoint = endpoint;
  }
}

export class OutlierDetector<E extends Ejectable = Endpoint> {
  readonly upstreamName: string;
  private config: OutlierDetectionConfig;
  private readonly clock: Clock;
  private readonly listener: OutlierListener<E>;
  private states = new Map<E, EndpointState<E>>();
  private ejectedCount = 0;

  constructor(
    upstreamName: string,
    endpoints: readonly E[],
    config: OutlierDetectionConfig,
    clock: Clock,
    listener: OutlierListener<E>,
  ) {
    this.upstreamName = upstreamName;
    this.config = config;
    this.clock = clock;
    this.listener = listener;
    for (const endpoint of endpoints) this.states.set(endpoint, new EndpointState(endpoint));
  }

  /** A real request to `endpoint` succeeded (any status below 500). */
  recordSuccess(endpoint: E): void {
    const state = this.states.get(endpoint);
    if (state !== undefined) state.consecutiveFailures = 0;
  }

  /** A real request to `endpoint` failed; may eject it. Results of ejected endpoints are ignored. */
  recordFailure(endpoint: E): void {
    const state = this.states.get(endpoint);
    if (state === undefined || state.timer !== undefined) return;
    state.consecutiveFailures++;
    if (state.consecutiveFailures < this.config.consecutiveFailures) return;
    // At the cap the count stays up: the next failure tries again once another has returned.
    if (this.ejectedCount >= maxEjectedCount(this.states.size, this.config.maxEjectionPercent)) {
      return;
    }
    this.eject(state);
  }

  /**
   * A reload: endpoints with a URL seen before keep their state (the Endpoint object may be
   * new), removed ones are forgotten, and if the new count or percentage leaves too many
   * ejected, the ones due back soonest return now.
   */
  update(endpoints: readonly E[], config: OutlierDetectionConfig): void {
    this.config = config;
    const byUrl = new Map<string, EndpointState<E>>();
    for (const state of this.states.values()) byUrl.set(state.endpoint.url, state);
    const next = new Map<E, EndpointState<E>>();
    for (const endpoint of endpoints) {
      const kept = byUrl.get(endpoint.url);
      if (kept === undefined) {
        next.set(endpoint, new EndpointState(endpoint));
        continue;
      }
      byUrl.delete(endpoint.url);
      if (kept.endpoint !== endpoint) {
        endpoint.isEjected = kept.timer !== undefined;
        kept.endpoint = endpoint;
      }
      next.set(endpoint, kept);
    }
    for (const gone of byUrl.values()) {
      if (gone.timer === undefined) continue;
      gone.timer.cancel();
      gone.timer = undefined;
      this.ejectedCount--;
    }
    this.states = next;
    const allowed = maxEjectedCount(next.size, config.maxEjectionPercent);
    while (this.ejectedCount > allowed) {
      const soonest = this.soonestReturn();
      if (soonest === undefined) break;
      this.endEjection(soonest);
    }
  }

  /** Cancels the ejection timers; endpoints keep their flags (they are being discarded). */
  stop(): void {
    for (const state of this.states.values()) {
      state.timer?.cancel();
      state.timer = undefined;
    }
    this.states.clear();
    this.ejectedCount = 0;
  }

  private eject(state: EndpointState<E>): void {
    const nowMs = this.clock.now();
    const baseMs = this.config.baseEjectionTime;
    const sinceReturnMs = nowMs - state.returnedAtMs;
    const ejectionCount = decayedEjectionCount(state.ejectionCount, sinceReturnMs, baseMs) + 1;
    const ejectionMs = ejectionDurationMs(baseMs, ejectionCount);
    state.ejectionCount = ejectionCount;
    state.consecutiveFailures = 0;
    state.ejectedUntilMs = nowMs + ejectionMs;
    state.timer = this.clock.setTimeout(() => {
      this.endEjection(state);
    }, ejectionMs);
    state.endpoint.isEjected = true;
    this.ejectedCount++;
    this.listener({
      type: "ejected",
      upstreamName: this.upstreamName,
      endpoint: state.endpoint,
      ejectionMs,
      ejectionCount,
    });
  }

  private endEjection(state: EndpointState<E>): void {
    if (state.timer === undefined) return;
    state.timer.cancel();
    state.timer = undefined;
    state.returnedAtMs = this.clock.now();
    state.consecutiveFailures = 0;
    state.endpoint.isEjected = false;
    this.ejectedCount--;
    this.listener({ type: "returned", upstreamName: this.upstreamName, endpoint: state.endpoint });
  }

  private soonestReturn(): EndpointState<E> | undefined {
    let soonest: EndpointState<E> | undefined;
    for (const state of this.states.values()) {
      if (state.timer === undefined) continue;
      if (soonest === undefined || state.ejectedUntilMs < soonest.ejectedUntilMs) soonest = state;
    }
    return soonest;
  }
}
