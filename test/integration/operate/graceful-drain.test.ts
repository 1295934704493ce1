/**
 * SPEC 8 (graceful drain) and 7 (/readyz) on a `switchyard serve` process: on SIGTERM /readyz
 * turns 503 first, new connections are still served for drainDelay, requests in flight
 * finish with `Connection: close`, and the process exits 0; a request that outlives
 * drainTimeout is cut by it and the process still exits 0. /readyz is also 503 until the
 * first round of health checks has finished. What is checked is the order of events, seen in
 * answers and log lines, never how long they took.
 */
import { Client } from "undici";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { adminCall, getEvents, getStatus } from "../../support/admin-calls.ts";
import { startEchoBackend, type EchoBackend } from "../../support/echo-backend.ts";
import {
  configText,
  makeConfigDir,
  startFileSwitchyard,
  type ConfigDir,
  type FileSwitchyard,
} from "../../support/file-switchyard.ts";
import { closeDefaultAgent, errorCode } from "../../support/http-client.ts";
import { waitFor } from "../../support/ports.ts";
import { startStallingBackend, type RawBackend } from "../../support/raw-backends.ts";
import {
  killAllSwitchyardProcesses,
  startSwitchyardProcess,
  type ServingSwitchyard,
} from "../../support/switchyard-process.ts";

/** Long enough that a request sent once /readyz says 503 is surely sent before the close. */
const DRAIN_DELAY_MS = 1500;
/** In flight across the listener's close: longer than drainDelay. */
const SLOW_MS = 2500;
/** Far beyond every request of the tests that do not want the drain timeout to cut. */
const NO_DRAIN_TIMEOUT_MS = 20_000;

let fast: EchoBackend;
let slow: EchoBackend;
let stuck: EchoBackend;
let stalling: RawBackend;
let configDir: ConfigDir | undefined;
let inProcess: FileSwitchyard | undefined;

beforeAll(async () => {
  fast = await startEchoBackend({ name: "fast" });
  slow = await startEchoBackend({ name: "slow", delayMs: SLOW_MS });
  // Answers long after drainTimeout.
  stuck = await startEchoBackend({ name: "stuck", delayMs: 15_000 });
  stalling = await startStallingBackend();
});

afterEach(async () => {
  await killAllSwitchyardProcesses();
  await inProcess?.close();
  inProcess = undefined;
  await configDir?.remove();
  configDir = undefined;
  await closeDefaultAgent();
});

afterAll(async () => {
  await fast.close();
  await slow.close();
  await stuck.close();
  await stalling.close();
});

function drainConfig(drainDelayMs: number, drainTimeoutMs: number): Record<string, unknown> {
  return {
    upstreams: {
      fast: { endpoints: [fast.url] },
      slow: { endpoints: [slow.url] },
      stuck: { endpoints: [stuck.url] },
    },
    routes: [
      { name: "slow", match: { pathPrefix: "/slow" }, split: { slow: 100 } },
      { name: "stuck", match: { pathPrefix: "/stuck" }, split: { stuck: 100 } },
      { name: "web", split: { fast: 100 } },
    ],
    server: {
      drainDelay: `${String(drainDelayMs)}ms`,
      drainTimeout: `${String(drainTimeoutMs)}ms`,
    },
  };
}

async function startServe(
  drainDelayMs = DRAIN_DELAY_MS,
  drainTimeoutMs = NO_DRAIN_TIMEOUT_MS,
): Promise<ServingSwitchyard> {
  configDir = await makeConfigDir(configText(drainConfig(drainDelayMs, drainTimeoutMs)));
  return startSwitchyardProcess(configDir.configFile);
}

interface Outcome {
  status?: number;
  connection?: string;
  /** Network error code when no complete answer arrived. */
  error?: string;
  /** performance.now() when the answer (or the error) arrived. */
  endedAt: number;
}

/** One GET on a connection of its own (keep-alive, so `Connection: close` means the server's). */
function request(origin: string, path: string): { client: Client; outcome: Promise<Outcome> } {
  const client = new Client(origin);
  const outcome = (async (): Promise<Outcome> => {
    try {
      const response = await client.request({
        path,
        method: "GET",
        headersTimeout: 20_000,
        bodyTimeout: 20_000,
      });
      await response.body.text();
      const connection = response.headers.connection;
      return {
        status: response.statusCode,
        ...(typeof connection === "string" ? { connection } : {}),
        endedAt: performance.now(),
      };
    } catch (error) {
      return { error: errorCode(error), endedAt: performance.now() };
    } finally {
      await client.destroy();
    }
  })();
  return { client, outcome };
}

async function readyz(adminUrl: string): Promise<{ status: number; json: unknown }> {
  const answer = await adminCall(adminUrl, "GET", "/readyz");
  return { status: answer.status, json: answer.json };
}

/** performance.now() of a log line, from its ISO time (the child's clock is the same wall clock). */
function perfTimeOf(iso: string): number {
  return Date.parse(iso) - (Date.now() - performance.now());
}

describe("graceful drain on SIGTERM", () => {
  it("turns /readyz 503 first, serves new connections for drainDelay, finishes in-flight requests with Connection: close, exits 0", async () => {
    const serve = await startServe();
    expect(await readyz(serve.adminUrl)).toEqual({
      status: 200,
      json: { ready: true, draining: false },
    });
    const before = await request(serve.proxyUrl, "/").outcome;
    expect(before).toMatchObject({ status: 200, connection: "keep-alive" });

    const inFlight = Array.from({ length: 4 }, () => request(serve.proxyUrl, "/slow/x").outcome);
    await waitFor(() => slow.received.length >= 4, { description: "4 slow requests upstream" });

    serve.signal("SIGTERM");
    const notReady = await waitFor(
      async () => {
        const answer = await readyz(serve.adminUrl);
        return answer.status === 503 ? answer : undefined;
      },
      { timeoutMs: 10_000, intervalMs: 5, description: "/readyz 503" },
    );
    expect(notReady.json).toEqual({ ready: false, draining: true });
    expect((await getStatus(serve.adminUrl)).draining).toBe(true);

    // Not ready, and still serving: a new connection is answered (this is drainDelay); the slow
    // one finishes after the listener has closed.
    const lateSlow = request(serve.proxyUrl, "/slow/late").outcome;
    const lateFast = await request(serve.proxyUrl, "/").outcome;
    expect(lateFast).toMatchObject({ status: 200 });

    const outcomes = await Promise.all([...inFlight, lateSlow]);
    const closedLog = await serve.waitForLog((l) => l.msg.startsWith("draining: listener closed"));
    const listenerClosedAt = perfTimeOf(closedLog.time);
    for (const outcome of outcomes) {
      expect(outcome).toMatchObject({ status: 200, connection: "close" });
      expect(outcome.endedAt).toBeGreaterThan(listenerClosedAt);
    }
    const exit = await serve.exited;
    expect(exit.code, exit.stderr).toBe(0);
    expect(serve.logs().map((l) => l.msg)).toContain("drained");
    // After the listener closed, new connections are refused.
    const refused = await request(serve.proxyUrl, "/").outcome;
    expect(refused.error).toBe("ECONNREFUSED");
  });

  it("cuts a request that outlives drainTimeout, and still exits 0", async () => {
    // The listener closes long before the drain timeout: the request is seen alive in between.
    const serve = await startServe(200, 3000);
    const received = stuck.received.length;
    let isEnded = false;
    const stuckRequest = request(serve.proxyUrl, "/stuck/forever").outcome.finally(() => {
      isEnded = true;
    });
    await waitFor(() => stuck.received.length > received, { description: "the stuck request" });

    serve.signal("SIGTERM");
    await serve.waitForLog((l) => l.msg.startsWith("draining: listener closed"));
    // Closing the listener does not cut a request in flight.
    expect(isEnded).toBe(false);
    const outcome = await stuckRequest;
    expect(outcome.status).toBeUndefined();
    expect(outcome.error).toMatch(/^(UND_ERR_SOCKET|ECONNRESET)$/);

    const exit = await serve.exited;
    expect(exit.code, exit.stderr).toBe(0);
    // The drain timeout is what cut it: the drain did not finish on its own.
    expect(serve.logs().some((l) => l.level === "warn" && l.msg.startsWith("drain timeout"))).toBe(
      true,
    );
  });
});

describe("a second signal during the drain", () => {
  it("closes every connection now instead of waiting for drainTimeout", async () => {
    const serve = await startServe(200, NO_DRAIN_TIMEOUT_MS);
    const received = stuck.received.length;
    const stuckRequest = request(serve.proxyUrl, "/stuck/forever").outcome;
    await waitFor(() => stuck.received.length > received, { description: "the stuck request" });

    serve.signal("SIGTERM");
    await serve.waitForLog((l) => l.msg.startsWith("draining: listener closed"));
    serve.signal("SIGTERM");
    await serve.waitForLog((l) => l.msg === "second signal: closing every connection now");
    const outcome = await stuckRequest;
    expect(outcome.error).toMatch(/^(UND_ERR_SOCKET|ECONNRESET)$/);
    const exit = await serve.exited;
    expect(exit.code, exit.stderr).toBe(0);
    // The second signal cut it, not the drain timeout (which logs a warning when it does).
    expect(serve.logs().some((l) => l.msg.startsWith("drain timeout"))).toBe(false);
  });
});

describe("/readyz before the first round of health checks", () => {
  it("answers 503 until the first round has finished, then 200", async () => {
    const checkTimeoutMs = 1500;
    inProcess = await startFileSwitchyard(
      {
        upstreams: {
          fast: { endpoints: [fast.url] },
          // Its /health never answers: the first round ends when the check times out.
          hanging: {
            endpoints: [stalling.url],
            healthCheck: { interval: "100ms", timeout: `${String(checkTimeoutMs)}ms` },
          },
        },
        routes: [{ name: "web", split: { fast: 100 } }],
      },
      { isWaitingForReady: false },
    );
    expect(await readyz(inProcess.adminUrl)).toEqual({
      status: 503,
      json: { ready: false, draining: false },
    });
    expect((await getStatus(inProcess.adminUrl)).ready).toBe(false);
    await waitFor(async () => (await readyz(inProcess?.adminUrl ?? "")).status === 200, {
      timeoutMs: 15_000,
      intervalMs: 20,
      description: "/readyz 200",
    });
    // Not before the stalled check timed out: its first check's failure is on record.
    expect(await getEvents(inProcess.adminUrl)).toContainEqual(
      expect.objectContaining({
        type: "endpoint.health",
        endpoint: stalling.url,
        healthy: false,
        reason: `timeout after ${String(checkTimeoutMs)} ms`,
      }),
    );
    expect(await readyz(inProcess.adminUrl)).toEqual({
      status: 200,
      json: { ready: true, draining: false },
    });
  });
});
