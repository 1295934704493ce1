import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Agent, WebSocket } from "undici";
import {
  bytesBodySha256,
  headerValues,
  startEchoBackend,
  TRAILERS_CHECKSUM,
  type EchoBackend,
  type EchoBody,
} from "../../support/echo-backend.ts";
import { get, httpRequest } from "../../support/http-client.ts";
import { connectRaw, parseAllResponses, sendRaw } from "../../support/raw-client.ts";
import { waitFor } from "../../support/ports.ts";

describe("echo backend", () => {
  let backend: EchoBackend;
  beforeAll(async () => {
    backend = await startEchoBackend({ name: "stable" });
  });
  afterAll(() => backend.close());

  it("echoes the request as JSON and records it with its raw headers", async () => {
    backend.clearReceived();
    const response = await get(`${backend.url}/some/path?q=1`, {
      headers: { "X-Custom-Case": "kept" },
    });
    expect(response.status).toBe(200);
    expect(response.headers["x-backend-name"]).toBe("stable");
    const echo = JSON.parse(response.body) as EchoBody;
    expect(echo).toMatchObject({
      name: "stable",
      method: "GET",
      url: "/some/path?q=1",
      bodyBytes: 0,
    });
    expect(echo.headers["x-custom-case"]).toBe("kept");
    expect(backend.received).toHaveLength(1);
    const received = backend.received[0]!;
    expect(received.rawHeaders).toContain("X-Custom-Case");
    expect(headerValues(received.rawHeaders, "x-custom-case")).toEqual(["kept"]);
    expect(received.isBodyComplete).toBe(true);
  });

  it("hashes an uploaded body while streaming it", async () => {
    const body = Buffer.alloc(3 * 1024 * 1024 + 7, "z");
    const response = await httpRequest(`${backend.url}/upload`, { method: "POST", body });
    const echo = JSON.parse(response.body) as EchoBody;
    expect(echo.bodyBytes).toBe(body.length);
    expect(echo.bodySha256).toBe(createHash("sha256").update(body).digest("hex"));
    expect(backend.received.at(-1)!.bodyBytes).toBe(body.length);
  });

  it("streams /bytes/N with Content-Length, or chunked on request", async () => {
    const byteCount = 1024 * 1024 + 123;
    const agent = new Agent({ allowH2: false });
    try {
      for (const query of ["", "?chunked=1"]) {
        const response = await agent.request({
          origin: backend.url,
          path: `/bytes/${byteCount}${query}`,
          method: "GET",
        });
        const hash = createHash("sha256");
        let received = 0;
        for await (const chunk of response.body) {
          hash.update(chunk as Buffer);
          received += (chunk as Buffer).length;
        }
        expect(received).toBe(byteCount);
        expect(hash.digest("hex")).toBe(bytesBodySha256(byteCount));
        if (query === "") expect(response.headers["content-length"]).toBe(String(byteCount));
        else expect(response.headers["transfer-encoding"]).toBe("chunked");
      }
    } finally {
      await agent.close();
    }
  });

  it("sends a trailer on /trailers", async () => {
    const response = await get(`${backend.url}/trailers`);
    expect(response.headers.trailer).toBe("x-checksum");
    expect(response.trailers["x-checksum"]).toBe(TRAILERS_CHECKSUM);
    expect(createHash("sha256").update(response.body).digest("hex")).toBe(TRAILERS_CHECKSUM);
  });

  it("answers /status/N, without a body for 204 and 304", async () => {
    expect((await get(`${backend.url}/status/503`)).status).toBe(503);
    for (const status of [204, 304]) {
      const answer = await sendRaw(
        backend.port,
        `GET /status/${status} HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n`,
      );
      expect(answer.statusCode).toBe(status);
      expect(answer.raw.endsWith("\r\n\r\n")).toBe(true);
      expect(answer.headers["content-length"]).toBeUndefined();
      expect(answer.headers["transfer-encoding"]).toBeUndefined();
    }
  });

  it("answers HEAD without a body", async () => {
    const answer = await sendRaw(
      backend.port,
      "HEAD / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
    );
    expect(answer.statusCode).toBe(200);
    expect(Number(answer.headers["content-length"])).toBeGreaterThan(0);
    expect(answer.raw.endsWith("\r\n\r\n")).toBe(true);
  });

  it("sends two Set-Cookie headers on /set-cookies", async () => {
    const answer = await sendRaw(
      backend.port,
      "GET /set-cookies HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
    );
    const cookies = parseAllResponses(answer.raw)[0]!.rawHeaders.filter(
      ([name]) => name.toLowerCase() === "set-cookie",
    );
    expect(cookies).toHaveLength(2);
  });

  it("answers Expect: 100-continue with an interim 100", async () => {
    const connection = await connectRaw(backend.port);
    await connection.write(
      "POST /expect HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n",
    );
    await connection.waitForData("HTTP/1.1 100 Continue\r\n\r\n");
    await connection.write("hello");
    expect(await connection.waitClosed()).toBe(true);
    const [interim, final] = parseAllResponses(connection.data);
    expect(interim!.statusCode).toBe(100);
    expect((JSON.parse(final!.body) as EchoBody).bodyBytes).toBe(5);
  });

  it("delays the end of /slow-body by delayMs", async () => {
    const slow = await startEchoBackend({ delayMs: 1000 });
    try {
      const connection = await connectRaw(slow.port);
      await connection.write("GET /slow-body HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
      await connection.waitForData("first chunk\n");
      // Asked after the first chunk, an undelayed answer comes before the last chunk.
      expect((await get(`${slow.url}/health`)).status).toBe(200);
      expect(connection.data).not.toContain("last chunk");
      await connection.waitForData("last chunk\n");
      connection.destroy();
    } finally {
      await slow.close();
    }
  });

  it("changes status, health status and delay at runtime", async () => {
    const tuned = await startEchoBackend({ healthStatus: 503 });
    try {
      expect((await get(`${tuned.url}/health`)).status).toBe(503);
      tuned.setHealthStatus(200);
      expect((await get(`${tuned.url}/health`)).status).toBe(200);
      expect(tuned.healthChecks).toBe(2);
      expect(tuned.received).toHaveLength(0);
      tuned.setStatus(500);
      tuned.setDelayMs(1000);
      // The delayed answer comes after an undelayed one asked later.
      const order: string[] = [];
      const delayed = get(`${tuned.url}/x`).then((answer) => {
        order.push("delayed");
        return answer;
      });
      await get(`${tuned.url}/health`);
      order.push("health");
      expect((await delayed).status).toBe(500);
      expect(order).toEqual(["health", "delayed"]);
    } finally {
      await tuned.close();
    }
  });

  it("counts TCP connections, and close() ends idle keep-alive ones", async () => {
    const counted = await startEchoBackend();
    const agent = new Agent({ allowH2: false, connections: 1 });
    try {
      await get(counted.url, { dispatcher: agent });
      await get(counted.url, { dispatcher: agent });
      expect(counted.connections).toBe(1);
      await sendRaw(counted.port, "GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
      expect(counted.connections).toBe(2);
      await counted.close();
      await expect(connectRaw(counted.port)).rejects.toThrow(/ECONNREFUSED/);
    } finally {
      await agent.close();
      await counted.close();
    }
  });

  it("echoes WebSocket messages and raw upgraded bytes", async () => {
    const socket = new WebSocket(`ws://127.0.0.1:${backend.port}/ws`);
    const message = await new Promise<unknown>((resolve, reject) => {
      socket.addEventListener("open", () => {
        socket.send("ping over ws");
      });
      socket.addEventListener("message", (event) => {
        resolve(event.data);
      });
      socket.addEventListener("error", () => {
        reject(new Error("websocket error"));
      });
    });
    expect(message).toBe("ping over ws");
    socket.close();

    const connection = await connectRaw(backend.port);
    await connection.write(
      "GET /raw HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n",
    );
    await connection.waitForData("\r\n\r\n");
    expect(connection.data.startsWith("HTTP/1.1 101 ")).toBe(true);
    await connection.write("raw bytes");
    await connection.waitForData("raw bytes");
    connection.destroy();
    await waitFor(() => backend.received.some((request) => request.url === "/raw"));
  });
});
