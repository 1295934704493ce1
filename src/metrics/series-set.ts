/**
 * The series of one labelled prom-client metric that switchyard has created: their children
 * are cached (prom-client's `labels()` validates and copies on every call), and they can be
 * removed by label values when the config no longer has what they describe.
 */

/** The part of a prom-client Counter, Gauge or Histogram this needs. */
export interface LabelledMetric<C> {
  labels(...values: string[]): C;
  remove(...values: string[]): void;
}

interface Series<C> {
  readonly values: readonly string[];
  readonly child: C;
}

/** Joins label values into one map key; NUL cannot occur in config names. */
function seriesKey(values: readonly string[]): string {
  return values.join("\0");
}

export class SeriesSet<C> {
  readonly #metric: LabelledMetric<C>;
  readonly #series = new Map<string, Series<C>>();

  constructor(metric: LabelledMetric<C>) {
    this.#metric = metric;
  }

  /** The child for these label values, created on first use. */
  child(...values: string[]): C {
    const key = seriesKey(values);
    const found = this.#series.get(key);
    if (found !== undefined) return found.child;
    const child = this.#metric.labels(...values);
    this.#series.set(key, { values, child });
    return child;
  }

  has(...values: string[]): boolean {
    return this.#series.has(seriesKey(values));
  }

  /** Label values of every series created and not removed. */
  *labelValues(): IterableIterator<readonly string[]> {
    for (const series of this.#series.values()) yield series.values;
  }

  remove(...values: string[]): void {
    const key = seriesKey(values);
    if (!this.#series.delete(key)) return;
    this.#metric.remove(...values);
  }

  /** Removes every series whose label values `isStale` says are gone. */
  removeWhere(isStale: (values: readonly string[]) => boolean): void {
    for (const [key, series] of this.#series) {
      if (!isStale(series.values)) continue;
      this.#series.delete(key);
      this.#metric.remove(...series.values);
    }
  }
}
