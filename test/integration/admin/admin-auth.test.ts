/**
 * Tokens and scopes of the admin API over real HTTP (SPEC section 7): 401 with
 * WWW-Authenticate without or with an unknown token, 403 for a read token on a write call,
 * open when no token is configured, tokens replaced on reload.
 */
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { closeDefaultAgent, get, httpRequest } from "../../support/http-client.ts";
import {
  bearer,
  METRICS_TEXT,
  READ_TOKEN,
  startAdmin,
  TOKENS,
  WRITE_TOKEN,
  type RunningAdmin,
} from "./admin-fixture.ts";

let running: RunningAdmin | undefined;

afterEach(async () => {
  await running?.close();
  running = undefined;
});

afterAll(async () => {
  await closeDefaultAgent();
});

const JSON_HEADERS = { "content-type": "application/json" };
const WEIGHTS_BODY = JSON.stringify({ weights: { stable: 80, canary: 20 } });

function errorOf(body: string): { code: string; message: string } {
  return (JSON.parse(body) as { error: { code: string; message: string } }).error;
}

describe("with tokens configured", () => {
  it("answers 401 with WWW-Authenticate when the token is missing", async () => {
    running = await startAdmin({ tokens: TOKENS });
    const answer = await get(`${running.url}/api/v1/status`);
    expect(answer.status).toBe(401);
    expect(answer.headers["www-authenticate"]).toBe('Bearer realm="switchyard"');
    expect(answer.headers["content-type"]).toBe("application/json; charset=utf-8");
    expect(errorOf(answer.body).code).toBe("SWITCHYARD_UNAUTHORIZED");
  });

  it("answers 401 with WWW-Authenticate for an unknown or malformed token", async () => {
    running = await startAdmin({ tokens: TOKENS });
    for (const authorization of [
      `Bearer ${WRITE_TOKEN}x`,
      `Bearer ${WRITE_TOKEN.slice(0, -1)}`,
      `Basic ${Buffer.from(`ops:${WRITE_TOKEN}`).toString("base64")}`,
      WRITE_TOKEN,
    ]) {
      const answer = await get(`${running.url}/api/v1/status`, { headers: { authorization } });
      expect(answer.status, authorization).toBe(401);
      expect(answer.headers["www-authenticate"]).toMatch(/^Bearer realm="switchyard"/);
      expect(errorOf(answer.body).code).toBe("SWITCHYARD_UNAUTHORIZED");
    }
  });

  it("lets a read token read and refuses its writes with 403, changing nothing", async () => {
    running = await startAdmin({ tokens: TOKENS });
    const status = await get(`${running.url}/api/v1/status`, { headers: bearer(READ_TOKEN) });
    expect(status.status).toBe(200);
    const put = await httpRequest(`${running.url}/api/v1/routes/web/weights`, {
      method: "PUT",
      headers: { ...bearer(READ_TOKEN), ...JSON_HEADERS },
      body: WEIGHTS_BODY,
    });
    expect(put.status).toBe(403);
    expect(errorOf(put.body).code).toBe("SWITCHYARD_FORBIDDEN");
    for (const [method, path] of [
      ["DELETE", "/api/v1/routes/web/weights"],
      ["POST", "/api/v1/reload"],
    ] as const) {
      const answer = await httpRequest(`${running.url}${path}`, {
        method,
        headers: bearer(READ_TOKEN),
      });
      expect(answer.status, path).toBe(403);
    }
    expect(running.control.calls).toEqual([]);
    expect(running.control.routes[0]?.split).toEqual({ stable: 95, canary: 5 });
  });

  it("lets a write token read and write, logging the token's name as the actor", async () => {
    running = await startAdmin({ tokens: TOKENS });
    const status = await get(`${running.url}/api/v1/status`, { headers: bearer(WRITE_TOKEN) });
    expect(status.status).toBe(200);
    const put = await httpRequest(`${running.url}/api/v1/routes/web/weights`, {
      method: "PUT",
      headers: { ...bearer(WRITE_TOKEN), ...JSON_HEADERS },
      body: WEIGHTS_BODY,
    });
    expect(put.status).toBe(200);
    expect(running.control.calls).toEqual([
      { method: "setWeights", route: "web", actor: "ops", weights: { stable: 80, canary: 20 } },
    ]);
  });

  it("serves /healthz and /readyz without a token, and /metrics per publicMetrics", async () => {
    running = await startAdmin({ tokens: TOKENS, publicMetrics: true });
    expect((await get(`${running.url}/healthz`)).status).toBe(200);
    expect((await get(`${running.url}/readyz`)).status).toBe(200);
    expect((await get(`${running.url}/metrics`)).body).toBe(METRICS_TEXT);
    await running.close();

    running = await startAdmin({ tokens: TOKENS, publicMetrics: false });
    expect((await get(`${running.url}/healthz`)).status).toBe(200);
    const anonymous = await get(`${running.url}/metrics`);
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers["www-authenticate"]).toBe('Bearer realm="switchyard"');
    const withRead = await get(`${running.url}/metrics`, { headers: bearer(READ_TOKEN) });
    expect(withRead.status).toBe(200);
    expect(withRead.body).toBe(METRICS_TEXT);
  });

  it("applies new tokens and publicMetrics from updateAdminConfig to the next call", async () => {
    running = await startAdmin({ tokens: TOKENS });
    const newToken = "rotated-token-0123456789abcdef";
    running.admin.updateAdminConfig({
      tokens: [{ name: "rotated", scope: "write", token: newToken }],
      publicMetrics: false,
      allowedHosts: [],
    });
    const old = await get(`${running.url}/api/v1/status`, { headers: bearer(WRITE_TOKEN) });
    expect(old.status).toBe(401);
    const fresh = await get(`${running.url}/api/v1/status`, { headers: bearer(newToken) });
    expect(fresh.status).toBe(200);
    expect((await get(`${running.url}/metrics`)).status).toBe(401);
  });
});

describe("without tokens", () => {
  it("allows every call, the actor being anonymous", async () => {
    running = await startAdmin({ tokens: [] });
    expect((await get(`${running.url}/api/v1/status`)).status).toBe(200);
    const put = await httpRequest(`${running.url}/api/v1/routes/web/weights`, {
      method: "PUT",
      headers: JSON_HEADERS,
      body: WEIGHTS_BODY,
    });
    expect(put.status).toBe(200);
    const reload = await httpRequest(`${running.url}/api/v1/reload`, {
      method: "POST",
      headers: JSON_HEADERS,
    });
    expect(reload.status).toBe(200);
    expect(running.control.calls.map((call) => call.actor)).toEqual(["anonymous", "anonymous"]);
  });
});
