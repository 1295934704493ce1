import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { headerValues, startEchoBackend, type EchoBackend } from "../../support/echo-backend.ts";
import { startResettingBackend } from "../../support/raw-backends.ts";
import { closeDefaultAgent, get, hammer, httpRequest } from "../../support/http-client.ts";

describe("http client helpers", () => {
  let backend: EchoBackend;
  beforeAll(async () => {
    backend = await startEchoBackend({ name: "counted" });
  });
  afterAll(async () => {
    await backend.close();
    await closeDefaultAgent();
  });

  it("get and httpRequest return status, headers and body, whatever the status", async () => {
    const response = await get(`${backend.url}/status/404`, { headers: { "x-a": "1" } });
    expect(response.status).toBe(404);
    expect(response.headers["content-type"]).toBe("application/json");
    expect(JSON.parse(response.body)).toMatchObject({ name: "counted", headers: { "x-a": "1" } });
    const posted = await httpRequest(`${backend.url}/upload`, { method: "POST", body: "abc" });
    expect(JSON.parse(posted.body)).toMatchObject({ method: "POST", bodyBytes: 3 });
  });

  it("hammer tallies statuses and names over keep-alive connections", async () => {
    backend.clearReceived();
    const connectionsBefore = backend.connections;
    const result = await hammer(`${backend.url}/h`, {
      total: 2000,
      concurrency: 16,
      headers: (index) => ({ "x-index": String(index) }),
    });
    expect(result).toMatchObject({
      byStatus: { 200: 2000 },
      byName: { counted: 2000 },
      failures: 0,
    });
    expect(backend.received).toHaveLength(2000);
    expect(backend.connections - connectionsBefore).toBe(16);
    const indexes = new Set(
      backend.received.map((request) => headerValues(request.rawHeaders, "x-index")[0]),
    );
    expect(indexes.size).toBe(2000);
  });

  it("hammer counts network failures by code", async () => {
    const resetting = await startResettingBackend();
    try {
      const result = await hammer(resetting.url, { total: 20, concurrency: 4 });
      expect(result.failures).toBe(20);
      expect(result.failuresByCode).toEqual({ ECONNRESET: 20 });
      expect(result.byStatus).toEqual({});
    } finally {
      await resetting.close();
    }
  });
});
