/**
 * SPEC 3.6 and 4: an endpoint whose /health fails `unhealthyThreshold` times in a row gets no
 * real traffic, and gets its share back after `healthyThreshold` passes.
 */
import { describe, expect, it } from "vitest";
import { cleanupAfterEach } from "../../support/cleanups.ts";
import { startEchoBackend } from "../../support/echo-backend.ts";
import { hammer } from "../../support/http-client.ts";
import { waitFor } from "../../support/ports.ts";
import { singleUpstreamConfig, startTestSwitchyard } from "../../support/switchyard.ts";

const { track } = cleanupAfterEach();

const REQUESTS = 60;

describe("active health checks and traffic", () => {
  it("sends nothing to an endpoint failing /health, and traffic returns once it passes", async () => {
    const first = track(await startEchoBackend({ name: "first" }));
    const second = track(await startEchoBackend({ name: "second" }));
    const proxy = track(
      await startTestSwitchyard(
        singleUpstreamConfig([first.url, second.url], {
          upstream: {
            healthCheck: {
              interval: "100ms",
              // Generous: a loaded machine must not fail a probe by its own slowness.
              timeout: "1s",
              healthyThreshold: 2,
              unhealthyThreshold: 2,
            },
          },
        }),
      ),
    );
    const [firstEndpoint] = proxy.runtime.current.upstreams.get("stable")?.endpoints ?? [];
    if (firstEndpoint === undefined) throw new Error("no endpoint");

    // Both healthy: round-robin shares the requests evenly.
    const before = await hammer(`${proxy.url}/`, { total: REQUESTS, concurrency: 4 });
    expect(before.byStatus).toEqual({ 200: REQUESTS });
    expect(first.received.length).toBe(REQUESTS / 2);
    expect(second.received.length).toBe(REQUESTS / 2);

    first.setHealthStatus(503);
    const checksBefore = first.healthChecks;
    await waitFor(() => !firstEndpoint.isHealthy, {
      timeoutMs: 3000,
      description: "the first endpoint marked unhealthy",
    });
    // Not on the first failed check: the threshold is two in a row.
    expect(first.healthChecks - checksBefore).toBeGreaterThanOrEqual(2);
    first.clearReceived();
    second.clearReceived();
    const during = await hammer(`${proxy.url}/`, { total: REQUESTS, concurrency: 4 });
    expect(during.byStatus).toEqual({ 200: REQUESTS });
    expect(during.byName).toEqual({ second: REQUESTS });
    expect(first.received.length).toBe(0);
    expect(second.received.length).toBe(REQUESTS);

    first.setHealthStatus(200);
    await waitFor(() => firstEndpoint.isHealthy, {
      timeoutMs: 3000,
      description: "the first endpoint healthy again",
    });
    first.clearReceived();
    second.clearReceived();
    const after = await hammer(`${proxy.url}/`, { total: REQUESTS, concurrency: 4 });
    expect(after.byStatus).toEqual({ 200: REQUESTS });
    expect(first.received.length).toBe(REQUESTS / 2);
    expect(second.received.length).toBe(REQUESTS / 2);
  });
});
