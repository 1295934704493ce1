/**
 * A second SIGTERM during a drain closes every connection at once instead of waiting for
 * drainTimeout.
 *
 * SPEC 8 (graceful drain) and 7 (/readyz) on a `switchyard serve` process: on SIGTERM /readyz
 * turns 503 at once, new connections are still served for drainDelay, requests in flight
 * finish with `Connection: close`, and the process exits 0; a request that outlives
 * drainTimeout is cut and the process still exits 0 right after. /readyz is also 503 until the
 * first round of health checks has finished.
 */
import { Client } from "undici";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startEchoBackend, type EchoBackend } from "../../support/echo-backend.ts";
import {
  configText,
  makeConfigDir,
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

const DRAIN_DELAY_MS = 500;
const DRAIN_TIMEOUT_MS = 3000;
const SLOW_MS = 1000;

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

function drainConfig(): Record<string, unknown> {
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
      drainDelay: `${String(DRAIN_DELAY_MS)}ms`,
      drainTimeout: `${String(DRAIN_TIMEOUT_MS)}ms`,
    },
  };
}

async function startServe(): Promise<ServingSwitchyard> {
  configDir = await makeConfigDir(configText(drainConfig()));
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

describe("a second signal during the drain", () => {
  it("closes every connection now instead of waiting for drainTimeout", async () => {
    const serve = await startServe();
    const received = stuck.received.length;
    const stuckRequest = request(serve.proxyUrl, "/stuck/forever").outcome;
    await waitFor(() => stuck.received.length > received, { description: "the stuck request" });

    serve.signal("SIGTERM");
    await serve.waitForLog((l) => l.msg.startsWith("draining: listener closed"));
    const secondAt = performance.now();
    serve.signal("SIGTERM");
    await serve.waitForLog((l) => l.msg === "second signal: closing every connection now");
    const outcome = await stuckRequest;
    expect(outcome.error).toMatch(/^(UND_ERR_SOCKET|ECONNRESET)$/);
    expect(outcome.endedAt - secondAt).toBeLessThan(1000);
    const exit = await serve.exited;
    expect(performance.now() - secondAt).toBeLessThan(1500);
    expect(exit.code, exit.stderr).toBe(0);
  });
});
