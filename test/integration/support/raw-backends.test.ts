import { afterAll, describe, expect, it } from "vitest";
import { Agent } from "undici";
import {
  CHUNKED_DYING_CHUNKS,
  GARBAGE_RESPONSE,
  KEEP_ALIVE_RACE_BODY,
  startChunkedDyingBackend,
  startClosingAfterHeadersBackend,
  startGarbageBackend,
  startKeepAliveRaceBackend,
  startMidBodyDyingBackend,
  startResettingBackend,
  startStallingBackend,
  type RawBackend,
} from "../../support/raw-backends.ts";
import { errorCode } from "../../support/http-client.ts";
import { connectRaw, parseAllResponses, sendRaw } from "../../support/raw-client.ts";
import { waitFor } from "../../support/ports.ts";

const agent = new Agent({ allowH2: false });
afterAll(() => agent.close());

const GET_CLOSE = "GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n";

function fetchFrom(backend: RawBackend, timeoutMs = 2000) {
  return agent.request({
    origin: backend.url,
    path: "/",
    method: "GET",
    headersTimeout: timeoutMs,
    bodyTimeout: timeoutMs,
  });
}

/** Resolves with the error code of the request or of reading its body. */
async function failureOf(backend: RawBackend, timeoutMs?: number): Promise<string> {
  try {
    const response = await fetchFrom(backend, timeoutMs);
    await response.body.text();
  } catch (error) {
    return errorCode(error);
  }
  throw new Error("the request succeeded");
}

async function withBackend(
  start: () => Promise<RawBackend>,
  test: (backend: RawBackend) => Promise<void>,
): Promise<void> {
  const backend = await start();
  try {
    await test(backend);
  } finally {
    await backend.close();
  }
}

describe("raw misbehaving backends", () => {
  it("resetting backend: the client sees ECONNRESET after sending its request", () =>
    withBackend(startResettingBackend, async (backend) => {
      expect(await failureOf(backend)).toBe("ECONNRESET");
      expect(backend.acceptedCount).toBe(1);
      expect(backend.requestHeads).toHaveLength(1);
      expect(backend.answeredCount).toBe(0);
    }));

  it("resetting backend on accept: ECONNRESET before any request is read", () =>
    withBackend(
      () => startResettingBackend({ when: "accept" }),
      async (backend) => {
        expect(await failureOf(backend)).toBe("ECONNRESET");
        expect(backend.requestHeads).toHaveLength(0);
      },
    ));

  it("stalling backend: reads the request and never answers", () =>
    withBackend(startStallingBackend, async (backend) => {
      // undici's own timeouts are coarse (about 1 s); a signal keeps this test short.
      const request = agent.request({
        origin: backend.url,
        path: "/",
        method: "GET",
        signal: AbortSignal.timeout(150),
      });
      await expect(request).rejects.toMatchObject({ name: "TimeoutError" });
      expect(backend.requestHeads[0]).toMatch(/^GET \/ HTTP\/1\.1\r\n/);
      // The next request is read (the backend is alive), and still gets no byte back.
      const connection = await connectRaw(backend.port);
      try {
        await connection.write(GET_CLOSE);
        await waitFor(() => backend.requestHeads.length === 2, {
          description: "the stalling backend reading the second request",
        });
        expect(connection).toMatchObject({ data: "", isClosed: false });
        expect(backend.answeredCount).toBe(0);
      } finally {
        connection.destroy();
      }
    }));

  it("garbage backend: answers bytes that are not HTTP", () =>
    withBackend(startGarbageBackend, async (backend) => {
      expect(await failureOf(backend)).toBe("HTTPParserError");
      const answer = await sendRaw(backend.port, GET_CLOSE);
      expect(answer).toMatchObject({ raw: GARBAGE_RESPONSE, statusCode: undefined, closed: true });
    }));

  it("mid-body dying backend: a valid head, then a truncated body", () =>
    withBackend(
      () => startMidBodyDyingBackend({ declaredLength: 5000, sentBytes: 1234 }),
      async (backend) => {
        const response = await fetchFrom(backend);
        expect(response.statusCode).toBe(200);
        expect(response.headers["content-length"]).toBe("5000");
        await expect(response.body.text()).rejects.toMatchObject({ code: "UND_ERR_SOCKET" });
        const [parsed] = parseAllResponses((await sendRaw(backend.port, GET_CLOSE)).raw);
        expect(parsed).toMatchObject({ statusCode: 200, isComplete: false });
        expect(parsed!.body).toHaveLength(1234);
      },
    ));

  it("mid-body dying backend refuses a body it could send whole", () => {
    expect(() => startMidBodyDyingBackend({ declaredLength: 10, sentBytes: 10 })).toThrow(
      RangeError,
    );
  });

  it("chunked dying backend: chunks, then death before the last chunk", () =>
    withBackend(startChunkedDyingBackend, async (backend) => {
      expect(await failureOf(backend)).toBe("UND_ERR_SOCKET");
      const [parsed] = parseAllResponses((await sendRaw(backend.port, GET_CLOSE)).raw);
      expect(parsed).toMatchObject({ statusCode: 200, isComplete: false });
      expect(parsed!.body).toBe(CHUNKED_DYING_CHUNKS.join(""));
    }));

  it("closing-after-headers backend: a head announcing a body that never comes", () =>
    withBackend(startClosingAfterHeadersBackend, async (backend) => {
      const response = await fetchFrom(backend);
      expect(response.headers["content-length"]).toBe("100");
      await expect(response.body.text()).rejects.toMatchObject({ code: "UND_ERR_SOCKET" });
    }));

  it("keep-alive race backend: answers once per connection, then closes it", () =>
    withBackend(
      () => startKeepAliveRaceBackend({ closeAfterMs: 150 }),
      async (backend) => {
        const pooled = new Agent({ allowH2: false, connections: 1 });
        try {
          const request = () =>
            pooled.request({ origin: backend.url, path: "/", method: "GET", headersTimeout: 1000 });
          const first = await request();
          expect(first.headers["keep-alive"]).toBe("timeout=60");
          expect(await first.body.text()).toBe(KEEP_ALIVE_RACE_BODY);
          // Reused before the close: the backend ignores it and the socket dies under it.
          await expect(request()).rejects.toMatchObject({ code: "UND_ERR_SOCKET" });
          // Once the backend has closed that socket, the pool's next request opens a new one.
          await waitFor(() => backend.openConnections === 0, {
            description: "the backend closing the raced socket",
          });
          expect(await (await request()).body.text()).toBe(KEEP_ALIVE_RACE_BODY);
          expect(backend.acceptedCount).toBe(2);
          expect(backend.answeredCount).toBe(2);
        } finally {
          await pooled.close();
        }
        const connection = await connectRaw(backend.port);
        await connection.write(
          "GET /1 HTTP/1.1\r\nHost: a\r\n\r\nGET /2 HTTP/1.1\r\nHost: a\r\n\r\n",
        );
        expect(await connection.waitClosed()).toBe(true);
        expect(parseAllResponses(connection.data)).toHaveLength(1);
      },
    ));
});
