/**
 * The Metrics recorder as a scrape sees it: every SPEC 9 metric with its labels, series removed
 * when a reload drops what they describe, breaker and reload values, and children made once per
 * label set. Upstreams are real (pools never connect), so listener wiring is exercised too.
 */
import { Counter, Histogram, register as globalRegistry } from "prom-client";
import { afterEach, describe, expect, it, vi } from "vitest";
import { configSchema, type Config } from "../../../src/config/schema.ts";
import { Metrics } from "../../../src/metrics/metrics.ts";
import {
  METRIC_NAMES,
  REQUEST_DURATION_BUCKETS_SECONDS,
  ROLLOUT_PHASES,
} from "../../../src/metrics/metric-names.ts";
import { compileRouteTable } from "../../../src/routing/route-table.ts";
import { BucketRotations } from "../../../src/upstream/bucket-rotation.ts";
import type { Endpoint } from "../../../src/upstream/endpoint.ts";
import {
  buildUpstreams,
  closeUpstreams,
  type UpstreamMap,
} from "../../../src/upstream/upstream-set.ts";
import { ManualClock } from "../../support/manual-clock.ts";
import { parsePrometheusText, sampleValue, type MetricFamily } from "./prometheus-text.ts";

const S1 = "http://127.0.0.1:1";
const S2 = "http://127.0.0.1:2";
const C1 = "http://127.0.0.1:3";

const BASE_CONFIG = {
  upstreams: {
    stable: { endpoints: [S1, S2] },
    canary: {
      endpoints: [C1],
      outlierDetection: { consecutiveFailures: 2 },
      breaker: { volumeThreshold: 2 },
    },
  },
  routes: [
    { name: "web", match: { hosts: ["shop.example.com"] }, split: { stable: 90, canary: 10 } },
    { name: "api", match: { pathPrefix: "/api" }, split: { canary: 100 } },
  ],
};

const RELOADED_CONFIG = {
  upstreams: { stable: { endpoints: [S1] } },
  routes: [
    { name: "web", match: { hosts: ["shop.example.com"] }, split: { stable: 100 } },
    { name: "admin", match: { pathPrefix: "/admin" }, split: { stable: 100 } },
  ],
};

let opened: UpstreamMap[] = [];

afterEach(async () => {
  vi.restoreAllMocks();
  await Promise.all(opened.map((upstreams) => closeUpstreams(upstreams)));
  opened = [];
});

function setup(options: { clock?: ManualClock } = {}) {
  const clock = options.clock ?? new ManualClock();
  const metrics = new Metrics({ clock, hasProcessMetrics: false });
  const deps = { clock, rotations: new BucketRotations(), listener: metrics };
  const load = (raw: unknown, previous?: UpstreamMap) => {
    const config: Config = configSchema.parse(raw);
    const { upstreams } = buildUpstreams(config, deps, previous);
    opened.push(upstreams);
    const snapshot = { upstreams, routes: compileRouteTable(config) };
    metrics.syncSnapshot(snapshot);
    return snapshot;
  };
  return { metrics, clock, load };
}

async function scrape(metrics: Metrics): Promise<Map<string, MetricFamily>> {
  return parsePrometheusText(await metrics.render());
}

function endpointOf(upstreams: UpstreamMap, name: string, url: string): Endpoint {
  const endpoint = upstreams.get(name)?.endpoints.find((e) => e.url === url);
  if (endpoint === undefined) throw new Error(`no endpoint ${name} ${url}`);
  return endpoint;
}

/** Every label set of every sample of a family (bucket `le` aside), as sorted key lists. */
function labelKeys(family: MetricFamily | undefined): string[] {
  const keys = new Set<string>();
  for (const sample of family?.samples ?? []) {
    keys.add(
      Object.keys(sample.labels)
        .filter((key) => key !== "le")
        .sort()
        .join(","),
    );
  }
  return [...keys];
}

/** True when any sample anywhere carries `value` in any label. */
function anyLabelHas(families: Map<string, MetricFamily>, value: string): boolean {
  for (const family of families.values()) {
    for (const sample of family.samples) {
      if (Object.values(sample.labels).includes(value)) return true;
    }
  }
  return false;
}

function recordTraffic(metrics: Metrics): void {
  metrics.requestFinished({ route: "web", upstream: "stable", status: 200, durationMs: 3 });
  metrics.requestFinished({ route: "web", upstream: "stable", status: 200, durationMs: 40 });
  metrics.requestFinished({ route: "web", upstream: "canary", status: 503, durationMs: 1200 });
  metrics.requestFinished({ route: "api", upstream: "canary", status: 0, durationMs: 7 });
  metrics.fallback("web", "canary", "stable");
  metrics.retry("web", "stable");
  metrics.rolloutStep("web", "canary", 10);
  metrics.rolloutPhase("web", "progressing");
  metrics.rolloutDecision("web", "advance");
  metrics.configReloaded("success", 1_767_225_600);
}

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
  ];

  it("lists exactly the SPEC metrics", () => {
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
    for (const phase of ROLLOUT_PHASES) {
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

describe("a reload", () => {
  it("removes the series of upstreams, endpoints and routes that are gone", async () => {
    const { metrics, load } = setup();
    const before = load(BASE_CONFIG);
    recordTraffic(metrics);
    metrics.requestFinished({ route: "web", upstream: "stable", status: 200, durationMs: 1 });
    const beforeFamilies = await scrape(metrics);
    expect(anyLabelHas(beforeFamilies, "canary")).toBe(true);
    expect(anyLabelHas(beforeFamilies, S2)).toBe(true);

    const after = load(RELOADED_CONFIG, before.upstreams);
    const families = await scrape(metrics);
    expect(anyLabelHas(families, "canary")).toBe(false);
    expect(anyLabelHas(families, "api")).toBe(false);
    expect(anyLabelHas(families, S2)).toBe(false);
    // What stays keeps its counts; what is new gets its gauges.
    const value = (name: string, labels: Record<string, string>) =>
      sampleValue(families, `switchyard_${name}`, labels);
    expect(value("requests_total", { route: "web", upstream: "stable", code: "200" })).toBe(3);
    expect(value("retries_total", { route: "web", upstream: "stable" })).toBe(1);
    expect(value("endpoint_healthy", { upstream: "stable", endpoint: S1 })).toBe(1);
    expect(value("upstream_weight_percent", { route: "web", upstream: "stable" })).toBe(100);
    expect(value("upstream_weight_percent", { route: "admin", upstream: "stable" })).toBe(100);
    expect(value("rollout_phase", { route: "admin", phase: "idle" })).toBe(1);

    // Reports about what is gone (a request in flight across the reload) make no series.
    metrics.requestFinished({ route: "api", upstream: "canary", status: 200, durationMs: 1 });
    metrics.requestFinished({ route: "web", upstream: "canary", status: 200, durationMs: 1 });
    metrics.retry("web", "canary");
    metrics.onBreakerStateChange("canary", "open", "closed");
    metrics.onTransition(endpointOf(before.upstreams, "stable", S2), false, "probe failed");
    metrics.requestFinished({ route: "admin", upstream: "stable", status: 204, durationMs: 1 });
    const late = await scrape(metrics);
    expect(anyLabelHas(late, "canary")).toBe(false);
    expect(anyLabelHas(late, S2)).toBe(false);
    expect(
      sampleValue(late, "switchyard_requests_total", {
        route: "admin",
        upstream: "stable",
        code: "204",
      }),
    ).toBe(1);
    expect(after.upstreams.get("stable")?.endpoints[0]).toBe(
      endpointOf(before.upstreams, "stable", S1),
    );
  });

  it("drops weight series of upstreams a route no longer splits to", async () => {
    const { metrics, load } = setup();
    load(BASE_CONFIG);
    metrics.setWeights("web", { stable: 100 });
    const families = await scrape(metrics);
    expect(
      sampleValue(families, "switchyard_upstream_weight_percent", {
        route: "web",
        upstream: "canary",
      }),
    ).toBeUndefined();
    expect(
      sampleValue(families, "switchyard_upstream_weight_percent", {
        route: "web",
        upstream: "stable",
      }),
    ).toBe(100);
  });

  it("counts reloads by result and stamps successful ones", async () => {
    const clock = new ManualClock(0, Date.UTC(2026, 0, 1));
    const { metrics } = setup({ clock });
    const timestamp = async () =>
      sampleValue(
        await scrape(metrics),
        "switchyard_config_last_reload_success_timestamp_seconds",
        {},
      );
    const reloads = async (result: string) =>
      sampleValue(await scrape(metrics), "switchyard_config_reloads_total", { result });

    expect(await reloads("success")).toBe(0);
    expect(await reloads("failure")).toBe(0);
    metrics.configLoaded();
    expect(await timestamp()).toBe(Date.UTC(2026, 0, 1) / 1000);
    expect(await reloads("success")).toBe(0);

    clock.advance(90_000);
    metrics.configReloaded("failure");
    expect(await reloads("failure")).toBe(1);
    expect(await timestamp()).toBe(Date.UTC(2026, 0, 1) / 1000);

    metrics.configReloaded("success");
    expect(await reloads("success")).toBe(1);
    expect(await timestamp()).toBe(Date.UTC(2026, 0, 1) / 1000 + 90);
    metrics.configReloaded("success", 1234.5);
    expect(await timestamp()).toBe(1234.5);
  });
});

describe("upstream state", () => {
  const breakerValue = async (metrics: Metrics) =>
    sampleValue(await scrape(metrics), "switchyard_breaker_state", { upstream: "canary" });

  it("follows a real breaker opening, and maps states to 0, 1, 2", async () => {
    const { metrics, load } = setup();
    const { upstreams } = load(BASE_CONFIG);
    const breaker = upstreams.get("canary")?.breaker;
    for (let i = 0; i < 2; i++) breaker?.begin()?.fail();
    await new Promise((resolve) => setImmediate(resolve));
    expect(breaker?.state).toBe("open");
    expect(await breakerValue(metrics)).toBe(2);

    metrics.onBreakerStateChange("canary", "halfOpen", "open");
    expect(await breakerValue(metrics)).toBe(1);
    metrics.onBreakerStateChange("canary", "closed", "halfOpen");
    expect(await breakerValue(metrics)).toBe(0);
    // An open breaker carried over a reload is set from its current state.
    metrics.onBreakerStateChange("canary", "halfOpen", "open");
    metrics.setEndpoints(upstreams);
    expect(await breakerValue(metrics)).toBe(2);
  });

  it("follows ejections by the real outlier detector and health transitions", async () => {
    const { metrics, load, clock } = setup();
    const { upstreams } = load(BASE_CONFIG);
    // Two endpoints at the default 50%: one may be ejected (the last one never is).
    const stable = upstreams.get("stable");
    const endpoint = endpointOf(upstreams, "stable", S2);
    const read = async (name: string) =>
      sampleValue(await scrape(metrics), name, { upstream: "stable", endpoint: S2 });

    for (let i = 0; i < 5; i++) stable?.recordAttempt(endpoint, true);
    expect(endpoint.isEjected).toBe(true);
    expect(await read("switchyard_endpoint_ejected")).toBe(1);
    clock.advance(30_000);
    expect(endpoint.isEjected).toBe(false);
    expect(await read("switchyard_endpoint_ejected")).toBe(0);

    metrics.onTransition(endpoint, false, "status 500");
    expect(await read("switchyard_endpoint_healthy")).toBe(0);
    metrics.onTransition(endpoint, true, "status 200");
    expect(await read("switchyard_endpoint_healthy")).toBe(1);
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

describe("the per-request path", () => {
  it("makes children once per label set", () => {
    const { metrics, load } = setup();
    load(BASE_CONFIG);
    const counterLabels = vi.spyOn(Counter.prototype, "labels");
    const histogramLabels = vi.spyOn(Histogram.prototype, "labels");
    for (let i = 0; i < 100; i++) {
      metrics.requestFinished({ route: "web", upstream: "stable", status: 200, durationMs: i });
      metrics.retry("web", "stable");
      metrics.fallback("web", "canary", "stable");
    }
    // requests_total{200}, retries and fallbacks once each; the histogram child once.
    expect(counterLabels).toHaveBeenCalledTimes(3);
    expect(histogramLabels).toHaveBeenCalledTimes(1);
    metrics.requestFinished({ route: "web", upstream: "stable", status: 502, durationMs: 1 });
    metrics.requestFinished({ route: "web", upstream: "stable", status: 502, durationMs: 1 });
    expect(counterLabels).toHaveBeenCalledTimes(4);
    expect(histogramLabels).toHaveBeenCalledTimes(1);
  });
});
