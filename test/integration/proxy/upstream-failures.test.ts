/**
 * Misbehaving upstreams (raw TCP servers) must give the client a clear, fast answer, or, once
 * the response has started, a dropped connection: never a hang, never a clean truncated body.
 */
import { createServer } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { cleanupAfterEach } from "../../support/cleanups.ts";
import { waitFor } from "../../support/ports.ts";
import {
  startChunkedDyingBackend,
  startGarbageBackend,
  startMidBodyDyingBackend,
  startResettingBackend,
  startStallingBackend,
  type RawBackend,
} from "../../support/raw-backends.ts";
import { connectRaw, sendRaw } from "../../support/raw-client.ts";
import { closeDefaultAgent, get } from "../../support/http-client.ts";
import {
  singleUpstreamConfig,
  startTestSwitchyard,
  type TestSwitchyard,
} from "../../support/switchyard.ts";

const { track, defer } = cleanupAfterEach();
afterEach(async () => {
  await closeDefaultAgent();
});

async function proxyTo(
  backend: RawBackend | { url: string },
  timeouts?: Record<string, string>,
): Promise<TestSwitchyard> {
  const proxy = await startTestSwitchyard(
    singleUpstreamConfig([backend.url], timeouts ? { upstream: { timeouts } } : {}),
  );
  defer(() => proxy.close());
  return proxy;
}

function errorCodeOf(body: string): string | undefined {
  return (JSON.parse(body) as { error?: { code?: string } }).error?.code;
}

describe("upstream failures", () => {
  it("a connection refused answers 502", async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const port = (closed.address() as { port: number }).port;
    await new Promise<void>((resolve) =>
      closed.close(() => {
        resolve();
      }),
    );
    const proxy = await proxyTo({ url: `http://127.0.0.1:${port}` });
    const response = await get(`${proxy.url}/`);
    expect(response.status).toBe(502);
    expect(errorCodeOf(response.body)).toBe("SWITCHYARD_UPSTREAM_CONNECT_FAILED");
  });

  it("an upstream that resets the connection answers 502", async () => {
    const backend = track(await startResettingBackend());
    const proxy = await proxyTo(backend);
    const response = await get(`${proxy.url}/`);
    expect(response.status).toBe(502);
    expect(errorCodeOf(response.body)).toBe("SWITCHYARD_UPSTREAM_RESET");
  });

  it("an upstream that sends garbage answers 502 malformed", async () => {
    const backend = track(await startGarbageBackend());
    const proxy = await proxyTo(backend);
    const response = await get(`${proxy.url}/`);
    expect(response.status).toBe(502);
    expect(errorCodeOf(response.body)).toBe("SWITCHYARD_UPSTREAM_MALFORMED");
  });

  it("an upstream that never answers gives 504 after the response timeout", async () => {
    const backend = track(await startStallingBackend());
    // Under the default response timeout (30 s) the client's own 5 s timeout would fail first.
    const proxy = await proxyTo(backend, { response: "300ms" });
    const response = await get(`${proxy.url}/`);
    expect(response.status).toBe(504);
    expect(errorCodeOf(response.body)).toBe("SWITCHYARD_UPSTREAM_TIMEOUT");
  });

  it("an upstream dying mid-body (Content-Length) makes the client connection drop", async () => {
    const backend = track(await startMidBodyDyingBackend({ declaredLength: 1000, sentBytes: 100 }));
    const proxy = await proxyTo(backend);
    const answer = await sendRaw(proxy.proxyPort, "GET / HTTP/1.1\r\nHost: a.test\r\n\r\n", {
      timeoutMs: 3000,
    });
    expect(answer.statusCode).toBe(200);
    expect(answer.closed).toBe(true);
    const body = answer.raw.slice(answer.raw.indexOf("\r\n\r\n") + 4);
    expect(body.length).toBeLessThan(1000);
  });

  it("an upstream dying mid-body (chunked) never ends the client's chunked body cleanly", async () => {
    const backend = track(await startChunkedDyingBackend());
    const proxy = await proxyTo(backend);
    const answer = await sendRaw(proxy.proxyPort, "GET / HTTP/1.1\r\nHost: a.test\r\n\r\n", {
      timeoutMs: 3000,
    });
    expect(answer.statusCode).toBe(200);
    expect(answer.closed).toBe(true);
    // The terminating zero-length chunk must not be sent for a truncated body.
    expect(answer.raw).not.toMatch(/\r\n0\r\n\r\n$/);
  });

  it("a client that goes away aborts the upstream request", async () => {
    const backend = track(await startStallingBackend());
    const proxy = await proxyTo(backend, { response: "30s" });
    const connection = await connectRaw(proxy.proxyPort);
    await connection.write("GET /slow HTTP/1.1\r\nHost: a.test\r\n\r\n");
    await waitFor(() => backend.requestHeads.length === 1, { description: "the request upstream" });
    connection.destroy();
    // The proxy closes its upstream connection once the client is gone.
    const endpoint = proxy.runtime.current.upstreams.get("stable")?.endpoints[0];
    await waitFor(() => (endpoint?.pool.stats.connected ?? 1) === 0, {
      timeoutMs: 10_000,
      description: "the upstream connection closed",
    });
    expect(endpoint?.pool.stats.connected).toBe(0);
  });
});
