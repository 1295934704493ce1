/**
 * Breakers and outlier detection run per worker (SPEC 11, as in Envoy and HAProxy); status
 * shows one view: each upstream's worst breaker state with how many workers are in it, and
 * for each endpoint how many workers have it ejected. Fed by the workers' reports each second
 * and by their transition events as they happen.
 */
import { BREAKER_STATE_VALUES } from "../metrics/metric-names.ts";
import type { BreakerState } from "../upstream/breaker.ts";
import type { UpstreamReport } from "./worker-messages.ts";

export interface BreakerView {
  readonly state: BreakerState;
  /** Workers whose breaker is in `state`. */
  readonly workers: number;
}

interface WorkerUpstream {
  breaker: BreakerState;
  ejected: Set<string>;
}

export class WorkerResilience {
  /** Slot -> upstream -> that worker's state. */
  readonly #bySlot = new Map<number, Map<string, WorkerUpstream>>();

  /** A worker's full report replaces what was known of it. */
  report(slot: number, upstreams: readonly UpstreamReport[]): void {
    this.#bySlot.set(
      slot,
      new Map(
        upstreams.map((report) => [
          report.upstream,
          { breaker: report.breaker, ejected: new Set(report.ejected) },
        ]),
      ),
    );
  }

  breakerChanged(slot: number, upstream: string, state: BreakerState): void {
    this.#upstreamOf(slot, upstream).breaker = state;
  }

  ejectionChanged(slot: number, upstream: string, url: string, isEjected: boolean): void {
    const { ejected } = this.#upstreamOf(slot, upstream);
    if (isEjected) ejected.add(url);
    else ejected.delete(url);
  }

  /** A worker exited: its replacement starts with closed breakers and nothing ejected. */
  forget(slot: number): void {
    this.#bySlot.delete(slot);
  }

  /** The worst state among the workers that reported; closed with 0 workers before any did. */
  breakerOf(upstream: string): BreakerView {
    let worst: BreakerState = "closed";
    let workers = 0;
    for (const upstreams of this.#bySlot.values()) {
      const state = upstreams.get(upstream)?.breaker ?? "closed";
      if (BREAKER_STATE_VALUES[state] > BREAKER_STATE_VALUES[worst]) {
        worst = state;
        workers = 0;
      }
      if (state === worst) workers++;
    }
    return { state: worst, workers };
  }

  /** How many workers have the endpoint ejected. */
  ejectedIn(upstream: string, url: string): number {
    let workers = 0;
    for (const upstreams of this.#bySlot.values()) {
      if (upstreams.get(upstream)?.ejected.has(url) === true) workers++;
    }
    return workers;
  }

  #upstreamOf(slot: number, upstream: string): WorkerUpstream {
    let upstreams = this.#bySlot.get(slot);
    if (upstreams === undefined) {
      upstreams = new Map();
      this.#bySlot.set(slot, upstreams);
    }
    let state = upstreams.get(upstream);
    if (state === undefined) {
      state = { breaker: "closed", ejected: new Set() };
      upstreams.set(upstream, state);
    }
    return state;
  }
}
