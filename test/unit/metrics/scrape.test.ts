/**
 * A scrape holds every SPEC 9 metric with exactly its labels and the recorded values, the
 * default process metrics, and nothing on prom-client's global registry.
 */
import { register as globalRegistry } from "prom-client";
import { afterEach, describe, expect, it, vi } from "vitest";
import { Metrics } from "../../../src/metrics/metrics.ts";
import {
  METRIC_NAMES,
  REQUEST_DURATION_BUCKETS_SECONDS,
  ROLLOUT_PHASE_LABELS,
} from "../../../src/metrics/metric-names.ts";
import {
  BASE_CONFIG,
  C1,
  closeOpenedUpstreams,
  labelKeys,
  recordTraffic,
  S1,
  S2,
  scrape,
  setup,
} from "./metrics-fixture.ts";
import { sampleValue } from "../../support/prometheus-text.ts";

afterEach(async () => {
  vi.restoreAllMocks();
  await closeOpenedUpstreams();
});

describe("a scrape", () => {
  const specMetrics: [string, string, string][] = [
    ["switchyard_requests_total", "counter", "code,route,upstream"],
    ["switchyard_request_duration_seconds", "histogram", "route,upstream"],
    ["switchyard_upstream_weight_percent", "gauge", "route,upstream"],
    ["switchyard_endpoint_healthy", "gauge", "endpoint,upstream"],
    ["switchyard_endpoint_ejected", "gauge", "endpoint,upstream"],
    ["switchyard_breaker_state", "gauge", "upstream"],
    ["switchyard_fallbacks_total", "counter", "from,route,to"],
    ["switchyard_retries_total", "counter", "route,upstream"],
    ["switchyard_rollout_step_percent", "gauge", "route,target"],
    ["switchyard_rollout_phase", "gauge", "phase,route"],
    ["switchyard_rollout_decisions_total", "counter", "route,verdict"],
    ["switchyard_config_reloads_total", "counter", "result"],
    ["switchyard_config_last_reload_success_timestamp_seconds", "gauge", ""],
    // SPEC 8: the proxy listener's client connections.
    ["switchyard_connections_open", "gauge", ""],
    ["switchyard_connections_refused_total", "counter", ""],
  ];

  it("lists exactly the SPEC metrics (section 9's table, then section 8's connections)", () => {
    expect([...METRIC_NAMES]).toEqual(specMetrics.map(([name]) => name));
  });

  it.each(specMetrics)("has %s as a %s labelled {%s}", async (name, type, labels) => {
    const { metrics, load } = setup();
    load(BASE_CONFIG);
    recordTraffic(metrics);
    const family = (await scrape(metrics)).get(name);
    expect(family?.type).toBe(type);
    expect(family?.help).not.toBe("");
    expect(labelKeys(family)).toEqual([labels]);
  });

  it("carries the recorded values", async () => {
    const { metrics, load } = setup();
    load(BASE_CONFIG);
    recordTraffic(metrics);
    const families = await scrape(metrics);
    const value = (name: string, labels: Record<string, string>) =>
      sampleValue(families, `switchyard_${name}`, labels);

    expect(value("requests_total", { route: "web", upstream: "stable", code: "200" })).toBe(2);
    expect(value("requests_total", { route: "web", upstream: "canary", code: "503" })).toBe(1);
    expect(value("requests_total", { route: "api", upstream: "canary", code: "0" })).toBe(1);
    const stable = { route: "web", upstream: "stable" };
    expect(value("request_duration_seconds_count", stable)).toBe(2);
    expect(value("request_duration_seconds_sum", stable)).toBeCloseTo(0.043, 9);
    expect(value("request_duration_seconds_bucket", { ...stable, le: "0.001" })).toBe(0);
    expect(value("request_duration_seconds_bucket", { ...stable, le: "0.005" })).toBe(1);
    expect(value("request_duration_seconds_bucket", { ...stable, le: "0.05" })).toBe(2);
    expect(value("request_duration_seconds_bucket", { ...stable, le: "30" })).toBe(2);
    expect(value("request_duration_seconds_bucket", { ...stable, le: "+Inf" })).toBe(2);
    expect(value("upstream_weight_percent", { route: "web", upstream: "stable" })).toBe(90);
    expect(value("upstream_weight_percent", { route: "web", upstream: "canary" })).toBe(10);
    expect(value("upstream_weight_percent", { route: "api", upstream: "canary" })).toBe(100);
    for (const [upstream, url] of [
      ["stable", S1],
      ["stable", S2],
      ["canary", C1],
    ] as const) {
      expect(value("endpoint_healthy", { upstream, endpoint: url })).toBe(1);
      expect(value("endpoint_ejected", { upstream, endpoint: url })).toBe(0);
    }
    expect(value("breaker_state", { upstream: "stable" })).toBe(0);
    expect(value("fallbacks_total", { route: "web", from: "canary", to: "stable" })).toBe(1);
    expect(value("retries_total", { route: "web", upstream: "stable" })).toBe(1);
    expect(value("rollout_step_percent", { route: "web", target: "canary" })).toBe(10);
    for (const phase of ROLLOUT_PHASE_LABELS) {
      expect(value("rollout_phase", { route: "web", phase })).toBe(phase === "progressing" ? 1 : 0);
      // A route with no rollout is idle.
      expect(value("rollout_phase", { route: "api", phase })).toBe(phase === "idle" ? 1 : 0);
    }
    expect(value("rollout_decisions_total", { route: "web", verdict: "advance" })).toBe(1);
    expect(value("config_reloads_total", { result: "success" })).toBe(1);
    expect(value("config_reloads_total", { result: "failure" })).toBe(0);
    expect(value("config_last_reload_success_timestamp_seconds", {})).toBe(1_767_225_600);
  });

  it("uses buckets from 1 ms to 30 s", async () => {
    const { metrics, load } = setup();
    load(BASE_CONFIG);
    recordTraffic(metrics);
    const family = (await scrape(metrics)).get("switchyard_request_duration_seconds");
    const bounds = family?.samples
      .filter((s) => s.labels.upstream === "stable" && s.name.endsWith("_bucket"))
      .map((s) => s.labels.le);
    expect(bounds).toEqual([...REQUEST_DURATION_BUCKETS_SECONDS.map(String), "+Inf"]);
  });

  it("includes the default process metrics, on its own registry only", async () => {
    const metrics = new Metrics();
    const families = await scrape(metrics);
    expect(families.has("process_cpu_user_seconds_total")).toBe(true);
    expect(families.has("nodejs_heap_size_used_bytes")).toBe(true);
    expect(metrics.contentType).toMatch(/^text\/plain; version=0\.0\.4/);
    // A second instance does not collide with the first, and nothing lands on the global one.
    const second = new Metrics();
    expect((await scrape(second)).has("switchyard_requests_total")).toBe(true);
    expect(await globalRegistry.metrics()).not.toContain("switchyard_");
  });
});

describe("connection series", () => {
  it("start at 0 and count each refused connection", async () => {
    const { metrics } = setup();
    const value = async (name: string) => sampleValue(await scrape(metrics), name, {});
    expect(await value("switchyard_connections_open")).toBe(0);
    expect(await value("switchyard_connections_refused_total")).toBe(0);
    metrics.connections.refused();
    metrics.connections.refused();
    expect(await value("switchyard_connections_refused_total")).toBe(2);
  });
});

describe("rollout series", () => {
  it("keeps one step series per route and drops it when the route goes idle", async () => {
    const { metrics, load } = setup();
    load(BASE_CONFIG);
    metrics.rolloutStep("web", "canary", 25);
    metrics.rolloutStep("web", "stable", 5);
    let family = (await scrape(metrics)).get("switchyard_rollout_step_percent");
    expect(family?.samples.map((s) => [s.labels.target, s.value])).toEqual([["stable", 5]]);
    metrics.rolloutPhase("web", "idle");
    family = (await scrape(metrics)).get("switchyard_rollout_step_percent");
    expect(family?.samples).toEqual([]);
  });
});
