/**
 * SPEC 3.5 and 8: when no upstream of a route can take a request, the client hears so at once:
 * a 503 with Retry-After once health checks or breakers know, and before they do, a refused
 * connection answers right away rather than after a connect timeout. "At once" is counted, not
 * timed: a 503 for an upstream known to be out is given without a single attempt upstream.
 */
import { afterEach, describe, expect, it } from "vitest";
import { cleanupAfterEach } from "../../support/cleanups.ts";
import { closeDefaultAgent, get } from "../../support/http-client.ts";
import { closeServer, listenOnFreePort, originOf } from "../../support/ports.ts";
import { createServer } from "node:net";
import {
  createRecordingRecorder,
  type RecordingRecorder,
} from "../../support/recording-recorder.ts";
import { startTestSwitchyard, type TestSwitchyard } from "../../support/switchyard.ts";
import { startUnacceptingListener } from "../../support/unaccepting-listener.ts";

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

/** One request, with the attempts upstream it took (the recorder sees every one). */
async function countedGet(proxy: TestSwitchyard, recorder: RecordingRecorder) {
  const attemptsBefore = recorder.attempts.length;
  const response = await get(`${proxy.url}/`, { timeoutMs: 10_000 });
  return { response, attempts: recorder.attempts.length - attemptsBefore };
}

const CONNECT_TIMEOUT_MS = 2000;

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
    const recorder = createRecordingRecorder();
    const proxy = track(
      await startTestSwitchyard(
        twoUpstreams(await refusingOrigin(), await refusingOrigin(), {
          healthCheck: { interval: "100ms", timeout: "200ms" },
        }),
        { recorder },
      ),
    );
    for (let i = 0; i < 10; i++) {
      const { response, attempts } = await countedGet(proxy, recorder);
      expect(response.status).toBe(503);
      expect(response.headers["retry-after"]).toBe("1");
      expect(errorCodeOf(response.body)).toBe("SWITCHYARD_UPSTREAM_UNAVAILABLE");
      // Nothing was tried, so nothing was waited for.
      expect(attempts).toBe(0);
    }
  });

  it("answers refused connections at once, then 503 with Retry-After once the breakers open", async () => {
    const recorder = createRecordingRecorder();
    const proxy = track(
      await startTestSwitchyard(
        twoUpstreams(await refusingOrigin(), await refusingOrigin(), {
          breaker: { volumeThreshold: 3, resetTimeout: "30s" },
        }),
        { recorder },
      ),
    );
    // A control whose upstreams accept no handshake at all: it waits out its connect timeout.
    const hanging = track(await startUnacceptingListener());
    const waiting = await startTestSwitchyard(twoUpstreams(hanging.url, hanging.url, {}));
    let isWaitingAnswered = false;
    const waitingAnswer = get(`${waiting.url}/`, { timeoutMs: 10_000 })
      .catch(() => undefined)
      .finally(() => {
        isWaitingAnswered = true;
      });
    const first = await countedGet(proxy, recorder);
    expect(first.response.status).toBe(502);
    expect(errorCodeOf(first.response.body)).toBe("SWITCHYARD_UPSTREAM_CONNECT_FAILED");
    // Refused, so answered while a connect timeout asked at the same time is still running.
    expect(isWaitingAnswered).toBe(false);
    await waiting.close();
    await waitingAnswer;

    const statuses: number[] = [first.response.status];
    const attemptsOf503s: number[] = [];
    for (let i = 0; i < 20; i++) {
      const { response, attempts } = await countedGet(proxy, recorder);
      statuses.push(response.status);
      if (response.status === 503) {
        expect(response.headers["retry-after"]).toBe("1");
        expect(errorCodeOf(response.body)).toBe("SWITCHYARD_UPSTREAM_UNAVAILABLE");
        attemptsOf503s.push(attempts);
      } else {
        expect(response.status).toBe(502);
      }
    }
    const upstreams = proxy.runtime.current.upstreams;
    expect(upstreams.get("stable")?.breaker.state).toBe("open");
    expect(upstreams.get("canary")?.breaker.state).toBe("open");
    // Once both breakers are open, every answer is the 503.
    expect(statuses.slice(-5)).toEqual([503, 503, 503, 503, 503]);
    // ...given without an attempt upstream.
    expect(attemptsOf503s.every((attempts) => attempts === 0)).toBe(true);
  });
});
