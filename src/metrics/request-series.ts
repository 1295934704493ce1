/**
 * The per-request metrics: `requests_total{route,upstream,code}` and
 * `request_duration_seconds{route,upstream}`. A request costs two Map lookups to find its
 * route and upstream, one to find the counter child of its status, an increment and an
 * observation: children are made once per label set, not per request.
 */
import type { Counter, Histogram } from "prom-client";
import type { LabelledMetric } from "./series-set.ts";

const MS_PER_SECOND = 1000;

interface RouteUpstreamSeries {
  readonly route: string;
  readonly upstream: string;
  /** Counter children by the status sent to the client. */
  readonly byStatus: Map<number, Counter.Internal>;
  readonly duration: Histogram.Internal<string>;
}

export type IsLive = (route: string, upstream: string) => boolean;

export class RequestSeries {
  readonly #requests: LabelledMetric<Counter.Internal>;
  readonly #duration: LabelledMetric<Histogram.Internal<string>>;
  readonly #byRoute = new Map<string, Map<string, RouteUpstreamSeries>>();
  readonly #isLive: IsLive;

  /** `isLive` is asked before a new label set is created: a gone route makes no series. */
  constructor(
    requests: LabelledMetric<Counter.Internal>,
    duration: LabelledMetric<Histogram.Internal<string>>,
    isLive: IsLive,
  ) {
    this.#requests = requests;
    this.#duration = duration;
    this.#isLive = isLive;
  }

  record(route: string, upstream: string, status: number, durationMs: number): void {
    const series = this.#byRoute.get(route)?.get(upstream) ?? this.#create(route, upstream);
    if (series === undefined) return;
    let counter = series.byStatus.get(status);
    if (counter === undefined) {
      counter = this.#requests.labels(route, upstream, String(status));
      series.byStatus.set(status, counter);
    }
    counter.inc();
    series.duration.observe(durationMs / MS_PER_SECOND);
  }

  /** Removes the series of every route or upstream `isGone` names. */
  removeWhere(isGone: (route: string, upstream: string) => boolean): void {
    for (const [route, byUpstream] of this.#byRoute) {
      for (const [upstream, series] of byUpstream) {
        if (!isGone(route, upstream)) continue;
        for (const status of series.byStatus.keys()) {
          this.#requests.remove(route, upstream, String(status));
        }
        this.#duration.remove(route, upstream);
        byUpstream.delete(upstream);
      }
      if (byUpstream.size === 0) this.#byRoute.delete(route);
    }
  }

  #create(route: string, upstream: string): RouteUpstreamSeries | undefined {
    // A request that started before a reload may finish after it: its route may be gone.
    if (!this.#isLive(route, upstream)) return undefined;
    const series: RouteUpstreamSeries = {
      route,
      upstream,
      byStatus: new Map(),
      duration: this.#duration.labels(route, upstream),
    };
    let byUpstream = this.#byRoute.get(route);
    if (byUpstream === undefined) {
      byUpstream = new Map();
      this.#byRoute.set(route, byUpstream);
    }
    byUpstream.set(upstream, series);
    return series;
  }
}
