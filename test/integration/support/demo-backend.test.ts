import { describe, expect, it } from "vitest";
import { cleanupAfterEach } from "../../support/cleanups.ts";
import { startDemoBackend, type DemoBackend } from "../../../src/demo/backend.ts";
import { get, hammer } from "../../support/http-client.ts";
import { waitFor } from "../../support/ports.ts";

const { track } = cleanupAfterEach();

describe("demo backend", () => {
  async function start(options: Parameters<typeof startDemoBackend>[0]): Promise<DemoBackend> {
    return track(await startDemoBackend(options));
  }

  it("answers its version, name and path", async () => {
    const backend = await start({ name: "v1", version: "1.0.0" });
    const response = await get(`${backend.url}/api/items?x=1`);
    expect(response.status).toBe(200);
    expect(JSON.parse(response.body)).toEqual({ version: "1.0.0", name: "v1", path: "/api/items" });
    expect(backend.stats()).toEqual({ requests: 1, errors: 0 });
  });

  it("fails at errorRate using the injected random source, but never on /health", async () => {
    const draws = [0.1, 0.9, 0.49, 0.5];
    const backend = await start({
      name: "v2",
      version: "2.0.0",
      errorRate: 0.5,
      random: () => draws.shift() ?? 0,
    });
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await get(`${backend.url}/`)).status);
    expect(statuses).toEqual([500, 200, 500, 200]);
    expect(backend.stats()).toEqual({ requests: 4, errors: 2 });
    backend.setErrorRate(1);
    expect((await get(`${backend.url}/health`)).status).toBe(200);
    expect((await get(`${backend.url}/x`)).status).toBe(500);
    expect(backend.stats()).toEqual({ requests: 5, errors: 3 });
  });

  it("fails close to errorRate over many requests with the default random source", async () => {
    const backend = await start({ name: "v2", version: "2", errorRate: 0.2 });
    const result = await hammer(backend.url, { total: 1000 });
    expect(result.byStatus[500]).toBeGreaterThan(120);
    expect(result.byStatus[500]).toBeLessThan(280);
    expect(backend.stats().errors).toBe(result.byStatus[500]);
  });

  it("adds latency and jitter, changeable at runtime, and never delays /health", async () => {
    // Told by the order the answers come in, not by timing them: asked together, the answer
    // that waits least comes first.
    const options = {
      name: "v2",
      version: "2",
      latencyMs: 1000,
      latencyJitterMs: 400,
      random: () => 0.5,
    };
    const delayed = await start(options); // 1000 + 200 ms
    const tuned = await start(options);
    tuned.setLatencyMs(0); // the jitter alone: 200 ms
    const order: string[] = [];
    const ask = async (name: string, url: string): Promise<void> => {
      expect((await get(url)).status).toBe(200);
      order.push(name);
    };
    await Promise.all([
      ask("latency and jitter", delayed.url),
      ask("jitter only", tuned.url),
      ask("health", `${delayed.url}/health`),
    ]);
    expect(order).toEqual(["health", "jitter only", "latency and jitter"]);
  });

  it("rejects an error rate outside 0..1 and a negative latency", async () => {
    await expect(startDemoBackend({ name: "x", version: "1", errorRate: 1.5 })).rejects.toThrow(
      RangeError,
    );
    const backend = await start({ name: "x", version: "1" });
    expect(() => {
      backend.setErrorRate(-0.1);
    }).toThrow(RangeError);
    expect(() => {
      backend.setLatencyMs(-1);
    }).toThrow(RangeError);
  });

  it("close() resolves with a slow answer pending", async () => {
    // The backend draws from `random` as each request arrives: the arrival, observed.
    let draws = 0;
    const backend = await start({
      name: "slow",
      version: "1",
      latencyMs: 10_000,
      random: () => {
        draws++;
        return 0.5;
      },
    });
    const pending = get(backend.url).catch((error: unknown) => error);
    await waitFor(() => draws > 0, { description: "the request reaching the backend" });
    await backend.close();
    expect(await pending).toBeInstanceOf(Error);
    expect(backend.stats().requests).toBe(0);
  });
});
