/**
 * Slowloris protection: node checks headersTimeout only every connectionsCheckingInterval,
 * which switchyard sets from server.headersTimeout (node's default is 30 s).
 */
import { afterEach, describe, expect, it } from "vitest";
import { startEchoBackend } from "../../support/echo-backend.ts";
import { connectRaw } from "../../support/raw-client.ts";
import { singleUpstreamConfig, startTestSwitchyard } from "../../support/switchyard.ts";

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe("server timeouts", () => {
  it("closes a client that sends its headers slower than server.headersTimeout", async () => {
    const backend = await startEchoBackend();
    cleanups.push(() => backend.close());
    const proxy = await startTestSwitchyard(
      singleUpstreamConfig([backend.url], { top: { server: { headersTimeout: "500ms" } } }),
    );
    cleanups.push(() => proxy.close());
    const connection = await connectRaw(proxy.proxyPort);
    const startedAt = performance.now();
    await connection.write("GET / HTTP/1.1\r\nHost: a.test\r\n");
    // A header line every 100 ms: never idle, but the head never ends (slowloris).
    const timer = setInterval(() => {
      connection.write("X-Slow: 1\r\n").catch(() => undefined);
    }, 100);
    try {
      expect(await connection.waitClosed(4000)).toBe(true);
    } finally {
      clearInterval(timer);
      connection.destroy();
    }
    expect(performance.now() - startedAt).toBeGreaterThanOrEqual(400);
    expect(connection.data).toMatch(/^HTTP\/1\.1 408 /);
    expect(backend.received).toHaveLength(0);
  });
});
