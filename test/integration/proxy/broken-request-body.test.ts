/**
 * A chunked request body whose framing breaks after some of it was streamed upstream: the
 * upstream connection that carried it is closed and never reused, so no later request, from
 * any client, can be read by the origin as the rest of the broken one.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  foldingAnswerBody,
  startFoldingOrigin,
  type FoldingOrigin,
} from "../../support/folding-origin.ts";
import { closeDefaultAgent, get } from "../../support/http-client.ts";
import { waitFor } from "../../support/ports.ts";
import { connectRaw } from "../../support/raw-client.ts";
import {
  singleUpstreamConfig,
  startTestSwitchyard,
  type TestSwitchyard,
} from "../../support/switchyard.ts";

const FIRST_CHUNK = "5\r\nhello\r\n";

function uploadHead(path: string): string {
  return `POST ${path} HTTP/1.1\r\nHost: a.test\r\nTransfer-Encoding: chunked\r\n\r\n`;
}

describe("a request body that turns malformed while it streams", () => {
  let origin: FoldingOrigin;
  let proxy: TestSwitchyard;

  beforeAll(async () => {
    origin = await startFoldingOrigin();
    // One pooled connection: a reused connection would carry the next client's request.
    proxy = await startTestSwitchyard(
      singleUpstreamConfig([origin.url], { upstream: { maxConnections: 1 } }),
    );
  });

  afterAll(async () => {
    await closeDefaultAgent();
    await proxy.close();
    await origin.close();
  });

  it.each([
    {
      name: "a chunk size that is not hex",
      path: "/upload-bad-size",
      rest: "zz\r\nGET /smuggled HTTP/1.1\r\nHost: a.test\r\n\r\n",
    },
    {
      name: "a chunk longer than its size",
      path: "/upload-long-chunk",
      rest: "3\r\nGET /smuggled HTTP/1.1\r\nHost: a.test\r\n\r\n",
    },
    { name: "a client that stops sending mid-body", path: "/upload-cut", rest: undefined },
  ])("$name closes the upstream connection and no later request joins it", async (each) => {
    const client = await connectRaw(proxy.proxyPort);
    await client.write(uploadHead(each.path) + FIRST_CHUNK);
    // The first chunk reached the origin: the body is streaming on an upstream connection.
    const carrier = await waitFor(
      () => {
        const index = origin.bytesByConnection.findIndex((bytes) => bytes.includes(each.path));
        return index >= 0 && origin.bytesByConnection[index]?.includes("hello")
          ? { index }
          : undefined;
      },
      { timeoutMs: 5000, description: "the first chunk at the origin" },
    );
    if (each.rest === undefined) client.end();
    else await client.write(each.rest);
    expect(await client.waitClosed(5000)).toBe(true);
    await waitFor(() => origin.isClosedByConnection[carrier.index] === true, {
      timeoutMs: 5000,
      description: "the upstream connection that carried the broken body to close",
    });

    const next = await get(`${proxy.url}/next`);
    expect(next.body).toBe(foldingAnswerBody("GET", "/next"));
    const paths = origin.received.map((request) => request.path);
    expect(paths).not.toContain("/smuggled");
    expect(paths).not.toContain(each.path);
    const nextRequest = origin.received.findLast((request) => request.path === "/next");
    expect(nextRequest?.connection).not.toBe(carrier.index);
  });
});
