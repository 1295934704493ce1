/**
 * `/metrics` with workers (SPEC 11): one view, SPEC 9's names, no worker label. The primary's
 * registry gives its own series (weights, health, rollouts, reloads, fleet, its process
 * metrics); the workers' data-path series come from their latest reports, summed (or, for
 * breaker and ejection state, their worst value). A worker that exits leaves its counters and
 * histograms in a baseline, so sums never go down when it is replaced. The scrape reads what
 * the workers last reported (each second) and never waits for one.
 */
import { AggregatorRegistry, type Registry } from "prom-client";
import { WORKER_METRIC_AGGREGATION } from "../metrics/metric-names.ts";
import type { WorkerMetrics } from "./worker-messages.ts";

export class ClusterMetrics {
  readonly #primary: Registry;
  readonly #latest = new Map<number, WorkerMetrics>();
  /** What exited workers counted: counters and histograms only. */
  #baseline: WorkerMetrics = [];

  /** Takes the worker-owned series off the primary's registry: the workers report them. */
  constructor(primary: Registry) {
    this.#primary = primary;
    for (const name of Object.keys(WORKER_METRIC_AGGREGATION)) primary.removeSingleMetric(name);
  }

  get contentType(): string {
    return this.#primary.contentType;
  }

  update(slot: number, metrics: WorkerMetrics): void {
    this.#latest.set(slot, ownedByWorkers(metrics));
  }

  /** A worker exited: what it counted joins the baseline; its gauges go. */
  retire(slot: number): void {
    const last = this.#latest.get(slot);
    this.#latest.delete(slot);
    if (last === undefined) return;
    const kept = last.filter((metric) => COUNTING_TYPES.has(typeOf(metric)));
    this.#baseline = sumOf([this.#baseline, kept]);
  }

  /**
   * After a reload: drops baseline series naming a route or upstream the config no longer has,
   * as the workers' metrics drop their live ones.
   */
  retainNames(routes: ReadonlySet<string>, upstreams: ReadonlySet<string>): void {
    const isKnown = (value: string | number | undefined, names: ReadonlySet<string>): boolean =>
      value === undefined || names.has(String(value));
    const isLive = (labels: Readonly<Record<string, string | number | undefined>>): boolean =>
      isKnown(labels.route, routes) &&
      isKnown(labels.upstream, upstreams) &&
      isKnown(labels.from, upstreams) &&
      isKnown(labels.to, upstreams);
    this.#baseline = this.#baseline.map((metric) => ({
      ...metric,
      values: metric.values.filter((value) => isLive(value.labels)),
    }));
  }

  async render(): Promise<string> {
    const own = await this.#primary.metrics();
    const workers = AggregatorRegistry.aggregate([this.#baseline, ...this.#latest.values()]);
    return `${own}${await workers.metrics()}`;
  }
}

const COUNTING_TYPES: ReadonlySet<string> = new Set(["counter", "histogram"]);

/** prom-client declares `type` as a numeric enum, but its JSON holds the type's name. */
function typeOf(metric: WorkerMetrics[number]): string {
  return String(metric.type);
}

/** The worker-owned series, each with the aggregation SPEC 11 gives it. */
function ownedByWorkers(metrics: WorkerMetrics): WorkerMetrics {
  const owned: WorkerMetrics = [];
  for (const metric of metrics) {
    const aggregator = WORKER_METRIC_AGGREGATION[metric.name];
    if (aggregator !== undefined) owned.push({ ...metric, aggregator });
  }
  return owned;
}

/** The series of `parts` summed, metric by metric and label set by label set. */
function sumOf(parts: readonly WorkerMetrics[]): WorkerMetrics {
  const byName = new Map<string, { metric: WorkerMetrics[number]; values: Map<string, Value> }>();
  for (const metric of parts.flat()) {
    let entry = byName.get(metric.name);
    if (entry === undefined) {
      entry = { metric, values: new Map() };
      byName.set(metric.name, entry);
    }
    for (const value of metric.values as Value[]) {
      const key = seriesKey(value);
      const held = entry.values.get(key);
      entry.values.set(
        key,
        held === undefined ? { ...value } : { ...held, value: held.value + value.value },
      );
    }
  }
  return [...byName.values()].map(({ metric, values }) => ({
    ...metric,
    values: [...values.values()],
  }));
}

type Value = WorkerMetrics[number]["values"][number] & { metricName?: string };

function seriesKey(value: Value): string {
  const labels = Object.entries(value.labels).sort(([a], [b]) => (a < b ? -1 : 1));
  return JSON.stringify([value.metricName ?? "", labels]);
}
