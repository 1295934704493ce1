import { describe, expect, it } from "vitest";
import { configSchema } from "../../../src/config/schema.ts";
import { shareOf, workerConfig } from "../../../src/workers/connection-shares.ts";

describe("shareOf", () => {
  it.each([
    [256, 2, [128, 128]],
    [10, 3, [4, 3, 3]],
    [10_000, 4, [2500, 2500, 2500, 2500]],
    [2, 4, [1, 1, 1, 1]],
  ])("shares %i between %i workers as %j", (total, count, expected) => {
    const shares = Array.from({ length: count }, (_, index) => shareOf(total, index + 1, count));
    expect(shares).toEqual(expected);
  });

  it("never gives more than the total when it is at least the worker count", () => {
    for (let count = 1; count <= 8; count++) {
      for (let total = count; total <= 50; total++) {
        let sum = 0;
        for (let slot = 1; slot <= count; slot++) sum += shareOf(total, slot, count);
        expect(sum).toBe(total);
      }
    }
  });
});

describe("workerConfig", () => {
  const config = configSchema.parse({
    upstreams: {
      stable: { endpoints: ["http://127.0.0.1:9001"], maxConnections: 100 },
      canary: { endpoints: ["http://127.0.0.1:9002"] },
    },
    routes: [{ name: "web", split: { stable: 100 } }],
    server: { maxConnections: 1001 },
  });

  it("gives each worker its part of every upstream's and the server's connection budget", () => {
    const first = workerConfig(config, 1, 2);
    const second = workerConfig(config, 2, 2);
    expect(first.upstreams.stable?.maxConnections).toBe(50);
    expect(first.upstreams.canary?.maxConnections).toBe(128);
    expect(first.server.maxConnections).toBe(501);
    expect(second.server.maxConnections).toBe(500);
    expect(first.routes).toBe(config.routes);
  });

  it("is the config itself for one worker", () => {
    expect(workerConfig(config, 1, 1)).toBe(config);
  });
});
