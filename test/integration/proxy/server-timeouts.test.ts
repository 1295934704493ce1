/**
 * Slowloris protection: node checks headersTimeout only every connectionsCheckingInterval,
 * which switchyard sets from server.headersTimeout (node's default is 30 s).
 */
import { describe, expect, it } from "vitest";
import { cleanupAfterEach } from "../../support/cleanups.ts";
import { startEchoBackend } from "../../support/echo-backend.ts";
import { connectRaw } from "../../support/raw-client.ts";
import { singleUpstreamConfig, startTestSwitchyard } from "../../support/switchyard.ts";

const { defer } = cleanupAfterEach();

describe("server timeouts", () => {
  it("closes a client that sends its headers slower than server.headersTimeout", async () => {
    const backend = await startEchoBackend();
    defer(() => backend.close());
    const proxy = await startTestSwitchyard(
      singleUpstreamConfig([backend.url], { top: { server: { headersTimeout: "500ms" } } }),
    );
    defer(() => proxy.close());
    const connection = await connectRaw(proxy.proxyPort);
    await connection.write("GET / HTTP/1.1\r\nHost: a.test\r\n");
    // A header line every 100 ms: never idle, but the head never ends (slowloris).
    const timer = setInterval(() => {
      connection.write("X-Slow: 1\r\n").catch(() => undefined);
    }, 100);
    try {
      // Generous, and still far below node's own 30 s check interval.
      expect(await connection.waitClosed(15_000)).toBe(true);
    } finally {
      clearInterval(timer);
      connection.destroy();
    }
    // 408: the head timed out (the request was never complete, so never forwarded).
    expect(connection.data).toMatch(/^HTTP\/1\.1 408 /);
    expect(backend.received).toHaveLength(0);
  });
});
