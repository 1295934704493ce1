import { createServer } from "node:http";
import { describe, expect, it } from "vitest";
import {
  closeServer,
  listenOnFreePort,
  listenOnPort,
  originOf,
  waitFor,
} from "../../support/ports.ts";

describe("ports and waitFor", () => {
  it("listens on a free loopback port and reports a busy one", async () => {
    const first = createServer();
    const port = await listenOnFreePort(first);
    expect(port).toBeGreaterThan(0);
    expect(originOf(port)).toBe(`http://127.0.0.1:${port}`);
    expect(originOf(port, "::1")).toBe(`http://[::1]:${port}`);
    await expect(listenOnPort(createServer(), port)).rejects.toMatchObject({ code: "EADDRINUSE" });
    await closeServer(first);
    await closeServer(first);
  });

  it("waitFor returns the first truthy value, or times out saying what it waited for", async () => {
    let calls = 0;
    expect(
      await waitFor(() => (++calls >= 3 ? `done after ${calls}` : false), { intervalMs: 1 }),
    ).toBe("done after 3");
    await expect(
      waitFor(
        () => {
          throw new Error("not yet");
        },
        { timeoutMs: 30, description: "the impossible" },
      ),
    ).rejects.toThrow("waitFor: the impossible not met within 30 ms (last error: not yet)");
  });
});
