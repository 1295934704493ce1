/**
 * SPEC 3.5 and 8: when no upstream of a route can take a request, the client hears so at once:
 * a 503 with Retry-After once health checks or breakers know, and before they do, a refused
 * connection answers right away rather than after a connect timeout.
 */
import { afterEach, describe, expect, it } from "vitest";
import { cleanupAfterEach } from "../../support/cleanups.ts";
import { closeDefaultAgent, get, type HttpResult } from "../../support/http-client.ts";
import { closeServer, listenOnFreePort, originOf } from "../../support/ports.ts";
import { createServer } from "node:net";
import { startTestSwitchyard } from "../../support/switchyard.ts";

const { track } = cleanupAfterEach();
afterEach(async () => {
  await closeDefaultAgent();
});

/** An origin on 127.0.0.1 where nothing listens: connections are refused. */
async function refusingOrigin(): Promise<string> {
  const server = createServer();
  const port = await listenOnFreePort(server);
  await closeServer(server);
  return originOf(port);
}

function errorCodeOf(body: string): string | undefined {
  return (JSON.parse(body) as { error?: { code?: string } }).error?.code;
}

async function timedGet(url: string): Promise<{ response: HttpResult; elapsedMs: number }> {
  const startedAt = performance.now();
  const response = await get(url, { timeoutMs: 5000 });
  return { response, elapsedMs: performance.now() - startedAt };
}

const CONNECT_TIMEOUT_MS = 2000;
/** Typical answer time: nothing is waited for. */
const FAST_MEDIAN_MS = 100;
/** Every answer, even on a busy machine: far below the connect timeout, never waited out. */
const FAST_MAX_MS = CONNECT_TIMEOUT_MS / 4;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

function twoUpstreams(
  stable: string,
  canary: string,
  extra: Record<string, unknown>,
): Record<string, unknown> {
  return {
    upstreams: {
      stable: { endpoints: [stable], timeouts: { connect: `${CONNECT_TIMEOUT_MS}ms` }, ...extra },
      canary: { endpoints: [canary], timeouts: { connect: `${CONNECT_TIMEOUT_MS}ms` }, ...extra },
    },
    routes: [{ name: "web", split: { stable: 80, canary: 20 } }],
  };
}

describe("every upstream down", () => {
  it("answers 503 with Retry-After at once when health checks have taken every endpoint out", async () => {
    const proxy = track(
      await startTestSwitchyard(
        twoUpstreams(await refusingOrigin(), await refusingOrigin(), {
          healthCheck: { interval: "100ms", timeout: "200ms" },
        }),
      ),
    );
    const elapsed: number[] = [];
    for (let i = 0; i < 10; i++) {
      const { response, elapsedMs } = await timedGet(`${proxy.url}/`);
      elapsed.push(elapsedMs);
      expect(response.status).toBe(503);
      expect(response.headers["retry-after"]).toBe("1");
      expect(errorCodeOf(response.body)).toBe("SWITCHYARD_UPSTREAM_UNAVAILABLE");
    }
    expect(median(elapsed)).toBeLessThan(FAST_MEDIAN_MS);
    expect(Math.max(...elapsed)).toBeLessThan(FAST_MAX_MS);
  });

  it("answers refused connections at once, then 503 with Retry-After once the breakers open", async () => {
    const proxy = track(
      await startTestSwitchyard(
        twoUpstreams(await refusingOrigin(), await refusingOrigin(), {
          breaker: { volumeThreshold: 3, resetTimeout: "30s" },
        }),
      ),
    );
    const first = await timedGet(`${proxy.url}/`);
    expect(first.response.status).toBe(502);
    expect(errorCodeOf(first.response.body)).toBe("SWITCHYARD_UPSTREAM_CONNECT_FAILED");

    const statuses: number[] = [first.response.status];
    const elapsed: number[] = [first.elapsedMs];
    for (let i = 0; i < 20; i++) {
      const { response, elapsedMs } = await timedGet(`${proxy.url}/`);
      statuses.push(response.status);
      elapsed.push(elapsedMs);
      if (response.status === 503) {
        expect(response.headers["retry-after"]).toBe("1");
        expect(errorCodeOf(response.body)).toBe("SWITCHYARD_UPSTREAM_UNAVAILABLE");
      } else {
        expect(response.status).toBe(502);
      }
    }
    const upstreams = proxy.runtime.current.upstreams;
    expect(upstreams.get("stable")?.breaker.state).toBe("open");
    expect(upstreams.get("canary")?.breaker.state).toBe("open");
    // Once both breakers are open, every answer is the 503.
    expect(statuses.slice(-5)).toEqual([503, 503, 503, 503, 503]);
    expect(median(elapsed)).toBeLessThan(FAST_MEDIAN_MS);
    expect(Math.max(...elapsed)).toBeLessThan(FAST_MAX_MS);
  });
});
