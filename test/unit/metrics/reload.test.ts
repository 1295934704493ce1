/**
 * Reloads: series of what the new config no longer has are removed and stay removed, what
 * stays keeps its counts, and reloads are counted and stamped.
 */
import { afterEach, describe, expect, it, vi } from "vitest";
import { ManualClock } from "../../support/manual-clock.ts";
import {
  anyLabelHas,
  BASE_CONFIG,
  closeOpenedUpstreams,
  endpointOf,
  recordTraffic,
  RELOADED_CONFIG,
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
