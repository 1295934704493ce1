/**
 * The per-request metrics: `requests_total{route,upstream,code}` and
 * `request_duration_seconds{route,upstream}`.
 *
 * prom-client's children rebuild a label hash and validate the labels on every `inc()` and
 * `observe()` (about 1 µs for the pair), so a request here only finds its series (two Map
 * lookups), its status count (one more) and bumps plain numbers. The two families are handed
 * to the registry as collectors that build prom-client's value objects at scrape time; the
 * registry still does the text format and escaping.
 */
import type { Metric, MetricValueWithName } from "prom-client";
import type { HistogramDefinition, MetricDefinition } from "./metric-names.ts";

const MS_PER_SECOND = 1000;

interface StatusCount {
  readonly labels: Readonly<Record<"route" | "upstream" | "code", string>>;
  count: number;
}

interface RouteUpstreamSeries {
  readonly labels: Readonly<Record<"route" | "upstream", string>>;
  readonly byStatus: Map<number, StatusCount>;
  /** Observations per bucket, not cumulative; those above the last bound only in `count`. */
  readonly bucketCounts: Float64Array;
  count: number;
  sumSeconds: number;
}

/** What prom-client's Registry reads of a registered metric. */
interface Collector {
  readonly name: string;
  readonly help: string;
  readonly type: "counter" | "histogram";
  readonly aggregator: "sum";
  get(): Promise<{
    name: string;
    help: string;
    type: "counter" | "histogram";
    aggregator: "sum";
    values: MetricValueWithName<string>[];
  }>;
  reset(): void;
}

export type IsLive = (route: string, upstream: string) => boolean;

export class RequestSeries {
  readonly #bucketBounds: Float64Array;
  readonly #bucketLabels: readonly string[];
  readonly #byRoute = new Map<string, Map<string, RouteUpstreamSeries>>();
  readonly #isLive: IsLive;
  /** `requests_total`, for `registry.registerMetric`. */
  readonly requestsCollector: Metric;
  /** `request_duration_seconds`, for `registry.registerMetric`. */
  readonly durationCollector: Metric;

  /** `isLive` is asked before a new label set is created: a gone route makes no series. */
  constructor(
    requests: MetricDefinition<string>,
    duration: HistogramDefinition<string>,
    isLive: IsLive,
  ) {
    this.#bucketBounds = Float64Array.from(duration.buckets);
    this.#bucketLabels = duration.buckets.map(String);
    this.#isLive = isLive;
    this.requestsCollector = asMetric(this.#collector(requests, "counter"));
    this.durationCollector = asMetric(this.#collector(duration, "histogram"));
  }

  record(route: string, upstream: string, status: number, durationMs: number): void {
    const series = this.#byRoute.get(route)?.get(upstream) ?? this.#create(route, upstream);
    if (series === undefined) return;
    const counted = series.byStatus.get(status);
    if (counted === undefined) {
      series.byStatus.set(status, { labels: { ...series.labels, code: String(status) }, count: 1 });
    } else {
      counted.count++;
    }
    const seconds = durationMs / MS_PER_SECOND;
    // A NaN would poison the sum for good (prom-client's observe throws on it instead).
    if (!Number.isFinite(seconds)) return;
    series.count++;
    series.sumSeconds += seconds;
    const bounds = this.#bucketBounds;
    for (let i = 0; i < bounds.length; i++) {
      if (seconds <= (bounds[i] ?? Infinity)) {
        series.bucketCounts[i] = (series.bucketCounts[i] ?? 0) + 1;
        break;
      }
    }
  }

  /** Removes the series of every route or upstream `isGone` names. */
  removeWhere(isGone: (route: string, upstream: string) => boolean): void {
    for (const [route, byUpstream] of this.#byRoute) {
      for (const upstream of byUpstream.keys()) {
        if (isGone(route, upstream)) byUpstream.delete(upstream);
      }
      if (byUpstream.size === 0) this.#byRoute.delete(route);
    }
  }

  #create(route: string, upstream: string): RouteUpstreamSeries | undefined {
    // A request that started before a reload may finish after it: its route may be gone.
    if (!this.#isLive(route, upstream)) return undefined;
    const series: RouteUpstreamSeries = {
      labels: { route, upstream },
      byStatus: new Map(),
      bucketCounts: new Float64Array(this.#bucketBounds.length),
      count: 0,
      sumSeconds: 0,
    };
    let byUpstream = this.#byRoute.get(route);
    if (byUpstream === undefined) {
      byUpstream = new Map();
      this.#byRoute.set(route, byUpstream);
    }
    byUpstream.set(upstream, series);
    return series;
  }

  *#series(): IterableIterator<RouteUpstreamSeries> {
    for (const byUpstream of this.#byRoute.values()) yield* byUpstream.values();
  }

  #collector(definition: MetricDefinition<string>, type: "counter" | "histogram"): Collector {
    const { name, help } = definition;
    const values =
      type === "counter" ? () => this.#countValues() : () => this.#histogramValues(name);
    return {
      name,
      help,
      type,
      aggregator: "sum",
      get: () => Promise.resolve({ name, help, type, aggregator: "sum", values: values() }),
      reset: () => {
        this.#byRoute.clear();
      },
    };
  }

  #countValues(): MetricValueWithName<string>[] {
    const values: MetricValueWithName<string>[] = [];
    for (const series of this.#series()) {
      for (const { labels, count } of series.byStatus.values())
        values.push({ labels, value: count });
    }
    return values;
  }

  #histogramValues(name: string): MetricValueWithName<string>[] {
    const values: MetricValueWithName<string>[] = [];
    const bucketName = `${name}_bucket`;
    for (const series of this.#series()) {
      let cumulative = 0;
      this.#bucketLabels.forEach((le, i) => {
        cumulative += series.bucketCounts[i] ?? 0;
        values.push({
          metricName: bucketName,
          labels: { ...series.labels, le },
          value: cumulative,
        });
      });
      values.push(
        { metricName: bucketName, labels: { ...series.labels, le: "+Inf" }, value: series.count },
        { metricName: `${name}_sum`, labels: series.labels, value: series.sumSeconds },
        { metricName: `${name}_count`, labels: series.labels, value: series.count },
      );
    }
    return values;
  }
}

/**
 * The Registry accepts any object with a name, help, type, aggregator, `get()` and `reset()`
 * (it formats what `get()` returns); its typings only name prom-client's own classes.
 */
function asMetric(collector: Collector): Metric {
  return collector as unknown as Metric;
}
