/**
 * Timeouts on the data path (SPEC 2, 8): an upstream whose handshake never completes is a 502
 * after `timeouts.connect`; an answer that goes silent mid-body longer than `timeouts.idle`
 * makes switchyard drop the client connection; a slow but live body is not cut by either the
 * idle or the response timeout. (The response timeout's 504 is in upstream-failures.test.ts.)
 * undici's timers are coarse (a 500 ms timer fires after about 1 s), hence the loose bounds.
 */
import { afterEach, describe, expect, it } from "vitest";
import { cleanupAfterEach } from "../../support/cleanups.ts";
import {
  startMidBodyStallingBackend,
  startTricklingBackend,
  trickleChunk,
} from "../../support/raw-backends.ts";
import { connectRaw, parseAllResponses } from "../../support/raw-client.ts";
import { closeDefaultAgent, get } from "../../support/http-client.ts";
import { startUnacceptingListener } from "../../support/unaccepting-listener.ts";
import {
  singleUpstreamConfig,
  startTestSwitchyard,
  type TestSwitchyard,
} from "../../support/switchyard.ts";

const { track, defer } = cleanupAfterEach();
afterEach(async () => {
  await closeDefaultAgent();
});

async function proxyTo(url: string, timeouts: Record<string, string>): Promise<TestSwitchyard> {
  return track(await startTestSwitchyard(singleUpstreamConfig([url], { upstream: { timeouts } })));
}

function errorCodeOf(body: string): string | undefined {
  return (JSON.parse(body) as { error?: { code?: string } }).error?.code;
}

describe("upstream timeouts", () => {
  it("answers 502 when the upstream's handshake does not complete within timeouts.connect", async () => {
    const listener = track(await startUnacceptingListener());
    // The default connect timeout (2s) would answer after 2 s or more.
    const proxy = await proxyTo(listener.url, { connect: "500ms", response: "10s" });
    const startedAt = performance.now();
    const response = await get(`${proxy.url}/`, { timeoutMs: 8000 });
    const elapsedMs = performance.now() - startedAt;
    expect(response.status).toBe(502);
    expect(errorCodeOf(response.body)).toBe("SWITCHYARD_UPSTREAM_CONNECT_FAILED");
    expect(elapsedMs).toBeGreaterThanOrEqual(400);
    expect(elapsedMs).toBeLessThan(1900);
  });

  it.each(["length", "chunked"] as const)(
    "drops the client connection when a %s body goes silent longer than timeouts.idle",
    async (framing) => {
      const backend = track(await startMidBodyStallingBackend({ framing, sentBytes: 100 }));
      const proxy = await proxyTo(backend.url, { idle: "1s" });
      const connection = await connectRaw(proxy.proxyPort);
      defer(() => {
        connection.destroy();
        return Promise.resolve();
      });
      await connection.write("GET /stall HTTP/1.1\r\nHost: a.test\r\n\r\n");
      // The head and the first 100 bytes arrive; then the upstream goes silent.
      await connection.waitForData((data) => data.includes("x".repeat(100)));
      const silentSince = performance.now();
      expect(await connection.waitClosed(5000)).toBe(true);
      const silenceMs = performance.now() - silentSince;
      expect(silenceMs).toBeGreaterThanOrEqual(800);
      expect(silenceMs).toBeLessThan(4000);
      const [response] = parseAllResponses(connection.data);
      expect(response?.statusCode).toBe(200);
      // A cut body must never look complete to the client.
      expect(response?.isComplete).toBe(false);
    },
  );

  it("lets a slow but live body through: neither idle nor response timeout cuts it", async () => {
    const chunks = 8;
    const backend = track(await startTricklingBackend({ chunks, intervalMs: 300 }));
    // The whole answer takes about 2.1 s, twice both timeouts; no silence lasts 1 s.
    const proxy = await proxyTo(backend.url, { idle: "1s", response: "1s" });
    const response = await get(`${proxy.url}/trickle`, { timeoutMs: 8000 });
    expect(response.status).toBe(200);
    expect(response.body).toBe(Array.from({ length: chunks }, (_, i) => trickleChunk(i)).join(""));
  });
});
