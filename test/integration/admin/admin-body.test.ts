/**
 * Request bodies of the admin API over real HTTP (SPEC section 7): 415 for a non-JSON body,
 * 400 for invalid JSON, 413 over 64 KiB with reading stopped at the limit, 100-continue.
 */
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { MAX_BODY_BYTES } from "../../../src/admin/body.ts";
import { closeDefaultAgent, httpRequest } from "../../support/http-client.ts";
import { connectRaw } from "../../support/raw-client.ts";
import { startAdmin, type RunningAdmin } from "./admin-fixture.ts";

let running: RunningAdmin | undefined;

afterEach(async () => {
  await running?.close();
  running = undefined;
});

afterAll(async () => {
  await closeDefaultAgent();
});

function codeOf(body: string): string {
  return (JSON.parse(body) as { error: { code: string } }).error.code;
}

/** `{"weights": {...}}` padded with spaces to exactly `sizeBytes`. */
function paddedWeights(sizeBytes: number): string {
  const json = JSON.stringify({ weights: { stable: 70, canary: 30 } });
  return json + " ".repeat(sizeBytes - json.length);
}

function put(url: string, headers: Record<string, string>, body: string | Buffer) {
  return httpRequest(`${url}/api/v1/routes/web/weights`, { method: "PUT", headers, body });
}

describe("content type", () => {
  it("answers 415 when a body is not declared application/json", async () => {
    running = await startAdmin();
    const body = JSON.stringify({ weights: { stable: 70, canary: 30 } });
    for (const type of [
      "text/plain",
      "application/x-www-form-urlencoded",
      "application/json; charset=latin1",
    ]) {
      const answer = await put(running.url, { "content-type": type }, body);
      expect(answer.status, type).toBe(415);
      expect(codeOf(answer.body)).toBe("SWITCHYARD_UNSUPPORTED_MEDIA_TYPE");
    }
    const untyped = await put(running.url, {}, body);
    expect(untyped.status).toBe(415);
    expect(running.control.calls).toEqual([]);
  });

  it("accepts application/json with or without charset=utf-8, in any case", async () => {
    running = await startAdmin();
    const body = JSON.stringify({ weights: { stable: 70, canary: 30 } });
    for (const type of ["application/json", "Application/JSON; charset=UTF-8"]) {
      expect((await put(running.url, { "content-type": type }, body)).status, type).toBe(200);
    }
  });

  it("answers 415 for a form body on a call that takes none", async () => {
    running = await startAdmin();
    const answer = await httpRequest(`${running.url}/api/v1/reload`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: "now=1",
    });
    expect(answer.status).toBe(415);
    expect(running.control.calls).toEqual([]);
  });
});

describe("invalid JSON", () => {
  it("answers 400 SWITCHYARD_INVALID_JSON for a syntax error, an empty body or bad UTF-8", async () => {
    running = await startAdmin();
    const json = { "content-type": "application/json" };
    for (const body of ['{"weights": {"stable": 70,', "", Buffer.from([0x7b, 0xff, 0x7d])]) {
      const answer = await put(running.url, json, body);
      expect(answer.status, String(body)).toBe(400);
      expect(codeOf(answer.body)).toBe("SWITCHYARD_INVALID_JSON");
    }
    expect(running.control.calls).toEqual([]);
  });
});

describe("body size", () => {
  it("accepts a body of exactly 64 KiB", async () => {
    running = await startAdmin();
    const body = paddedWeights(MAX_BODY_BYTES);
    const answer = await put(running.url, { "content-type": "application/json" }, body);
    expect(answer.status).toBe(200);
  });

  it("answers 413 for a declared Content-Length over 64 KiB without calling the control plane", async () => {
    running = await startAdmin();
    const body = paddedWeights(MAX_BODY_BYTES + 1);
    const answer = await put(running.url, { "content-type": "application/json" }, body);
    expect(answer.status).toBe(413);
    expect(answer.headers.connection).toBe("close");
    expect(codeOf(answer.body)).toBe("SWITCHYARD_BODY_TOO_LARGE");
    expect(running.control.calls).toEqual([]);
  });

  it("stops reading a chunked body at the limit and answers 413 before it ends", async () => {
    running = await startAdmin();
    const connection = await connectRaw(running.port);
    const chunk = "x".repeat(16 * 1024);
    const chunks = Array.from({ length: 5 }, () => `${chunk.length.toString(16)}\r\n${chunk}\r\n`);
    await connection.write(
      "PUT /api/v1/routes/web/weights HTTP/1.1\r\nHost: 127.0.0.1\r\n" +
        "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n" +
        chunks.join(""),
    );
    // The body never ends (no last chunk): only the limit can produce the answer.
    const data = await connection.waitForData(/\r\n\r\n\{/, 2000);
    expect(data).toMatch(/^HTTP\/1\.1 413 /);
    expect(await connection.waitClosed(2000)).toBe(true);
    connection.destroy();
    expect(running.control.calls).toEqual([]);
  });
});

describe("Expect: 100-continue", () => {
  it("answers 413 without 100 Continue when the declared body is too large", async () => {
    running = await startAdmin();
    const connection = await connectRaw(running.port);
    await connection.write(
      "PUT /api/v1/routes/web/weights HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n" +
        `Content-Length: ${MAX_BODY_BYTES + 1}\r\nExpect: 100-continue\r\n\r\n`,
    );
    const data = await connection.waitForData(/\r\n\r\n\{/, 2000);
    expect(data).toMatch(/^HTTP\/1\.1 413 /);
    expect(data).not.toContain("100 Continue");
    connection.destroy();
  });

  it("answers 401 without 100 Continue when the token is missing", async () => {
    running = await startAdmin({
      tokens: [{ name: "ops", scope: "write", token: "write-token-0123456789abcdef" }],
    });
    const connection = await connectRaw(running.port);
    await connection.write(
      "PUT /api/v1/routes/web/weights HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n" +
        "Content-Length: 20\r\nExpect: 100-continue\r\n\r\n",
    );
    const data = await connection.waitForData(/\r\n\r\n\{/, 2000);
    expect(data).toMatch(/^HTTP\/1\.1 401 /);
    expect(data).not.toContain("100 Continue");
    connection.destroy();
  });

  it("sends 100 Continue for an acceptable call, then reads the body", async () => {
    running = await startAdmin();
    const body = JSON.stringify({ weights: { stable: 70, canary: 30 } });
    const connection = await connectRaw(running.port);
    await connection.write(
      "PUT /api/v1/routes/web/weights HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n" +
        `Content-Length: ${body.length}\r\nExpect: 100-continue\r\n\r\n`,
    );
    await connection.waitForData("HTTP/1.1 100 Continue\r\n\r\n", 2000);
    await connection.write(body);
    const data = await connection.waitForData(/HTTP\/1\.1 200 [^]*"after"/, 2000);
    expect(data).toContain('"canary": 30');
    connection.destroy();
  });
});
