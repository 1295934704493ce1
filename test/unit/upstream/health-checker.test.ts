/**
 * The checker's scheduling, thresholds, reporting and reload handling, on a manual clock with
 * scripted probers (one per endpoint, answering as the test says).
 */
import { Writable } from "node:stream";
import { afterEach, describe, expect, it } from "vitest";
import { configSchema } from "../../../src/config/schema.ts";
import { createLogger, createSilentLogger } from "../../../src/log/logger.ts";
import type { Endpoint } from "../../../src/upstream/endpoint.ts";
import {
  HealthChecker,
  jitteredIntervalMs,
  type HealthCheckerOptions,
} from "../../../src/upstream/health-checker.ts";
import type { ProbeRequest, ProbeResult } from "../../../src/upstream/health-probe.ts";
import { buildUpstreams, type UpstreamMap } from "../../../src/upstream/upstream-set.ts";
import { ManualClock } from "../../support/manual-clock.ts";
import { testUpstreamDeps } from "../../support/upstream-deps.ts";

const A = "http://127.0.0.1:1";
const B = "http://127.0.0.1:2";
const C = "http://127.0.0.1:3";
const INTERVAL_MS = 1000;
const TIMEOUT_MS = 200;
const TICK_STEP_MS = 10;

type Answer = ProbeResult | "hang" | Error;

interface ProbeCall {
  url: string;
  request: ProbeRequest;
  signal: AbortSignal;
}

/** Probers that answer from `answers` (default: pass) and record every call and close. */
class ScriptedProbers {
  readonly answers = new Map<string, Answer>();
  readonly calls: ProbeCall[] = [];
  readonly closed: string[] = [];
  readonly created: string[] = [];

  readonly create = (endpoint: Endpoint) => {
    this.created.push(endpoint.url);
    return {
      probe: (request: ProbeRequest, signal: AbortSignal): Promise<ProbeResult> => {
        this.calls.push({ url: endpoint.url, request, signal });
        const answer = this.answers.get(endpoint.url) ?? { isPass: true };
        if (answer === "hang") return new Promise<ProbeResult>(() => undefined);
        if (answer instanceof Error) return Promise.reject(answer);
        return Promise.resolve(answer);
      },
      close: () => {
        this.closed.push(endpoint.url);
        return Promise.resolve();
      },
    };
  };

  callsTo(url: string): ProbeCall[] {
    return this.calls.filter((call) => call.url === url);
  }
}

const FAIL_503: ProbeResult = { isPass: false, reason: "unexpected status 503" };

function healthCheck(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    path: "/health",
    interval: `${INTERVAL_MS}ms`,
    timeout: `${TIMEOUT_MS}ms`,
    healthyThreshold: 2,
    unhealthyThreshold: 3,
    ...overrides,
  };
}

const endpointsToClose = new Set<Endpoint>();
afterEach(async () => {
  await Promise.all([...endpointsToClose].map((endpoint) => endpoint.close()));
  endpointsToClose.clear();
});

function upstreamsFrom(upstreams: Record<string, unknown>, previous?: UpstreamMap): UpstreamMap {
  const config = configSchema.parse({
    upstreams,
    routes: [{ name: "web", split: { [Object.keys(upstreams)[0] ?? ""]: 100 } }],
  });
  const built = buildUpstreams(config, testUpstreamDeps(), previous);
  for (const upstream of built.upstreams.values()) {
    for (const endpoint of upstream.endpoints) endpointsToClose.add(endpoint);
  }
  return built.upstreams;
}

function endpointOf(upstreams: UpstreamMap, name: string, url: string): Endpoint {
  const endpoint = upstreams.get(name)?.endpoints.find((e) => e.url === url);
  if (endpoint === undefined) throw new Error(`no endpoint ${name} ${url}`);
  return endpoint;
}

/** Lets settled probe promises run their continuations. */
function flush(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

interface Harness {
  clock: ManualClock;
  probers: ScriptedProbers;
  transitions: string[];
  checker: HealthChecker;
  /** Advances the clock, letting the probes it starts settle on the way. */
  tick: (ms: number) => Promise<void>;
}

const checkers: HealthChecker[] = [];
afterEach(async () => {
  for (const checker of checkers.splice(0)) await checker.stop();
});

function startChecker(
  upstreams: UpstreamMap,
  setup: (probers: ScriptedProbers) => void = () => undefined,
  extra: Partial<HealthCheckerOptions> = {},
): Harness {
  const clock = new ManualClock();
  const probers = new ScriptedProbers();
  setup(probers);
  const transitions: string[] = [];
  const checker = new HealthChecker({
    upstreams,
    logger: createSilentLogger(),
    clock,
    random: () => 0,
    createProber: probers.create,
    listener: {
      onTransition(endpoint, isHealthy, reason) {
        transitions.push(`${endpoint.url} ${isHealthy ? "healthy" : "unhealthy"}: ${reason}`);
      },
    },
    ...extra,
  });
  checkers.push(checker);
  return {
    clock,
    probers,
    transitions,
    checker,
    tick: async (ms) => {
      // Small steps, so a probe that answered is recorded before its timeout falls due.
      for (let left = ms; left > 0; left -= TICK_STEP_MS) {
        clock.advance(Math.min(TICK_STEP_MS, left));
        await flush();
      }
    },
  };
}

describe("jitteredIntervalMs", () => {
  it.each([
    [0, 1000],
    [0.5, 1050],
    [0.999_999, 1099.9999],
  ])("random %f -> %f ms", (random, expected) => {
    expect(jitteredIntervalMs(1000, () => random)).toBeCloseTo(expected, 3);
  });
});

describe("HealthChecker", () => {
  it("keeps checked endpoints out of traffic until their first check, others always in", async () => {
    const upstreams = upstreamsFrom({
      stable: { endpoints: [A], healthCheck: healthCheck() },
      canary: { endpoints: [B] },
    });
    const { checker, probers } = startChecker(upstreams, (p) => p.answers.set(A, "hang"));
    const a = endpointOf(upstreams, "stable", A);
    expect(a.isHealthy).toBe(false);
    expect(checker.healthOf(a)?.status).toBe("unknown");
    expect(endpointOf(upstreams, "canary", B).isHealthy).toBe(true);
    expect(checker.healthOf(endpointOf(upstreams, "canary", B))).toBeUndefined();
    // The first probe goes out at once; nothing probes an upstream without a health check.
    expect(probers.calls.map((call) => call.url)).toEqual([A]);
    await flush();
    expect(checker.isFirstRoundDone).toBe(false);
  });

  it("lets the first check decide: one pass in, one failure out", async () => {
    const upstreams = upstreamsFrom({ stable: { endpoints: [A, B], healthCheck: healthCheck() } });
    const { transitions } = startChecker(upstreams, (p) => p.answers.set(B, FAIL_503));
    await flush();
    expect(endpointOf(upstreams, "stable", A).isHealthy).toBe(true);
    expect(endpointOf(upstreams, "stable", B).isHealthy).toBe(false);
    expect(transitions).toEqual([
      `${A} healthy: check passed`,
      `${B} unhealthy: unexpected status 503`,
    ]);
  });

  it("goes out after 3 failures, back after 2 passes, reporting each change once", async () => {
    const upstreams = upstreamsFrom({ stable: { endpoints: [A], healthCheck: healthCheck() } });
    const { tick, probers, transitions, checker } = startChecker(upstreams);
    const a = endpointOf(upstreams, "stable", A);
    await flush();
    expect(a.isHealthy).toBe(true);

    probers.answers.set(A, FAIL_503);
    await tick(INTERVAL_MS);
    await tick(INTERVAL_MS);
    expect(a.isHealthy).toBe(true);
    expect(checker.healthOf(a)?.consecutiveFailures).toBe(2);
    await tick(INTERVAL_MS);
    expect(a.isHealthy).toBe(false);
    await tick(INTERVAL_MS);
    await tick(INTERVAL_MS);

    probers.answers.set(A, { isPass: true });
    await tick(INTERVAL_MS);
    expect(a.isHealthy).toBe(false);
    await tick(INTERVAL_MS);
    expect(a.isHealthy).toBe(true);
    await tick(INTERVAL_MS);

    expect(probers.callsTo(A)).toHaveLength(9);
    expect(transitions).toEqual([
      `${A} healthy: check passed`,
      `${A} unhealthy: unexpected status 503`,
      `${A} healthy: 2 consecutive checks passed`,
    ]);
  });

  it("does not flap: alternating outcomes never cross a threshold", async () => {
    const upstreams = upstreamsFrom({ stable: { endpoints: [A], healthCheck: healthCheck() } });
    const { tick, probers, transitions } = startChecker(upstreams);
    await flush();
    for (let i = 0; i < 10; i++) {
      probers.answers.set(A, i % 2 === 0 ? FAIL_503 : { isPass: true });
      await tick(INTERVAL_MS);
    }
    expect(endpointOf(upstreams, "stable", A).isHealthy).toBe(true);
    expect(transitions).toEqual([`${A} healthy: check passed`]);
  });

  it("fails a probe that outlives the timeout, aborts it and probes again later", async () => {
    const upstreams = upstreamsFrom({ stable: { endpoints: [A], healthCheck: healthCheck() } });
    const { tick, probers, transitions, checker } = startChecker(upstreams, (p) =>
      p.answers.set(A, "hang"),
    );
    const [first] = probers.calls;
    await tick(TIMEOUT_MS - 1);
    expect(first?.signal.aborted).toBe(false);
    expect(checker.healthOf(endpointOf(upstreams, "stable", A))?.hasBeenChecked).toBe(false);
    await tick(1);
    expect(first?.signal.aborted).toBe(true);
    expect(transitions).toEqual([`${A} unhealthy: timeout after ${TIMEOUT_MS} ms`]);
    // The next probe is an interval after the failed one ended.
    await tick(INTERVAL_MS - 1);
    expect(probers.calls).toHaveLength(1);
    await tick(1);
    expect(probers.calls).toHaveLength(2);
  });

  it("counts a probe that throws as a failure with a short reason", async () => {
    const refused = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:1"), {
      code: "ECONNREFUSED",
    });
    const upstreams = upstreamsFrom({ stable: { endpoints: [A], healthCheck: healthCheck() } });
    const { transitions, checker } = startChecker(upstreams, (p) => p.answers.set(A, refused));
    await flush();
    expect(transitions).toEqual([`${A} unhealthy: connection refused`]);
    expect(checker.healthOf(endpointOf(upstreams, "stable", A))?.lastFailureReason).toBe(
      "connection refused",
    );
  });

  it("waits between interval and interval + 10% before the next probe", async () => {
    const upstreams = upstreamsFrom({ stable: { endpoints: [A], healthCheck: healthCheck() } });
    const { tick, probers } = startChecker(upstreams, () => undefined, {
      random: () => 0.999,
    });
    await flush();
    await tick(INTERVAL_MS * 1.09);
    expect(probers.calls).toHaveLength(1);
    await tick(INTERVAL_MS * 0.01);
    expect(probers.calls).toHaveLength(2);
  });

  it("resolves firstRoundDone once every first check completed, pass or fail", async () => {
    const upstreams = upstreamsFrom({
      stable: { endpoints: [A, B], healthCheck: healthCheck() },
      canary: { endpoints: [C] },
    });
    const { tick, checker } = startChecker(upstreams, (p) => {
      p.answers.set(A, FAIL_503);
      p.answers.set(B, "hang");
    });
    let isResolved = false;
    void checker.firstRoundDone.then(() => (isResolved = true));
    await flush();
    expect(isResolved).toBe(false);
    await tick(TIMEOUT_MS);
    expect(isResolved).toBe(true);
    expect(checker.isFirstRoundDone).toBe(true);
  });

  it("resolves firstRoundDone at once when nothing is checked", async () => {
    const { checker } = startChecker(upstreamsFrom({ stable: { endpoints: [A] } }));
    expect(checker.isFirstRoundDone).toBe(true);
    await expect(checker.firstRoundDone).resolves.toBeUndefined();
  });

  it("keeps reporting when a listener throws", async () => {
    const upstreams = upstreamsFrom({ stable: { endpoints: [A], healthCheck: healthCheck() } });
    const { tick, probers } = startChecker(upstreams, () => undefined, {
      listener: {
        onTransition() {
          throw new Error("listener broke");
        },
      },
    });
    await flush();
    probers.answers.set(A, FAIL_503);
    for (let i = 0; i < 3; i++) await tick(INTERVAL_MS);
    expect(endpointOf(upstreams, "stable", A).isHealthy).toBe(false);
  });

  it("logs each transition once, with upstream, endpoint and reason", async () => {
    const lines: string[] = [];
    const destination = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    const upstreams = upstreamsFrom({ stable: { endpoints: [A], healthCheck: healthCheck() } });
    const { tick, probers } = startChecker(upstreams, () => undefined, {
      logger: createLogger({ level: "info", destination }),
    });
    await flush();
    probers.answers.set(A, FAIL_503);
    for (let i = 0; i < 6; i++) await tick(INTERVAL_MS);
    const records = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(records.map((r) => [r.level, r.msg, r.upstream, r.endpoint, r.reason])).toEqual([
      ["info", "endpoint healthy", "stable", A, "check passed"],
      ["warn", "endpoint unhealthy", "stable", A, "unexpected status 503"],
    ]);
  });

  it("stop() cancels every timer and probe and closes the probers", async () => {
    const upstreams = upstreamsFrom({ stable: { endpoints: [A, B], healthCheck: healthCheck() } });
    const { clock, tick, probers, checker } = startChecker(upstreams, (p) =>
      p.answers.set(B, "hang"),
    );
    await flush();
    await checker.stop();
    expect(clock.pendingCount).toBe(0);
    expect(probers.calls[1]?.signal.aborted).toBe(true);
    expect(probers.closed.sort()).toEqual([A, B]);
    await tick(10 * INTERVAL_MS);
    expect(probers.calls).toHaveLength(2);
  });
});

describe("HealthChecker.update", () => {
  it("checks added endpoints before they serve, and stops checking removed ones", async () => {
    const first = upstreamsFrom({ stable: { endpoints: [A, B], healthCheck: healthCheck() } });
    const { tick, probers, checker, transitions } = startChecker(first);
    await flush();
    const a = endpointOf(first, "stable", A);

    const second = upstreamsFrom(
      { stable: { endpoints: [A, C], healthCheck: healthCheck() } },
      first,
    );
    probers.answers.set(C, "hang");
    checker.update(second);
    const c = endpointOf(second, "stable", C);
    expect(c.isHealthy).toBe(false);
    expect(probers.callsTo(C)).toHaveLength(1);
    expect(probers.closed).toEqual([B]);
    // The kept endpoint is the same object with the same state.
    expect(endpointOf(second, "stable", A)).toBe(a);
    expect(a.isHealthy).toBe(true);
    expect(checker.healthOf(a)?.consecutivePasses).toBe(1);

    probers.answers.set(C, { isPass: true });
    await tick(TIMEOUT_MS);
    expect(c.isHealthy).toBe(false);
    // Never healthy yet: its first pass brings it in.
    await tick(INTERVAL_MS);
    expect(c.isHealthy).toBe(true);
    expect(probers.callsTo(B)).toHaveLength(1);
    expect(probers.callsTo(A)).toHaveLength(2);
    expect(checker.healthOf(a)?.consecutivePasses).toBe(2);
    expect(transitions).toEqual([
      `${A} healthy: check passed`,
      `${B} healthy: check passed`,
      `${C} unhealthy: timeout after ${TIMEOUT_MS} ms`,
      `${C} healthy: check passed`,
    ]);
  });

  it("applies a changed path, interval and thresholds to kept endpoints", async () => {
    const first = upstreamsFrom({ stable: { endpoints: [A], healthCheck: healthCheck() } });
    const { tick, probers, checker } = startChecker(first);
    await flush();
    const a = endpointOf(first, "stable", A);
    const changed = healthCheck({ path: "/ready", interval: "5s", unhealthyThreshold: 1 });
    checker.update(upstreamsFrom({ stable: { endpoints: [A], healthCheck: changed } }, first));
    // The pending probe is rescheduled on the new interval.
    await tick(INTERVAL_MS);
    expect(probers.calls).toHaveLength(1);
    probers.answers.set(A, FAIL_503);
    await tick(5000 - INTERVAL_MS);
    expect(probers.calls.map((call) => call.request.path)).toEqual(["/health", "/ready"]);
    expect(a.isHealthy).toBe(false);
    expect(checker.healthOf(a)?.consecutiveFailures).toBe(1);
  });

  it("replaces the prober and probes at once when the timeout changes", async () => {
    const first = upstreamsFrom({ stable: { endpoints: [A], healthCheck: healthCheck() } });
    const { probers, checker } = startChecker(first, (p) => p.answers.set(A, "hang"));
    const [inFlight] = probers.calls;
    checker.update(
      upstreamsFrom(
        { stable: { endpoints: [A], healthCheck: healthCheck({ timeout: "1s" }) } },
        first,
      ),
    );
    await flush();
    expect(inFlight?.signal.aborted).toBe(true);
    expect(probers.closed).toEqual([A]);
    expect(probers.created).toEqual([A, A]);
    expect(probers.calls).toHaveLength(2);
    // The aborted probe is not counted.
    expect(checker.healthOf(endpointOf(first, "stable", A))?.hasBeenChecked).toBe(false);
  });

  it("puts an endpoint back in traffic when its upstream drops the health check", async () => {
    const first = upstreamsFrom({ stable: { endpoints: [A], healthCheck: healthCheck() } });
    const { tick, clock, probers, checker, transitions } = startChecker(first, (p) =>
      p.answers.set(A, FAIL_503),
    );
    await flush();
    const a = endpointOf(first, "stable", A);
    expect(a.isHealthy).toBe(false);
    checker.update(upstreamsFrom({ stable: { endpoints: [A] } }, first));
    expect(a.isHealthy).toBe(true);
    expect(checker.healthOf(a)).toBeUndefined();
    expect(transitions.at(-1)).toBe(`${A} healthy: health check removed`);
    expect(clock.pendingCount).toBe(0);
    await tick(10 * INTERVAL_MS);
    expect(probers.calls).toHaveLength(1);
  });

  it("keeps a serving endpoint in traffic when its upstream gains a health check", async () => {
    const first = upstreamsFrom({ stable: { endpoints: [A] } });
    const { tick, probers, checker, transitions } = startChecker(first);
    const a = endpointOf(first, "stable", A);
    probers.answers.set(A, FAIL_503);
    checker.update(
      upstreamsFrom({ stable: { endpoints: [A], healthCheck: healthCheck() } }, first),
    );
    expect(a.isHealthy).toBe(true);
    await flush();
    await tick(INTERVAL_MS);
    expect(a.isHealthy).toBe(true);
    await tick(INTERVAL_MS);
    expect(a.isHealthy).toBe(false);
    expect(transitions).toEqual([`${A} unhealthy: unexpected status 503`]);
  });

  it("resolves firstRoundDone when the only pending endpoint is removed", async () => {
    const first = upstreamsFrom({
      stable: { endpoints: [A] },
      canary: { endpoints: [B], healthCheck: healthCheck() },
    });
    const { checker } = startChecker(first, (p) => p.answers.set(B, "hang"));
    await flush();
    expect(checker.isFirstRoundDone).toBe(false);
    checker.update(upstreamsFrom({ stable: { endpoints: [A] } }, first));
    await expect(checker.firstRoundDone).resolves.toBeUndefined();
  });

  it("does nothing after stop()", async () => {
    const first = upstreamsFrom({ stable: { endpoints: [A], healthCheck: healthCheck() } });
    const { probers, checker } = startChecker(first);
    await checker.stop();
    checker.update(upstreamsFrom({ stable: { endpoints: [B], healthCheck: healthCheck() } }));
    expect(probers.created).toEqual([A]);
  });
});
