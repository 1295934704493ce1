import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  startEchoBackend,
  TRAILERS_CHECKSUM,
  type EchoBackend,
} from "../../support/echo-backend.ts";
import { waitFor } from "../../support/ports.ts";
import { connectRaw, parseAllResponses, sendRaw } from "../../support/raw-client.ts";

describe("raw client", () => {
  let backend: EchoBackend;
  beforeAll(async () => {
    backend = await startEchoBackend({ name: "raw" });
  });
  afterAll(() => backend.close());

  it("sends exact bytes and parses the first answer", async () => {
    const answer = await sendRaw(
      backend.port,
      "GET /exact HTTP/1.1\r\nHost: a\r\nX-Odd:  spaced \r\nConnection: close\r\n\r\n",
    );
    expect(answer.closed).toBe(true);
    expect(answer.statusCode).toBe(200);
    expect(answer.headers["x-backend-name"]).toBe("raw");
    expect(answer.raw.startsWith("HTTP/1.1 200 OK\r\n")).toBe(true);
    expect(backend.received.at(-1)!.rawHeaders).toContain("X-Odd");
  });

  it("reports an open connection as not closed after the timeout", async () => {
    const answer = await sendRaw(backend.port, "GET / HTTP/1.1\r\nHost: a\r\n\r\n", {
      timeoutMs: 100,
    });
    expect(answer.closed).toBe(false);
    expect(answer.statusCode).toBe(200);
  });

  it("parses pipelined answers, HEAD and chunked ones with trailers included", async () => {
    const answer = await sendRaw(
      backend.port,
      "HEAD /a HTTP/1.1\r\nHost: a\r\n\r\n" +
        "GET /trailers HTTP/1.1\r\nHost: a\r\n\r\n" +
        "GET /status/204 HTTP/1.1\r\nHost: a\r\n\r\n" +
        "GET /c HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
    );
    const responses = parseAllResponses(answer.raw, ["HEAD", "GET", "GET", "GET"]);
    expect(responses.map((response) => response.statusCode)).toEqual([200, 200, 204, 200]);
    expect(responses[0]!.body).toBe("");
    expect(responses[1]!.trailers["x-checksum"]).toBe(TRAILERS_CHECKSUM);
    expect(JSON.parse(responses[3]!.body)).toMatchObject({ url: "/c" });
    expect(responses.every((response) => response.isComplete)).toBe(true);
  });

  it("can reset its connection mid-request, leaving the server with a partial body", async () => {
    const connection = await connectRaw(backend.port);
    await connection.write(
      "POST /upload HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n\r\npartial",
    );
    await waitFor(() => backend.received.at(-1)?.bodyBytes === 7);
    connection.reset();
    expect(await connection.waitClosed(500)).toBe(true);
    expect(backend.received.at(-1)!.isBodyComplete).toBe(false);
  });
});
