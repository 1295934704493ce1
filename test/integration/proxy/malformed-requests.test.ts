/**
 * Requests that must never be forwarded: each is written byte for byte on a raw socket, and
 * the backend must not receive anything.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startEchoBackend, type EchoBackend } from "../../support/echo-backend.ts";
import { startFoldingOrigin, type FoldingOrigin } from "../../support/folding-origin.ts";
import { sendRaw } from "../../support/raw-client.ts";
import {
  singleUpstreamConfig,
  startTestSwitchyard,
  type TestSwitchyard,
} from "../../support/switchyard.ts";

const CASES: { name: string; request: string; status: number }[] = [
  {
    name: "Content-Length together with Transfer-Encoding",
    request:
      "POST / HTTP/1.1\r\nHost: a.test\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    status: 400,
  },
  {
    name: "two different Content-Length headers",
    request:
      "POST / HTTP/1.1\r\nHost: a.test\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!",
    status: 400,
  },
  {
    name: "duplicate Host",
    request: "GET / HTTP/1.1\r\nHost: a.test\r\nHost: b.test\r\n\r\n",
    status: 400,
  },
  {
    name: "invalid Host",
    request: "GET / HTTP/1.1\r\nHost: a test/evil\r\n\r\n",
    status: 400,
  },
  {
    name: "missing Host on HTTP/1.1",
    request: "GET / HTTP/1.1\r\nX-Any: 1\r\n\r\n",
    status: 400,
  },
  {
    name: "obs-fold (a header continued on the next line)",
    request: "GET / HTTP/1.1\r\nHost: a.test\r\nX-Folded: one\r\n two\r\n\r\n",
    status: 400,
  },
  {
    name: "Transfer-Encoding: gzip, chunked",
    request: "POST / HTTP/1.1\r\nHost: a.test\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n",
    status: 400,
  },
  {
    name: "Transfer-Encoding: chunked, identity (chunked not final)",
    request:
      "POST / HTTP/1.1\r\nHost: a.test\r\nTransfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n",
    status: 400,
  },
  {
    name: "Transfer-Encoding on HTTP/1.0",
    request: "POST / HTTP/1.0\r\nHost: a.test\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    status: 400,
  },
  {
    name: "a bad chunk size",
    request:
      "POST / HTTP/1.1\r\nHost: a.test\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n",
    status: 400,
  },
  {
    name: "a request line that is not HTTP",
    request: "HELLO THERE\r\n\r\n",
    status: 400,
  },
  {
    name: "absolute-form whose authority disagrees with Host",
    request: "GET http://other.test/ HTTP/1.1\r\nHost: a.test\r\n\r\n",
    status: 400,
  },
  {
    name: "a trailing space after the HTTP version",
    request: "GET / HTTP/1.1 \r\nHost: a.test\r\n\r\n",
    status: 400,
  },
  {
    name: "a look-alike framing header name (Transfer_Encoding)",
    request:
      "POST / HTTP/1.1\r\nHost: a.test\r\nContent-Length: 5\r\nTransfer_Encoding: chunked\r\n\r\n0\r\n\r\n",
    status: 400,
  },
  ...["HTTP/1.2", "HTTP/1.9", "HTTP/2.0", "HTTP/3.0", "HTTP/0.9"].map((version) => ({
    name: `an HTTP version not spoken on HTTP/1 (${version})`,
    request: `GET / ${version}\r\nHost: a.test\r\n\r\n`,
    status: 505,
  })),
  {
    name: "an upgrade request with an HTTP version not spoken on HTTP/1",
    request: "GET / HTTP/2.0\r\nHost: a.test\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n",
    status: 505,
  },
  {
    name: "oversized headers",
    request: `GET / HTTP/1.1\r\nHost: a.test\r\nX-Big: ${"a".repeat(20_000)}\r\n\r\n`,
    status: 431,
  },
];

const EXPECTED_CODES: Record<number, string> = {
  400: "SWITCHYARD_BAD_REQUEST",
  431: "SWITCHYARD_HEADERS_TOO_LARGE",
  505: "SWITCHYARD_HTTP_VERSION_NOT_SUPPORTED",
};

describe("malformed and ambiguous requests", () => {
  let backend: EchoBackend;
  let proxy: TestSwitchyard;

  beforeAll(async () => {
    backend = await startEchoBackend();
    proxy = await startTestSwitchyard(singleUpstreamConfig([backend.url]));
  });
  afterAll(async () => {
    await proxy.close();
    await backend.close();
  });
  beforeEach(() => {
    backend.clearReceived();
  });

  it.each(CASES)(
    "$name -> $status, connection closed, nothing forwarded",
    async ({ request, status }) => {
      const answer = await sendRaw(proxy.proxyPort, request);
      expect(answer.statusCode).toBe(status);
      expect(answer.closed).toBe(true);
      const body = answer.raw.slice(answer.raw.indexOf("\r\n\r\n") + 4);
      const parsed = JSON.parse(body) as { error: { code: string; requestId: string } };
      expect(parsed.error.code).toBe(EXPECTED_CODES[status]);
      // Whoever answered (Node's parser or our checks), the client can quote the request id.
      expect(answer.headers["x-request-id"]).toBe(parsed.error.requestId);
      expect(backend.received).toHaveLength(0);
    },
  );

  it("still forwards a well-formed chunked request", async () => {
    const answer = await sendRaw(
      proxy.proxyPort,
      "POST /upload HTTP/1.1\r\nHost: a.test\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
    );
    expect(answer.statusCode).toBe(200);
    expect(backend.received).toHaveLength(1);
  });

  it("refuses Upgrade: h2c and forwards nothing", async () => {
    const answer = await sendRaw(
      proxy.proxyPort,
      "GET / HTTP/1.1\r\nHost: a.test\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQCAAAAAAIAAAAA\r\n\r\n",
    );
    expect(answer.statusCode).toBe(400);
    expect(answer.raw).toContain("SWITCHYARD_UPGRADE_REFUSED");
    expect(backend.received).toHaveLength(0);
  });
});

/**
 * Node's parser reads extra spaces between the parts of a request line as one; the upstream
 * request is written anew, so the origin sees exactly one clean request line and nothing more.
 */
describe("irregular whitespace in the request line", () => {
  let origin: FoldingOrigin;
  let proxy: TestSwitchyard;

  beforeAll(async () => {
    origin = await startFoldingOrigin();
    proxy = await startTestSwitchyard(singleUpstreamConfig([origin.url]));
  });
  afterAll(async () => {
    await proxy.close();
    await origin.close();
  });

  it.each(["GET  /x HTTP/1.1", "GET /x  HTTP/1.1", "GET   /x   HTTP/1.1"])(
    "%j reaches the origin as one clean GET /x HTTP/1.1",
    async (requestLine) => {
      origin.received.length = 0;
      const answer = await sendRaw(
        proxy.proxyPort,
        `${requestLine}\r\nHost: a.test\r\nConnection: close\r\n\r\n`,
      );
      expect(answer.statusCode).toBe(200);
      expect(origin.received).toHaveLength(1);
      expect(origin.received[0]?.head.split("\r\n")[0]).toBe("GET /x HTTP/1.1");
    },
  );
});
