/**
 * Upgrades are recorded like any request (SPEC 4 and 9): a 101 is a finished request and a
 * successful attempt, a 5xx answer is a failure for the breaker and outlier detection, a 4xx
 * is not, an unreachable upstream is a failed attempt and a 502, and our own 503 for an
 * unavailable upstream is counted. What happens in the tunnel after the 101 is not the
 * request's outcome.
 */
import { createServer } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { cleanupAfterEach } from "../../support/cleanups.ts";
import { getStatus } from "../../support/admin-calls.ts";
import { startEchoBackend } from "../../support/echo-backend.ts";
import { closeDefaultAgent, get } from "../../support/http-client.ts";
import { closeServer, listenOnFreePort, originOf, waitFor } from "../../support/ports.ts";
import { parsePrometheusText, sampleValue } from "../../support/prometheus-text.ts";
import { startStallingBackend, startUpgradeThenResetBackend } from "../../support/raw-backends.ts";
import { connectRaw, parseAllResponses, sendRaw } from "../../support/raw-client.ts";
import { createRecordingRecorder } from "../../support/recording-recorder.ts";
import {
  singleUpstreamConfig,
  startTestSwitchyard,
  type TestSwitchyard,
} from "../../support/switchyard.ts";
import { errorCodeOf, upgradeRequest, WEBSOCKET_HEADERS } from "../../support/upgrade-client.ts";

const { track } = cleanupAfterEach();
afterEach(async () => {
  await closeDefaultAgent();
});

const WEBSOCKET_UPGRADE = upgradeRequest("/ws", "websocket", WEBSOCKET_HEADERS);

/** `switchyard_requests_total` for route web, upstream stable and `code`, from GET /metrics. */
async function requestsTotal(proxy: TestSwitchyard, code: string): Promise<number> {
  const answer = await get(`http://127.0.0.1:${proxy.adminPort}/metrics`);
  const families = parsePrometheusText(answer.body);
  const labels = { route: "web", upstream: "stable", code };
  return sampleValue(families, "switchyard_requests_total", labels) ?? 0;
}

async function breakerOf(proxy: TestSwitchyard, upstream: string): Promise<string | undefined> {
  const status = await getStatus(`http://127.0.0.1:${proxy.adminPort}`);
  return status.upstreams.find((u) => u.name === upstream)?.breaker;
}

describe("a successful upgrade", () => {
  it("is counted in switchyard_requests_total with code 101 and is a successful attempt", async () => {
    const backend = track(await startEchoBackend());
    const recorder = createRecordingRecorder();
    const proxy = track(
      await startTestSwitchyard(singleUpstreamConfig([backend.url]), { recorder }),
    );
    for (let i = 0; i < 3; i++) {
      const connection = await connectRaw(proxy.proxyPort);
      try {
        await connection.write(WEBSOCKET_UPGRADE);
        const [head] = parseAllResponses(await connection.waitForData("\r\n\r\n"));
        expect(head?.statusCode).toBe(101);
      } finally {
        connection.destroy();
      }
    }
    expect(await requestsTotal(proxy, "101")).toBe(3);
    // Rollout window statistics count attempts: the upgrades are successes there.
    expect(recorder.attempts.map((a) => [a.upstream, a.status, a.isFailure])).toEqual([
      ["stable", 101, false],
      ["stable", 101, false],
      ["stable", 101, false],
    ]);
    expect(recorder.requests.map((r) => r.status)).toEqual([101, 101, 101]);
  });

  it("is not turned into a failure when the tunnel breaks after the 101", async () => {
    const backend = track(await startUpgradeThenResetBackend());
    const recorder = createRecordingRecorder();
    const proxy = track(
      await startTestSwitchyard(singleUpstreamConfig([backend.url]), { recorder }),
    );
    const connection = await connectRaw(proxy.proxyPort);
    try {
      await connection.write(upgradeRequest("/tunnel", "echo-protocol/1"));
      await connection.waitForData("\r\n\r\n");
      await connection.write("first bytes through the tunnel");
      expect(await connection.waitClosed(5000)).toBe(true);
    } finally {
      connection.destroy();
    }
    // Only the 101 reached the client: no error answer written into the tunnel.
    expect(parseAllResponses(connection.data).map((r) => r.statusCode)).toEqual([101]);
    expect(connection.data).not.toContain("SWITCHYARD_");
    expect(recorder.attempts.map((a) => [a.status, a.isFailure])).toEqual([[101, false]]);
    expect(recorder.requests.map((r) => r.status)).toEqual([101]);
  });
});

describe("an upgrade the upstream answers without switching", () => {
  it("relays a 5xx as a failure: enough of them open the breaker, and our 503s are counted", async () => {
    const backend = track(await startEchoBackend({ upgradeStatus: 503 }));
    const recorder = createRecordingRecorder();
    const proxy = track(
      await startTestSwitchyard(
        singleUpstreamConfig([backend.url], {
          upstream: {
            breaker: { volumeThreshold: 4, errorThresholdPercentage: 50 },
            // Keeps the only endpoint in: the breaker alone decides here.
            outlierDetection: { maxEjectionPercent: 0 },
          },
        }),
        { recorder },
      ),
    );
    let relayed = 0;
    let refused = 0;
    for (let i = 0; i < 10 && refused < 2; i++) {
      const answer = await sendRaw(proxy.proxyPort, WEBSOCKET_UPGRADE, { timeoutMs: 5000 });
      expect(answer.statusCode).toBe(503);
      expect(answer.closed).toBe(true);
      const [response] = parseAllResponses(answer.raw);
      if (response?.headers["x-backend-name"] === "echo") {
        relayed++;
        // The relayed answer carries our headers as any answer does.
        expect(response.headers.via).toBe("1.1 switchyard");
        expect(response.headers["x-request-id"]).toBeDefined();
        expect(response.headers.connection).toBe("close");
      } else {
        refused++;
        expect(errorCodeOf(response?.body ?? "{}")).toBe("SWITCHYARD_UPSTREAM_UNAVAILABLE");
      }
    }
    expect(refused).toBe(2);
    expect(relayed).toBeGreaterThanOrEqual(4);
    expect(backend.received).toHaveLength(relayed);
    expect(await breakerOf(proxy, "stable")).toBe("open");
    expect(recorder.attempts.every((a) => a.status === 503 && a.isFailure)).toBe(true);
    expect(recorder.attempts).toHaveLength(relayed);
    // Relayed 503s and our own are all finished requests with code 503.
    expect(await requestsTotal(proxy, "503")).toBe(relayed + refused);
  });

  it("relays a 4xx as no failure: the breaker stays closed", async () => {
    const backend = track(await startEchoBackend({ upgradeStatus: 426 }));
    const recorder = createRecordingRecorder();
    const proxy = track(
      await startTestSwitchyard(
        singleUpstreamConfig([backend.url], {
          upstream: { breaker: { volumeThreshold: 4, errorThresholdPercentage: 50 } },
        }),
        { recorder },
      ),
    );
    for (let i = 0; i < 8; i++) {
      const answer = await sendRaw(proxy.proxyPort, WEBSOCKET_UPGRADE, { timeoutMs: 5000 });
      expect(answer.statusCode).toBe(426);
    }
    expect(backend.received).toHaveLength(8);
    expect(await breakerOf(proxy, "stable")).toBe("closed");
    expect(recorder.attempts.map((a) => a.isFailure)).toEqual(new Array(8).fill(false));
    expect(await requestsTotal(proxy, "426")).toBe(8);
  });

  it("ejects an endpoint that answers upgrades with 5xx (outlier detection)", async () => {
    const failing = track(await startEchoBackend({ name: "failing", upgradeStatus: 502 }));
    const healthy = track(await startEchoBackend({ name: "healthy" }));
    const proxy = track(
      await startTestSwitchyard(
        singleUpstreamConfig([failing.url, healthy.url], {
          upstream: { outlierDetection: { consecutiveFailures: 2, maxEjectionPercent: 50 } },
        }),
      ),
    );
    const adminUrl = `http://127.0.0.1:${proxy.adminPort}`;
    for (let i = 0; i < 6; i++) {
      await sendRaw(proxy.proxyPort, upgradeRequest("/tunnel", "echo-protocol/1"), {
        timeoutMs: 500,
      });
    }
    const endpoints = (await getStatus(adminUrl)).upstreams[0]?.endpoints ?? [];
    expect(endpoints.map((e) => [e.url, e.ejected])).toEqual([
      [failing.url, true],
      [healthy.url, false],
    ]);
  });
});

describe("an upgrade that gets no answer", () => {
  it("is a failed attempt and a finished 502 when the upstream cannot be reached", async () => {
    const closed = createServer();
    const port = await listenOnFreePort(closed);
    await closeServer(closed);
    const recorder = createRecordingRecorder();
    const proxy = track(
      await startTestSwitchyard(singleUpstreamConfig([originOf(port)]), { recorder }),
    );
    const answer = await sendRaw(proxy.proxyPort, WEBSOCKET_UPGRADE, { timeoutMs: 5000 });
    expect(answer.statusCode).toBe(502);
    expect(recorder.attempts.map((a) => [a.status, a.isFailure])).toEqual([[0, true]]);
    expect(recorder.requests.map((r) => r.status)).toEqual([502]);
    expect(await requestsTotal(proxy, "502")).toBe(1);
  });

  it("is no failure, and its upstream request is closed, when the client leaves first", async () => {
    const backend = track(await startStallingBackend());
    const recorder = createRecordingRecorder();
    const proxy = track(
      await startTestSwitchyard(singleUpstreamConfig([backend.url]), { recorder }),
    );
    const connection = await connectRaw(proxy.proxyPort);
    await connection.write(WEBSOCKET_UPGRADE);
    await waitFor(() => backend.requestHeads.length === 1, { description: "the upgrade upstream" });
    // A reset: until the upstream answers nothing reads the socket, so a FIN would go unseen.
    connection.reset();
    await waitFor(() => backend.openConnections === 0, {
      timeoutMs: 5000,
      description: "the upstream connection closed after the client left",
    });
    expect(recorder.attempts.map((a) => [a.status, a.isFailure])).toEqual([[0, false]]);
    expect(recorder.requests.map((r) => r.status)).toEqual([0]);
  });
});
