/**
 * Breaker, ejection and health gauges driven by the real breaker and outlier detector of
 * upstreams built with the Metrics instance as their listener.
 */
import { afterEach, describe, expect, it, vi } from "vitest";
import type { Metrics } from "../../../src/metrics/metrics.ts";
import {
  BASE_CONFIG,
  closeOpenedUpstreams,
  endpointOf,
  S2,
  scrape,
  setup,
} from "./metrics-fixture.ts";
import { sampleValue } from "../../support/prometheus-text.ts";

afterEach(async () => {
  vi.restoreAllMocks();
  await closeOpenedUpstreams();
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
