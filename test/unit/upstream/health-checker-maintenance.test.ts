/**
 * Health checks and the operators' endpoint states (SPEC 12): a drained endpoint keeps being
 * checked, one in maintenance is not probed at all, and leaving maintenance starts its checks
 * afresh (out of traffic until a check passes). A manual clock and probers that count calls.
 */
import { afterEach, describe, expect, it } from "vitest";
import { configSchema } from "../../../src/config/schema.ts";
import { createSilentLogger } from "../../../src/log/logger.ts";
import type { Endpoint } from "../../../src/upstream/endpoint.ts";
import { HealthChecker } from "../../../src/upstream/health-checker.ts";
import type { ProbeResult } from "../../../src/upstream/health-probe.ts";
import {
  buildUpstreams,
  closeUpstreams,
  type UpstreamMap,
} from "../../../src/upstream/upstream-set.ts";
import { ManualClock } from "../../support/manual-clock.ts";
import { testUpstreamDeps } from "../../support/upstream-deps.ts";

const A = "http://127.0.0.1:1";
const B = "http://127.0.0.1:2";
const INTERVAL_MS = 1000;

const opened: UpstreamMap[] = [];
const checkers: HealthChecker[] = [];
afterEach(async () => {
  for (const checker of checkers.splice(0)) await checker.stop();
  await Promise.all(opened.splice(0).map((upstreams) => closeUpstreams(upstreams)));
});

function upstreamsOf(healthCheck: Record<string, unknown>, previous?: UpstreamMap): UpstreamMap {
  const config = configSchema.parse({
    upstreams: { stable: { endpoints: [A, B], healthCheck } },
    routes: [{ name: "web", split: { stable: 100 } }],
  });
  const { upstreams } = buildUpstreams(config, testUpstreamDeps(), previous);
  opened.push(upstreams);
  return upstreams;
}

const CHECK = { interval: `${INTERVAL_MS}ms`, timeout: "200ms", healthyThreshold: 2 };

function endpointOf(upstreams: UpstreamMap, url: string): Endpoint {
  const found = upstreams.get("stable")?.endpoints.find((endpoint) => endpoint.url === url);
  if (found === undefined) throw new Error(`no endpoint ${url}`);
  return found;
}

function flush(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** A checker whose probes pass (or answer `answers[url]`), counting them per URL. */
function startChecker(upstreams: UpstreamMap, answers: Record<string, ProbeResult> = {}) {
  const clock = new ManualClock();
  const probes: string[] = [];
  const transitions: string[] = [];
  const checker = new HealthChecker({
    upstreams,
    logger: createSilentLogger(),
    clock,
    random: () => 0,
    createProber: (endpoint) => ({
      probe: () => {
        probes.push(endpoint.url);
        return Promise.resolve(answers[endpoint.url] ?? { isPass: true });
      },
      close: () => Promise.resolve(),
    }),
    listener: {
      onTransition: (endpoint, isHealthy) => {
        transitions.push(`${endpoint.url} ${isHealthy ? "healthy" : "unhealthy"}`);
      },
    },
  });
  checkers.push(checker);
  const countOf = (url: string): number => probes.filter((probed) => probed === url).length;
  /** One interval later, with the probes it started settled. */
  const nextRound = async (intervalMs = INTERVAL_MS): Promise<void> => {
    clock.advance(intervalMs);
    await flush();
  };
  return { checker, countOf, nextRound, transitions };
}

describe("health checks and endpoint states", () => {
  it("keeps checking a drained endpoint and stops probing one in maintenance", async () => {
    const upstreams = upstreamsOf(CHECK);
    const { checker, countOf, nextRound } = startChecker(upstreams);
    await flush();
    const a = endpointOf(upstreams, A);
    const b = endpointOf(upstreams, B);
    a.adminState = "drain";
    checker.followAdminState(a);
    b.adminState = "maintenance";
    checker.followAdminState(b);
    const [drainedBefore, maintainedBefore] = [countOf(A), countOf(B)];
    for (let round = 0; round < 3; round++) await nextRound();
    // The drained endpoint's probes show the rounds went by; the other got none of them.
    expect(countOf(A)).toBe(drainedBefore + 3);
    expect(countOf(B)).toBe(maintainedBefore);
    expect(checker.healthOf(b)).toBeUndefined();
  });

  it("starts checks afresh when maintenance ends: out of traffic until a check passes", async () => {
    const upstreams = upstreamsOf(CHECK);
    const { checker, countOf, transitions } = startChecker(upstreams);
    await flush();
    const b = endpointOf(upstreams, B);
    expect(b.isHealthy).toBe(true);
    b.adminState = "maintenance";
    checker.followAdminState(b);
    const probesBefore = countOf(B);

    b.adminState = "ready";
    checker.followAdminState(b);
    // Probed at once; until its answer is in, the endpoint takes nothing.
    expect(countOf(B)).toBe(probesBefore + 1);
    expect(b.isHealthy).toBe(false);
    expect(b.isAvailable).toBe(false);
    await flush();
    expect(b.isHealthy).toBe(true);
    expect(b.isAvailable).toBe(true);
    expect(transitions.filter((t) => t.startsWith(B))).toEqual([`${B} healthy`, `${B} healthy`]);
  });

  it("does not probe an endpoint already in maintenance at start, nor wait for it to be ready", async () => {
    const upstreams = upstreamsOf(CHECK);
    endpointOf(upstreams, B).adminState = "maintenance";
    const { checker, countOf, nextRound } = startChecker(upstreams);
    await checker.firstRoundDone;
    await nextRound();
    expect(countOf(A)).toBe(2);
    expect(countOf(B)).toBe(0);
  });

  it("keeps an endpoint in maintenance unprobed through a reload, with the new check settings", async () => {
    const upstreams = upstreamsOf(CHECK);
    const { checker, countOf, nextRound } = startChecker(upstreams);
    await flush();
    const b = endpointOf(upstreams, B);
    b.adminState = "maintenance";
    checker.followAdminState(b);
    const reloaded = upstreamsOf({ ...CHECK, interval: `${INTERVAL_MS / 2}ms` }, upstreams);
    checker.update(reloaded);
    const probesBefore = countOf(B);
    await nextRound();
    expect(countOf(B)).toBe(probesBefore);

    b.adminState = "drain";
    checker.followAdminState(b);
    await flush();
    expect(countOf(B)).toBe(probesBefore + 1);
    // Then probed at the new interval.
    await nextRound(INTERVAL_MS / 2);
    expect(countOf(B)).toBe(probesBefore + 2);
  });
});
