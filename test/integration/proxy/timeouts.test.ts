/**
 * Timeouts on the data path (SPEC 2, 8): an upstream whose handshake never completes is a 502
 * after `timeouts.connect`; an answer that goes silent mid-body longer than `timeouts.idle`
 * makes switchyard drop the client connection; a slow but live body is not cut by either the
 * idle or the response timeout. (The response timeout's 504 is in upstream-failures.test.ts.)
 * That the configured value is the one in force is shown by a control with a far longer one,
 * asked at the same time and still waiting when the short one gives up: an order, not a time.
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
    const proxy = await proxyTo(listener.url, { connect: "500ms", response: "10s" });
    const control = await proxyTo(listener.url, { connect: "20s", response: "30s" });
    let isControlAnswered = false;
    const controlAnswer = get(`${control.url}/`, { timeoutMs: 30_000 })
      .catch(() => undefined)
      .finally(() => {
        isControlAnswered = true;
      });
    const response = await get(`${proxy.url}/`, { timeoutMs: 15_000 });
    expect(response.status).toBe(502);
    expect(errorCodeOf(response.body)).toBe("SWITCHYARD_UPSTREAM_CONNECT_FAILED");
    // The same handshake under a 20 s connect timeout is still pending.
    expect(isControlAnswered).toBe(false);
    await control.close();
    await controlAnswer;
  });

  it.each(["length", "chunked"] as const)(
    "drops the client connection when a %s body goes silent longer than timeouts.idle",
    async (framing) => {
      const backend = track(await startMidBodyStallingBackend({ framing, sentBytes: 100 }));
      const proxy = await proxyTo(backend.url, { idle: "1s" });
      const control = await proxyTo(backend.url, { idle: "30s" });
      const open = async (port: number) => {
        const connection = await connectRaw(port);
        defer(() => {
          connection.destroy();
        });
        await connection.write("GET /stall HTTP/1.1\r\nHost: a.test\r\n\r\n");
        // The head and the first 100 bytes arrive; then the upstream goes silent.
        await connection.waitForData((data) => data.includes("x".repeat(100)));
        return connection;
      };
      const [connection, controlConnection] = await Promise.all([
        open(proxy.proxyPort),
        open(control.proxyPort),
      ]);
      expect(await connection.waitClosed(15_000)).toBe(true);
      // The same silence under a 30 s idle timeout has not cut the other one.
      expect(controlConnection.isClosed).toBe(false);
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
