/**
 * The echo backend in a child process, as the chaos suites use it: it reports each request's
 * tag and its open connections as they happen, pauses or resets `/bytes/N` answers halfway on
 * request, and a kill leaves nothing open.
 */
import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { cleanupAfterEach } from "../../support/cleanups.ts";
import { Agent } from "undici";
import {
  REQUEST_TAG_HEADER,
  startBackendProcess,
  type BackendProcess,
} from "../../support/backend-process.ts";
import { bytesBodySha256 } from "../../support/echo-backend.ts";
import { errorCode } from "../../support/http-client.ts";
import { waitFor } from "../../support/ports.ts";
import { watchUpstreamSends } from "../../support/upstream-sends.ts";

const { track, defer } = cleanupAfterEach();

async function started(
  options: Parameters<typeof startBackendProcess>[0],
): Promise<BackendProcess> {
  return track(await startBackendProcess(options));
}

function agent(): Agent {
  return track(new Agent({ allowH2: false }));
}

describe("a backend process", () => {
  it("reports each tag and its connections, answers ?delayMs, and holds nothing once killed", async () => {
    const backend = await started({ name: "tags" });
    const client = agent();
    const response = await client.request({
      origin: backend.url,
      path: "/orders?delayMs=20",
      method: "POST",
      headers: { [REQUEST_TAG_HEADER]: "post-1" },
      body: "order",
    });
    const echo = (await response.body.json()) as { name: string; bodyBytes: number };

    // The stats line follows every line written before it on the same pipe.
    expect(await backend.stats()).toEqual({ requests: 1, openConnections: 1, bodiesReset: 0 });
    expect(echo).toMatchObject({ name: "tags", bodyBytes: 5 });
    expect(backend.receivedTags).toEqual(["post-1"]);
    expect(backend.openConnections).toBe(1);
    await backend.kill();
    expect(backend.isRunning).toBe(false);
    expect(backend.openConnections).toBe(0);
  });

  it("resets every Nth /bytes/N answer after its head and first chunk", async () => {
    const backend = await started({ name: "resetter", resetBodyEvery: 2 });
    const client = agent();
    const outcomes: string[] = [];
    for (let i = 0; i < 4; i++) {
      const response = await client.request({
        origin: backend.url,
        path: "/bytes/150000",
        method: "GET",
      });
      try {
        const body = Buffer.from(await response.body.arrayBuffer());
        outcomes.push(`${String(response.statusCode)} ${String(body.length)}`);
      } catch (error) {
        outcomes.push(`${String(response.statusCode)} cut ${errorCode(error)}`);
      }
    }

    expect(outcomes).toEqual([
      "200 150000",
      "200 cut ECONNRESET",
      "200 150000",
      "200 cut ECONNRESET",
    ]);
    expect((await backend.stats()).bodiesReset).toBe(2);
  });

  it("pauses a /bytes/N answer halfway on ?pauseMs and still sends every byte", async () => {
    const backend = await started({ name: "pauser" });
    const response = await agent().request({
      origin: backend.url,
      path: "/bytes/150000?chunked=1&pauseMs=50",
      method: "GET",
    });
    const body = Buffer.from(await response.body.arrayBuffer());

    expect(createHash("sha256").update(body).digest("hex")).toBe(bytesBodySha256(150_000));
  });

  it("restarts on the port of a killed one, and undici's sends to it are seen by tag", async () => {
    const first = await started({ name: "first" });
    await first.kill();
    const second = await started({ name: "second", port: first.port });
    const sends = watchUpstreamSends(REQUEST_TAG_HEADER);
    defer(() => {
      sends.stop();
    });
    const response = await agent().request({
      origin: second.url,
      path: "/echo",
      method: "GET",
      headers: { [REQUEST_TAG_HEADER]: "get-7" },
    });
    await response.body.dump();

    expect(second.port).toBe(first.port);
    expect(sends.tagsSentTo(second.port)).toEqual(new Set(["get-7"]));
    await waitFor(() => second.receivedTags.includes("get-7"));
  });
});
