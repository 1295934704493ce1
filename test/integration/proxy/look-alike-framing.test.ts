/**
 * Header names that origins fold into a framing header (`Transfer_Encoding` read as
 * Transfer-Encoding by CGI, WSGI and Rack servers) must never pass: behind a pooled upstream
 * connection they let one client's hidden request be answered to another client.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  foldingAnswerBody,
  startFoldingOrigin,
  type FoldingOrigin,
} from "../../support/folding-origin.ts";
import { closeDefaultAgent, get } from "../../support/http-client.ts";
import { connectRaw, parseAllResponses, sendRaw } from "../../support/raw-client.ts";
import {
  singleUpstreamConfig,
  startTestSwitchyard,
  type TestSwitchyard,
} from "../../support/switchyard.ts";

/** A body that ends a chunked message at once and starts a request the origin completes later. */
const HIDDEN_PREFIX = "0\r\n\r\nGET /hijacked HTTP/1.1\r\nHost: a.test\r\nX-Ignore: ";

function attackRequest(framingName: string): string {
  return (
    `POST /a HTTP/1.1\r\nHost: a.test\r\nContent-Length: ${HIDDEN_PREFIX.length}\r\n` +
    `${framingName}: chunked\r\n\r\n${HIDDEN_PREFIX}`
  );
}

async function startBehindOneConnection(origin: FoldingOrigin): Promise<TestSwitchyard> {
  // One pooled connection per endpoint: the next client's request reuses the attacker's.
  return startTestSwitchyard(
    singleUpstreamConfig([origin.url], { upstream: { maxConnections: 1 } }),
  );
}

describe("a look-alike Transfer-Encoding name cannot hand one client's answer to another", () => {
  let origin: FoldingOrigin;
  let proxy: TestSwitchyard;

  beforeAll(async () => {
    origin = await startFoldingOrigin();
    proxy = await startBehindOneConnection(origin);
  });

  afterAll(async () => {
    await closeDefaultAgent();
    await proxy.close();
    await origin.close();
  });

  it("refuses the attacker's request and answers the next client its own request", async () => {
    const attacker = await connectRaw(proxy.proxyPort);
    await attacker.write(attackRequest("Transfer_Encoding"));
    const isAnswered = (data: string): boolean => parseAllResponses(data)[0]?.isComplete === true;
    const attackerAnswer = parseAllResponses(await attacker.waitForData(isAnswered, 5000))[0];

    // Another client, its own connection, a plain GET: without the refusal it receives the
    // answer to the attacker's hidden GET /hijacked.
    const victim = await get(`${proxy.url}/public`);
    expect(victim.body).toBe(foldingAnswerBody("GET", "/public"));
    expect(victim.status).toBe(200);
    expect(attackerAnswer?.statusCode).toBe(400);
    expect(await attacker.waitClosed(5000)).toBe(true);
    expect(origin.received.map((request) => request.path)).toEqual(["/public"]);
  });
});

describe("look-alike framing names", () => {
  let origin: FoldingOrigin;
  let proxy: TestSwitchyard;

  beforeAll(async () => {
    origin = await startFoldingOrigin();
    proxy = await startBehindOneConnection(origin);
  });

  afterEach(() => {
    origin.received.length = 0;
  });

  afterAll(async () => {
    await closeDefaultAgent();
    await proxy.close();
    await origin.close();
  });

  it.each([
    "Transfer_Encoding",
    "transfer_encoding",
    "TRANSFER_ENCODING",
    "Transfer.Encoding",
    "TransferEncoding",
    "Transfer--Encoding",
    "Transfer-Encoding_",
    "Content_Length",
    "content_length",
    "Content.Length",
    "ContentLength",
  ])("refuses %s with 400, closes the connection and forwards nothing", async (name) => {
    const answer = await sendRaw(
      proxy.proxyPort,
      `POST /x HTTP/1.1\r\nHost: a.test\r\nContent-Length: 5\r\n${name}: 5\r\n\r\nhello`,
    );
    expect(answer.statusCode).toBe(400);
    expect(answer.closed).toBe(true);
    expect(origin.received).toEqual([]);
  });

  it("refuses a look-alike name on an upgrade request", async () => {
    const answer = await sendRaw(
      proxy.proxyPort,
      "GET /ws HTTP/1.1\r\nHost: a.test\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n" +
        "Transfer_Encoding: chunked\r\n\r\n",
    );
    expect(answer.statusCode).toBe(400);
    expect(origin.received).toEqual([]);
  });

  it.each(["X_Custom_Header", "Content_Type", "Cache-Control", "Content-Length"])(
    "forwards an ordinary name such as %s",
    async (name) => {
      const answer = await sendRaw(
        proxy.proxyPort,
        `GET /ok HTTP/1.1\r\nHost: a.test\r\n${name}: 0\r\nConnection: close\r\n\r\n`,
      );
      expect(answer.statusCode).toBe(200);
      expect(origin.received.map((request) => request.path)).toEqual(["/ok"]);
    },
  );
});

describe("look-alike framing names in upstream answers", () => {
  let origin: FoldingOrigin;
  let proxy: TestSwitchyard;

  beforeAll(async () => {
    origin = await startFoldingOrigin({
      extraResponseHeaders: ["Transfer_Encoding: chunked", "Content_Length: 999", "X_Kept: yes"],
    });
    proxy = await startBehindOneConnection(origin);
  });

  afterAll(async () => {
    await closeDefaultAgent();
    await proxy.close();
    await origin.close();
  });

  it("removes them before the answer reaches the client", async () => {
    const answer = await sendRaw(
      proxy.proxyPort,
      "GET /r HTTP/1.1\r\nHost: a.test\r\nConnection: close\r\n\r\n",
    );
    expect(answer.statusCode).toBe(200);
    expect(answer.raw).not.toMatch(/transfer_encoding|content_length/i);
    expect(answer.headers["x_kept"]).toBe("yes");
    expect(answer.raw.endsWith(foldingAnswerBody("GET", "/r"))).toBe(true);
  });

  it("removes them from a plain answer to an upgrade request", async () => {
    const answer = await sendRaw(
      proxy.proxyPort,
      "GET /ws HTTP/1.1\r\nHost: a.test\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n",
      { timeoutMs: 5000 },
    );
    expect(answer.statusCode).toBe(200);
    expect(answer.raw).not.toMatch(/transfer_encoding|content_length/i);
    expect(answer.headers["x_kept"]).toBe("yes");
  });
});
