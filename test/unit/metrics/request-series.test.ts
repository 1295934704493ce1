/**
 * The per-request path: no prom-client calls per request, and a scrape identical to what
 * prom-client's own Counter and Histogram give for the same observations.
 */
import { Counter, Histogram, Registry } from "prom-client";
import { afterEach, describe, expect, it, vi } from "vitest";
import {
  REQUEST_DURATION_BUCKETS_SECONDS,
  REQUEST_DURATION_SECONDS,
  REQUESTS_TOTAL,
} from "../../../src/metrics/metric-names.ts";
import { BASE_CONFIG, closeOpenedUpstreams, scrape, setup } from "./metrics-fixture.ts";
import { parsePrometheusText, type MetricFamily } from "../../support/prometheus-text.ts";

afterEach(async () => {
  vi.restoreAllMocks();
  await closeOpenedUpstreams();
});

describe("the per-request path", () => {
  it("makes no prom-client children per request, and retry and fallback children once", () => {
    const { metrics, load } = setup();
    load(BASE_CONFIG);
    const counterLabels = vi.spyOn(Counter.prototype, "labels");
    const histogramLabels = vi.spyOn(Histogram.prototype, "labels");
    for (let i = 0; i < 100; i++) {
      metrics.requestFinished({ route: "web", upstream: "stable", status: 200, durationMs: i });
      metrics.requestFinished({ route: "web", upstream: "stable", status: 502, durationMs: i });
      metrics.retry("web", "stable");
      metrics.fallback("web", "canary", "stable");
    }
    expect(counterLabels).toHaveBeenCalledTimes(2);
    expect(histogramLabels).not.toHaveBeenCalled();
  });

  it("scrapes exactly as prom-client's own Counter and Histogram would", async () => {
    const { metrics, load } = setup();
    load(BASE_CONFIG);
    const registry = new Registry();
    const counter = new Counter({ ...REQUESTS_TOTAL, registers: [registry] });
    const histogram = new Histogram({
      ...REQUEST_DURATION_SECONDS,
      buckets: [...REQUEST_DURATION_BUCKETS_SECONDS],
      registers: [registry],
    });
    // Durations on, between and beyond the bounds, in both units' edge cases.
    const durationsMs = [0, 0.4, 1, 1.0001, 2.5, 7, 50, 999, 1000, 29_999, 30_000, 30_001, 90_000];
    const pairs = [
      ["web", "stable"],
      ["web", "canary"],
      ["api", "canary"],
    ] as const;
    durationsMs.forEach((durationMs, i) => {
      for (const [route, upstream] of pairs) {
        const status = [200, 503, 0][i % 3] ?? 200;
        metrics.requestFinished({ route, upstream, status, durationMs });
        counter.inc({ route, upstream, code: String(status) });
        histogram.observe({ route, upstream }, durationMs / 1000);
      }
    });
    const ours = await scrape(metrics);
    const reference = parsePrometheusText(await registry.metrics());
    for (const name of [REQUESTS_TOTAL.name, REQUEST_DURATION_SECONDS.name]) {
      const sorted = (family: MetricFamily | undefined) =>
        (family?.samples ?? [])
          .map((s) => `${s.name}${JSON.stringify(Object.entries(s.labels).sort())} ${s.value}`)
          .sort();
      expect(sorted(ours.get(name))).toEqual(sorted(reference.get(name)));
      expect(ours.get(name)?.type).toBe(reference.get(name)?.type);
      expect(ours.get(name)?.help).toBe(reference.get(name)?.help);
    }
    expect(ours.get(REQUESTS_TOTAL.name)?.samples).toHaveLength(9);
  });

  it("counts a request with a non-finite duration but keeps it out of the histogram", async () => {
    const { metrics, load } = setup();
    load(BASE_CONFIG);
    metrics.requestFinished({ route: "web", upstream: "stable", status: 200, durationMs: 5 });
    metrics.requestFinished({ route: "web", upstream: "stable", status: 200, durationMs: NaN });
    const family = (await scrape(metrics)).get(REQUEST_DURATION_SECONDS.name);
    const sample = (name: string) => family?.samples.find((s) => s.name === name)?.value;
    expect(sample(`${REQUEST_DURATION_SECONDS.name}_count`)).toBe(1);
    expect(sample(`${REQUEST_DURATION_SECONDS.name}_sum`)).toBe(0.005);
    const requests = (await scrape(metrics)).get(REQUESTS_TOTAL.name);
    expect(requests?.samples[0]?.value).toBe(2);
  });
});
