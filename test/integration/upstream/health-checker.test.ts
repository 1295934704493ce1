/**
 * The real prober on the system clock against real loopback backends: status changes, stalls,
 * refused and reset connections, and garbage all drive an endpoint's health as configured.
 */
import { createServer } from "node:net";
import { describe, expect, it } from "vitest";
import { cleanupAfterEach } from "../../support/cleanups.ts";
import { configSchema } from "../../../src/config/schema.ts";
import { createSilentLogger } from "../../../src/log/logger.ts";
import type { Endpoint } from "../../../src/upstream/endpoint.ts";
import { HealthChecker } from "../../../src/upstream/health-checker.ts";
import { buildUpstreams, type UpstreamMap } from "../../../src/upstream/upstream-set.ts";
import { startEchoBackend } from "../../support/echo-backend.ts";
import { closeServer, listenOnFreePort, originOf, waitFor } from "../../support/ports.ts";
import {
  startGarbageBackend,
  startResettingBackend,
  startStallingBackend,
} from "../../support/raw-backends.ts";
import { testUpstreamDeps } from "../../support/upstream-deps.ts";

const INTERVAL_MS = 100;
/** Generous: a probe that should pass must not time out because the machine is busy. */
const TIMEOUT_MS = 2000;
/** The deadline of the test that wants probes to time out. */
const STALL_TIMEOUT_MS = 150;

const { track, defer } = cleanupAfterEach();

function upstreamsFor(urls: string[], healthCheck: Record<string, unknown> = {}): UpstreamMap {
  const config = configSchema.parse({
    upstreams: {
      stable: {
        endpoints: urls,
        healthCheck: {
          interval: `${INTERVAL_MS}ms`,
          timeout: `${TIMEOUT_MS}ms`,
          healthyThreshold: 2,
          unhealthyThreshold: 2,
          ...healthCheck,
        },
      },
    },
    routes: [{ name: "web", split: { stable: 100 } }],
  });
  const { upstreams } = buildUpstreams(config, testUpstreamDeps());
  for (const endpoint of upstreams.get("stable")?.endpoints ?? []) track(endpoint);
  return upstreams;
}

function onlyEndpoint(upstreams: UpstreamMap): Endpoint {
  const endpoint = upstreams.get("stable")?.endpoints[0];
  if (endpoint === undefined) throw new Error("no endpoint");
  return endpoint;
}

interface Transition {
  url: string;
  isHealthy: boolean;
  reason: string;
}

function startChecker(upstreams: UpstreamMap): {
  checker: HealthChecker;
  transitions: Transition[];
} {
  const transitions: Transition[] = [];
  const checker = new HealthChecker({
    upstreams,
    logger: createSilentLogger(),
    listener: {
      onTransition(endpoint, isHealthy, reason) {
        transitions.push({ url: endpoint.url, isHealthy, reason });
      },
    },
  });
  defer(() => checker.stop());
  return { checker, transitions };
}

async function refusedOrigin(): Promise<string> {
  const server = createServer();
  const port = await listenOnFreePort(server);
  await closeServer(server);
  return originOf(port);
}

describe("HealthChecker against real backends", () => {
  it("follows /health: out after the failure threshold, back after the pass threshold", async () => {
    const backend = track(await startEchoBackend());
    const upstreams = upstreamsFor([backend.url]);
    const endpoint = onlyEndpoint(upstreams);
    const { checker, transitions } = startChecker(upstreams);
    expect(endpoint.isHealthy).toBe(false);
    await checker.firstRoundDone;
    expect(endpoint.isHealthy).toBe(true);

    backend.setHealthStatus(503);
    await waitFor(() => !endpoint.isHealthy, { description: "endpoint unhealthy" });
    expect(checker.healthOf(endpoint)?.consecutiveFailures).toBe(2);

    backend.setHealthStatus(200);
    await waitFor(() => endpoint.isHealthy, { description: "endpoint healthy again" });
    expect(transitions).toEqual([
      { url: backend.url, isHealthy: true, reason: "check passed" },
      { url: backend.url, isHealthy: false, reason: "unexpected status 503" },
      { url: backend.url, isHealthy: true, reason: "2 consecutive checks passed" },
    ]);
    // Probes have their own connections: the data-path pool never opened one.
    expect(endpoint.pool.stats.connected).toBe(0);
    expect(backend.healthChecks).toBeGreaterThanOrEqual(5);
    // Every probe asked for Connection: close, so none reused an idle socket.
    expect(backend.connections).toBeGreaterThanOrEqual(backend.healthChecks);
  });

  it("counts a stalled /health as a timeout, and each probe gets a fresh connection", async () => {
    const backend = track(await startStallingBackend());
    const upstreams = upstreamsFor([backend.url], { timeout: `${String(STALL_TIMEOUT_MS)}ms` });
    const { checker, transitions } = startChecker(upstreams);
    await checker.firstRoundDone;
    // The reason names the deadline that cut the probe; how long the wait took is not timed.
    expect(transitions).toEqual([
      { url: backend.url, isHealthy: false, reason: `timeout after ${STALL_TIMEOUT_MS} ms` },
    ]);
    await waitFor(() => backend.acceptedCount >= 3, { description: "three probe connections" });
    expect(checker.healthOf(onlyEndpoint(upstreams))?.consecutiveFailures).toBeGreaterThanOrEqual(
      2,
    );
  });

  it.each([
    ["refused", () => refusedOrigin(), "connection refused"],
    [
      "reset",
      async () => track(await startResettingBackend({ when: "accept" })).url,
      "connection reset",
    ],
    ["garbage", async () => track(await startGarbageBackend()).url, "malformed response"],
  ])("counts a %s connection as a failure", async (_name, origin, reason) => {
    const url = await origin();
    const upstreams = upstreamsFor([url]);
    const { checker, transitions } = startChecker(upstreams);
    await checker.firstRoundDone;
    expect(onlyEndpoint(upstreams).isHealthy).toBe(false);
    expect(transitions).toEqual([{ url, isHealthy: false, reason }]);
  });

  it("uses the configured path and status ranges", async () => {
    const backend = track(await startEchoBackend());
    // The echo backend answers /status/418 with 418: a pass only because the config says so.
    const upstreams = upstreamsFor([backend.url], { path: "/status/418", expectStatus: [418] });
    const { checker } = startChecker(upstreams);
    await checker.firstRoundDone;
    expect(onlyEndpoint(upstreams).isHealthy).toBe(true);
    expect(backend.received[0]?.url).toBe("/status/418");
  });

  it("resolves the first round once every endpoint has answered, and stop() ends probing", async () => {
    const healthy = track(await startEchoBackend());
    const failing = track(await startEchoBackend({ healthStatus: 500 }));
    const upstreams = upstreamsFor([healthy.url, failing.url, await refusedOrigin()]);
    const { checker } = startChecker(upstreams);
    await checker.firstRoundDone;
    const endpoints = upstreams.get("stable")?.endpoints ?? [];
    expect(endpoints.map((e) => e.isHealthy)).toEqual([true, false, false]);

    // A second checker on a backend of its own keeps running: it shows time passing, in probes.
    const witness = track(await startEchoBackend());
    startChecker(upstreamsFor([witness.url]));
    await checker.stop();
    const probesAtStop = healthy.healthChecks + failing.healthChecks;
    const witnessAtStop = witness.healthChecks;
    await waitFor(() => witness.healthChecks >= witnessAtStop + 3, {
      timeoutMs: 10_000,
      description: "three more probes of the checker left running",
    });
    expect(healthy.healthChecks + failing.healthChecks).toBe(probesAtStop);
  });
});
