import { Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { Metrics } from "../../../src/metrics/metrics.ts";
import { ClusterMetrics } from "../../../src/workers/cluster-metrics.ts";
import { parsePrometheusText, sampleValue } from "../../support/prometheus-text.ts";

/** A worker's metrics after `requests` answers and its breaker of canary in `breaker` state. */
async function workerReport(requests: number, breaker: "closed" | "open") {
  const metrics = new Metrics({ hasProcessMetrics: false });
  for (let i = 0; i < requests; i++) {
    metrics.requestFinished({ route: "web", upstream: "stable", status: 200, durationMs: 3 });
  }
  metrics.onBreakerStateChange("canary", breaker, "closed");
  metrics.connections.refused();
  return metrics.registry.getMetricsAsJSON();
}

async function scrape(cluster: ClusterMetrics) {
  return parsePrometheusText(await cluster.render());
}

const REQUESTS = { route: "web", upstream: "stable", code: "200" };

describe("ClusterMetrics", () => {
  it("sums the workers' counters and histograms and shows a breaker's worst state", async () => {
    const primary = new Metrics({ hasProcessMetrics: false });
    const cluster = new ClusterMetrics(primary.registry);
    cluster.update(1, await workerReport(3, "closed"));
    cluster.update(2, await workerReport(4, "open"));
    const text = await cluster.render();
    const families = parsePrometheusText(text);
    expect(sampleValue(families, "switchyard_requests_total", REQUESTS)).toBe(7);
    expect(
      sampleValue(families, "switchyard_request_duration_seconds_count", {
        route: "web",
        upstream: "stable",
      }),
    ).toBe(7);
    expect(sampleValue(families, "switchyard_breaker_state", { upstream: "canary" })).toBe(2);
    expect(sampleValue(families, "switchyard_connections_refused_total", {})).toBe(2);
    // The primary's own series are there once, the workers' only from the workers.
    expect(text.match(/^# TYPE switchyard_requests_total /gm)).toHaveLength(1);
    expect(families.has("switchyard_config_reloads_total")).toBe(true);
  });

  it("keeps an exited worker's counts, so sums never go down; its gauges go", async () => {
    const cluster = new ClusterMetrics(new Metrics({ hasProcessMetrics: false }).registry);
    cluster.update(1, await workerReport(5, "open"));
    cluster.update(2, await workerReport(2, "closed"));
    cluster.retire(1);
    let families = await scrape(cluster);
    expect(sampleValue(families, "switchyard_requests_total", REQUESTS)).toBe(7);
    expect(sampleValue(families, "switchyard_breaker_state", { upstream: "canary" })).toBe(0);
    cluster.update(1, await workerReport(1, "closed"));
    cluster.retire(2);
    families = await scrape(cluster);
    expect(sampleValue(families, "switchyard_requests_total", REQUESTS)).toBe(8);
  });

  it("drops baseline series that name what the config no longer has", async () => {
    const cluster = new ClusterMetrics(new Registry());
    cluster.update(1, await workerReport(5, "closed"));
    cluster.retire(1);
    cluster.retainNames(new Set(["api"]), new Set(["stable"]));
    const families = await scrape(cluster);
    expect(sampleValue(families, "switchyard_requests_total", REQUESTS)).toBeUndefined();
  });
});
