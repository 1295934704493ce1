import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  headerValues,
  startEchoBackend,
  type EchoBackend,
  type EchoBody,
  TRAILERS_CHECKSUM,
} from "../../support/echo-backend.ts";
import { closeDefaultAgent, get, httpRequest } from "../../support/http-client.ts";
import { connectRaw, sendRaw } from "../../support/raw-client.ts";
import {
  singleUpstreamConfig,
  startTestSwitchyard,
  type TestSwitchyard,
} from "../../support/switchyard.ts";

describe("forwarding through switchyard", () => {
  let backend: EchoBackend;
  let proxy: TestSwitchyard;

  beforeAll(async () => {
    backend = await startEchoBackend({ name: "stable" });
    proxy = await startTestSwitchyard(
      singleUpstreamConfig([backend.url], {
        route: { match: { pathPrefix: "/" } },
      }),
    );
  });

  afterAll(async () => {
    await closeDefaultAgent();
    await proxy.close();
    await backend.close();
  });

  it("forwards method, path, query and body and returns the upstream's answer", async () => {
    const response = await httpRequest(`${proxy.url}/orders/7?expand=items`, {
      method: "POST",
      headers: { "content-type": "text/plain" },
      body: "hello upstream",
    });
    expect(response.status).toBe(200);
    const echoed = JSON.parse(response.body) as EchoBody;
    expect(echoed).toMatchObject({
      name: "stable",
      method: "POST",
      url: "/orders/7?expand=items",
      bodyBytes: 14,
    });
  });

  it("passes Host through unchanged and sets X-Forwarded-*, Via and X-Request-Id", async () => {
    backend.clearReceived();
    const response = await get(`${proxy.url}/headers`, {
      headers: {
        host: "shop.example.com",
        "x-forwarded-for": "203.0.113.9",
        "x-request-id": "abc-123",
      },
    });
    expect(response.status).toBe(200);
    const raw = backend.received[0]?.rawHeaders ?? [];
    expect(headerValues(raw, "host")).toEqual(["shop.example.com"]);
    // forwarded.trust defaults to false: the client's X-Forwarded-For is replaced.
    expect(headerValues(raw, "x-forwarded-for")).toEqual(["127.0.0.1"]);
    expect(headerValues(raw, "x-forwarded-proto")).toEqual(["http"]);
    expect(headerValues(raw, "x-forwarded-host")).toEqual(["shop.example.com"]);
    expect(headerValues(raw, "via")).toEqual(["1.1 switchyard"]);
    expect(headerValues(raw, "x-request-id")).toEqual(["abc-123"]);
    expect(response.headers["x-request-id"]).toBe("abc-123");
    expect(response.headers.via).toBe("1.1 switchyard");
  });

  it("generates an X-Request-Id when the client sends none", async () => {
    backend.clearReceived();
    const response = await get(`${proxy.url}/id`);
    const sent = headerValues(backend.received[0]?.rawHeaders ?? [], "x-request-id")[0];
    expect(sent).toMatch(/^[0-9a-f-]{36}$/);
    expect(response.headers["x-request-id"]).toBe(sent);
  });

  it("removes hop-by-hop headers and every header named in Connection", async () => {
    backend.clearReceived();
    const answer = await sendRaw(
      proxy.proxyPort,
      "GET /hop HTTP/1.1\r\nHost: a.test\r\nConnection: keep-alive, x-secret\r\nX-Secret: 1\r\n" +
        "Keep-Alive: timeout=5\r\nTE: trailers\r\nProxy-Authorization: Basic Zm9vOmJhcg==\r\n" +
        "Proxy-Connection: keep-alive\r\nX-Kept: yes\r\nConnection: close\r\n\r\n",
    );
    expect(answer.statusCode).toBe(200);
    const raw = backend.received[0]?.rawHeaders ?? [];
    for (const name of [
      "x-secret",
      "keep-alive",
      "te",
      "proxy-authorization",
      "proxy-connection",
    ]) {
      expect(headerValues(raw, name), name).toEqual([]);
    }
    expect(headerValues(raw, "x-kept")).toEqual(["yes"]);
  });

  it("answers 508 to a request that already went through switchyard, without forwarding it", async () => {
    backend.clearReceived();
    const response = await get(`${proxy.url}/loop`, {
      headers: { via: "1.1 edge, 1.1 switchyard" },
    });
    expect(response.status).toBe(508);
    expect(JSON.parse(response.body)).toMatchObject({
      error: { code: "SWITCHYARD_LOOP_DETECTED" },
    });
    expect(backend.received).toHaveLength(0);
  });

  it("answers HEAD, 204 and 304 without a body", async () => {
    const head = await httpRequest(`${proxy.url}/anything`, { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(head.body).toBe("");
    const noContent = await get(`${proxy.url}/status/204`);
    expect(noContent.status).toBe(204);
    expect(noContent.body).toBe("");
    const notModified = await get(`${proxy.url}/status/304`);
    expect(notModified.status).toBe(304);
    expect(notModified.body).toBe("");
  });

  it("relays response trailers", async () => {
    const response = await get(`${proxy.url}/trailers`, { headers: { te: "trailers" } });
    expect(response.status).toBe(200);
    expect(response.trailers["x-checksum"]).toBe(TRAILERS_CHECKSUM);
  });

  it("keeps several Set-Cookie headers apart", async () => {
    const response = await get(`${proxy.url}/set-cookies`);
    const cookies = response.headers["set-cookie"];
    expect(Array.isArray(cookies) ? cookies.length : 0).toBe(2);
  });

  it("answers 100 Continue and forwards the body of an Expect: 100-continue request", async () => {
    const connection = await connectRaw(proxy.proxyPort);
    await connection.write(
      "POST /upload HTTP/1.1\r\nHost: a.test\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n",
    );
    await connection.waitForData((data) => data.includes("100 Continue"), 2000);
    await connection.write("12345");
    await connection.waitForData((data) => data.includes("\r\n\r\n{"), 2000);
    connection.destroy();
    expect(connection.data).toMatch(/^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 200 OK/);
    expect(connection.data).toContain('"bodyBytes":5');
  });

  it("reuses upstream connections (keep-alive pool)", async () => {
    const before = backend.connections;
    for (let i = 0; i < 20; i++) {
      const response = await get(`${proxy.url}/pooled`);
      expect(response.status).toBe(200);
    }
    expect(backend.connections - before).toBeLessThanOrEqual(2);
  });

  it("answers 404 with a JSON error when no route matches", async () => {
    const other = await startTestSwitchyard({
      upstreams: { stable: { endpoints: [backend.url] } },
      routes: [{ name: "api", match: { pathPrefix: "/api" }, split: { stable: 100 } }],
    });
    try {
      const response = await get(`${other.url}/web/page`);
      expect(response.status).toBe(404);
      expect(response.headers["content-type"]).toBe("application/json");
      const body = JSON.parse(response.body) as { error: { code: string; requestId: string } };
      expect(body.error.code).toBe("SWITCHYARD_NO_ROUTE");
      expect(body.error.requestId).toBe(response.headers["x-request-id"]);
    } finally {
      await other.close();
    }
  });
});
