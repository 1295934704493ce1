/**
 * SPEC 9 as a Prometheus server sees it: after real traffic (a retry and a fallback among it),
 * `GET /metrics` on the admin port parses as Prometheus text, holds every metric of the SPEC's
 * table with its type and exactly its label names, and the default process metrics; after a
 * reload that removes an upstream and a route, no series names them any more.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { adminCall } from "../../support/admin-calls.ts";
import { startEchoBackend, type EchoBackend } from "../../support/echo-backend.ts";
import {
  configText,
  startFileSwitchyard,
  writeConfigInPlace,
  type FileSwitchyard,
} from "../../support/file-switchyard.ts";
import { closeDefaultAgent, get, hammer } from "../../support/http-client.ts";
import {
  parsePrometheusText,
  sampleValue,
  type MetricFamily,
} from "../../support/prometheus-text.ts";
import { startResettingBackend, type RawBackend } from "../../support/raw-backends.ts";

/** SPEC section 9's table as written there, then section 8's connection metrics. */
const SPEC_METRICS: Record<string, { type: string; labels: string[] }> = {
  switchyard_requests_total: { type: "counter", labels: ["route", "upstream", "code"] },
  switchyard_request_duration_seconds: { type: "histogram", labels: ["route", "upstream"] },
  switchyard_upstream_weight_percent: { type: "gauge", labels: ["route", "upstream"] },
  switchyard_endpoint_healthy: { type: "gauge", labels: ["upstream", "endpoint"] },
  switchyard_endpoint_ejected: { type: "gauge", labels: ["upstream", "endpoint"] },
  switchyard_breaker_state: { type: "gauge", labels: ["upstream"] },
  switchyard_fallbacks_total: { type: "counter", labels: ["route", "from", "to"] },
  switchyard_retries_total: { type: "counter", labels: ["route", "upstream"] },
  switchyard_rollout_step_percent: { type: "gauge", labels: ["route", "target"] },
  switchyard_rollout_phase: { type: "gauge", labels: ["route", "phase"] },
  switchyard_rollout_decisions_total: { type: "counter", labels: ["route", "verdict"] },
  switchyard_config_reloads_total: { type: "counter", labels: ["result"] },
  switchyard_config_last_reload_success_timestamp_seconds: { type: "gauge", labels: [] },
  // SPEC 8: the proxy listener's client connections.
  switchyard_connections_open: { type: "gauge", labels: [] },
  switchyard_connections_refused_total: { type: "counter", labels: [] },
};

/** Families that have no series without a rollout running (none runs here). */
const ROLLOUT_ONLY = new Set([
  "switchyard_rollout_step_percent",
  "switchyard_rollout_decisions_total",
]);

/** A few of prom-client's default process and Node.js metrics. */
const PROCESS_METRICS = [
  "process_cpu_user_seconds_total",
  "process_cpu_system_seconds_total",
  "process_resident_memory_bytes",
  "process_start_time_seconds",
  "nodejs_heap_size_used_bytes",
];

let stable: EchoBackend;
let legacy: EchoBackend;
let resetting: RawBackend;
let switchyard: FileSwitchyard | undefined;

beforeAll(async () => {
  stable = await startEchoBackend({ name: "stable" });
  // Fails its health checks: requests the split sends to it fall back to stable.
  legacy = await startEchoBackend({ name: "legacy", healthStatus: 503 });
  resetting = await startResettingBackend();
});

afterEach(async () => {
  await switchyard?.close();
  switchyard = undefined;
  await closeDefaultAgent();
});

afterAll(async () => {
  await stable.close();
  await legacy.close();
  await resetting.close();
});

function metricsConfig(withLegacy: boolean): Record<string, unknown> {
  const retries = { attempts: 1, budgetPercent: 100 };
  const web = { name: "web", split: { stable: 100 }, retries };
  const old = {
    name: "old",
    match: { pathPrefix: "/old" },
    split: { legacy: 50, stable: 50 },
    retries,
  };
  return {
    upstreams: {
      // Round-robin: every other request meets the reset first and is retried.
      stable: { endpoints: [resetting.url, stable.url] },
      ...(withLegacy
        ? {
            legacy: {
              endpoints: [legacy.url],
              healthCheck: { interval: "100ms", timeout: "200ms" },
            },
          }
        : {}),
    },
    routes: withLegacy ? [old, web] : [web],
    server: { drainDelay: "200ms", drainTimeout: "3s" },
  };
}

async function scrape(adminUrl: string): Promise<Map<string, MetricFamily>> {
  const answer = await get(`${adminUrl}/metrics`);
  expect(answer.status).toBe(200);
  expect(answer.headers["content-type"]).toMatch(/^text\/plain; version=0\.0\.4/);
  return parsePrometheusText(answer.body);
}

/** The label names a sample of `family` must carry (histograms add `le` on buckets). */
function expectedLabels(familyName: string, sampleName: string): string[] {
  const labels = SPEC_METRICS[familyName]?.labels ?? [];
  return sampleName.endsWith("_bucket") ? [...labels, "le"] : labels;
}

/** The switchyard series with a label whose value is `value`. */
function seriesNaming(families: Map<string, MetricFamily>, value: string): string[] {
  const found: string[] = [];
  for (const family of families.values()) {
    if (!family.name.startsWith("switchyard_")) continue;
    for (const sample of family.samples) {
      if (Object.values(sample.labels).includes(value)) {
        found.push(`${sample.name}${JSON.stringify(sample.labels)}`);
      }
    }
  }
  return found;
}

describe("GET /metrics on the admin port", () => {
  it("holds every SPEC metric with its type and exact label names, and the process metrics", async () => {
    switchyard = await startFileSwitchyard(metricsConfig(true), { isWatchingConfig: false });
    const { url, adminUrl } = switchyard;
    const web = await hammer(`${url}/web`, { total: 10, concurrency: 1 });
    expect(web.byStatus).toEqual({ 200: 10 });
    const old = await hammer(`${url}/old/page`, { total: 20, concurrency: 2 });
    expect(old.byStatus).toEqual({ 200: 20 });
    expect(old.byName).toEqual({ stable: 20 });

    const families = await scrape(adminUrl);
    for (const [name, spec] of Object.entries(SPEC_METRICS)) {
      const family = families.get(name);
      expect(family, `${name} in the scrape`).toBeDefined();
      expect(family?.type, `type of ${name}`).toBe(spec.type);
      expect(family?.help, `help of ${name}`).not.toBe("");
      if (!ROLLOUT_ONLY.has(name)) {
        expect(family?.samples.length, `series of ${name}`).toBeGreaterThan(0);
      }
      for (const sample of family?.samples ?? []) {
        expect(Object.keys(sample.labels).sort(), `labels of ${sample.name}`).toEqual(
          expectedLabels(name, sample.name).sort(),
        );
      }
    }
    for (const name of PROCESS_METRICS) {
      expect(families.get(name)?.samples.length, `${name} in the scrape`).toBeGreaterThan(0);
    }
    expect(sampleValue(families, "process_cpu_user_seconds_total", {})).toBeGreaterThan(0);

    // The traffic, as counted.
    const value = (name: string, labels: Record<string, string>) =>
      sampleValue(families, `switchyard_${name}`, labels);
    expect(value("requests_total", { route: "web", upstream: "stable", code: "200" })).toBe(10);
    expect(value("requests_total", { route: "old", upstream: "stable", code: "200" })).toBe(20);
    expect(value("request_duration_seconds_count", { route: "old", upstream: "stable" })).toBe(20);
    expect(value("retries_total", { route: "web", upstream: "stable" })).toBeGreaterThan(0);
    expect(
      value("fallbacks_total", { route: "old", from: "legacy", to: "stable" }),
    ).toBeGreaterThan(0);
    expect(value("endpoint_healthy", { upstream: "legacy", endpoint: legacy.url })).toBe(0);
    expect(value("endpoint_healthy", { upstream: "stable", endpoint: stable.url })).toBe(1);
    expect(value("upstream_weight_percent", { route: "old", upstream: "legacy" })).toBe(50);
    expect(value("breaker_state", { upstream: "legacy" })).toBe(0);
    expect(value("rollout_phase", { route: "web", phase: "idle" })).toBe(1);
    // Weight changes through the admin API show at once.
    const change = await adminCall(adminUrl, "PUT", "/api/v1/routes/old/weights", {
      json: { weights: { legacy: 10, stable: 90 } },
    });
    expect(change.status).toBe(200);
    const changed = await scrape(adminUrl);
    const weightOf = (upstream: string) =>
      sampleValue(changed, "switchyard_upstream_weight_percent", { route: "old", upstream });
    expect([weightOf("legacy"), weightOf("stable")]).toEqual([10, 90]);
    // Label values are config names only: request paths never show.
    expect(seriesNaming(families, "/old/page")).toEqual([]);
    expect(seriesNaming(families, "/web")).toEqual([]);
  });

  it("drops every series of an upstream and a route a reload removed", async () => {
    switchyard = await startFileSwitchyard(metricsConfig(true), { isWatchingConfig: false });
    const { url, adminUrl, configFile } = switchyard;
    expect((await hammer(`${url}/old/`, { total: 20, concurrency: 2 })).byStatus).toEqual({
      200: 20,
    });
    const before = await scrape(adminUrl);
    expect(seriesNaming(before, "legacy").length).toBeGreaterThan(0);
    expect(seriesNaming(before, "old").length).toBeGreaterThan(0);
    const loadedAt = sampleValue(
      before,
      "switchyard_config_last_reload_success_timestamp_seconds",
      {},
    );

    await writeConfigInPlace(configFile, configText(metricsConfig(false)));
    const reload = await adminCall(adminUrl, "POST", "/api/v1/reload");
    expect(reload.json).toMatchObject({ applied: true, changed: true });
    expect((await hammer(`${url}/old/`, { total: 4, concurrency: 1 })).byName).toEqual({
      stable: 4,
    });

    const after = await scrape(adminUrl);
    expect(seriesNaming(after, "legacy")).toEqual([]);
    expect(seriesNaming(after, legacy.url)).toEqual([]);
    expect(seriesNaming(after, "old")).toEqual([]);
    expect(
      sampleValue(after, "switchyard_requests_total", {
        route: "web",
        upstream: "stable",
        code: "200",
      }),
    ).toBe(4);
    expect(sampleValue(after, "switchyard_config_reloads_total", { result: "success" })).toBe(1);
    expect(sampleValue(after, "switchyard_config_reloads_total", { result: "failure" })).toBe(0);
    expect(
      sampleValue(after, "switchyard_config_last_reload_success_timestamp_seconds", {}),
    ).toBeGreaterThanOrEqual(loadedAt ?? Infinity);
  });
});
