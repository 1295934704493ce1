/**
 * Workers and fleet mode compose (SPEC 10 and 11): replicas with two workers each, the fleet
 * link in each primary. A change made through one replica is in force on every worker of every
 * replica; each primary's /metrics sums its workers and shows its fleet link.
 */
import { describe, expect, it } from "vitest";
import { adminCall, setWeights } from "../support/admin-calls.ts";
import { cleanupAfterEach } from "../support/cleanups.ts";
import { startEchoBackend } from "../support/echo-backend.ts";
import { startReplica, waitForStatus, type FleetReplica } from "../support/fleet-replicas.ts";
import { waitFor } from "../support/ports.ts";
import { parsePrometheusText, sampleValue } from "../support/prometheus-text.ts";
import { startRedisServer } from "../support/redis-server.ts";
import { answeredOnFreshConnections, WORKERS_DEADLINE_MS } from "../support/worker-switchyard.ts";

const cleanups = cleanupAfterEach();
const REQUESTS = 40;

describe("workers in a fleet", () => {
  it("puts a change made through one replica in force on every worker of every replica", async () => {
    const redis = cleanups.track(await startRedisServer());
    const stable = cleanups.track(await startEchoBackend({ name: "stable" }));
    const canary = cleanups.track(await startEchoBackend({ name: "canary" }));
    const raw = {
      workers: 2,
      upstreams: { stable: { endpoints: [stable.url] }, canary: { endpoints: [canary.url] } },
      routes: [{ name: "web", split: { stable: 100, canary: 0 } }],
    };
    const replicas: FleetReplica[] = await Promise.all(
      ["a", "b"].map((replica) =>
        startReplica(cleanups, { redis, fleetName: "shop", replica, raw }),
      ),
    );
    const [a, b] = replicas as [FleetReplica, FleetReplica];
    expect((await a.status()).workers).toHaveLength(2);

    await setWeights(a.adminUrl, "web", { stable: 0, canary: 100 });
    await waitForStatus(b, (s) => s.routes[0]?.split.canary === 100, "b follows the fleet");
    // b's primary sends what it followed on to its workers: a message away.
    let polledOnCanary = 0;
    await waitFor(
      async () => {
        const tally = await answeredOnFreshConnections(b.proxyUrl, 2);
        polledOnCanary += tally.canary ?? 0;
        return tally.canary === 2;
      },
      {
        timeoutMs: WORKERS_DEADLINE_MS,
        intervalMs: 50,
        description: "b's workers on the new split",
      },
    );
    for (const replica of replicas) {
      expect(await answeredOnFreshConnections(replica.proxyUrl, REQUESTS)).toEqual({
        canary: REQUESTS,
      });
    }
    await waitFor(
      async () => {
        const metrics = parsePrometheusText((await adminCall(b.adminUrl, "GET", "/metrics")).body);
        const served = sampleValue(metrics, "switchyard_requests_total", {
          route: "web",
          upstream: "canary",
          code: "200",
        });
        return (
          served === REQUESTS + polledOnCanary &&
          sampleValue(metrics, "switchyard_fleet_connected", {}) === 1
        );
      },
      { timeoutMs: WORKERS_DEADLINE_MS, intervalMs: 200, description: "b's /metrics" },
    );
  });
});
