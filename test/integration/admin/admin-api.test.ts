/**
 * The admin API's endpoints over real HTTP against a FakeControl (SPEC section 7): answers,
 * status codes, error bodies, the readiness flip and the change log lines.
 */
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { closeDefaultAgent, get, httpRequest } from "../../support/http-client.ts";
import {
  METRICS_CONTENT_TYPE,
  METRICS_TEXT,
  startAdmin,
  type RunningAdmin,
} from "./admin-fixture.ts";
import { sendRaw } from "../../support/raw-client.ts";
import { FakeControl } from "./fake-control.ts";

let running: RunningAdmin | undefined;

afterEach(async () => {
  await running?.close();
  running = undefined;
});

afterAll(async () => {
  await closeDefaultAgent();
});

const JSON_TYPE = "application/json; charset=utf-8";
/** Every write is declared JSON, an empty one too. */
const JSON_HEADERS = { "content-type": "application/json" };

interface ErrorBody {
  error: { code: string; message: string; fields?: Record<string, string>; problems?: string[] };
}

function parsed(body: string): unknown {
  return JSON.parse(body);
}

function errorOf(body: string): ErrorBody["error"] {
  return (JSON.parse(body) as ErrorBody).error;
}

function eventIds(body: string): number[] {
  return (JSON.parse(body) as { events: { id: number }[] }).events.map((event) => event.id);
}

function putWeights(url: string, route: string, body: unknown): ReturnType<typeof httpRequest> {
  return httpRequest(`${url}/api/v1/routes/${route}/weights`, {
    method: "PUT",
    headers: JSON_HEADERS,
    body: JSON.stringify(body),
  });
}

describe("probes and metrics", () => {
  it("answers /healthz 200 in JSON", async () => {
    running = await startAdmin();
    const answer = await get(`${running.url}/healthz`);
    expect(answer.status).toBe(200);
    expect(answer.headers["content-type"]).toBe(JSON_TYPE);
    expect(parsed(answer.body)).toEqual({ status: "ok" });
  });

  it("flips /readyz with isReady and isDraining", async () => {
    running = await startAdmin();
    const { control, url } = running;
    const readyz = async (): Promise<{ status: number; body: unknown }> => {
      const answer = await get(`${url}/readyz`);
      return { status: answer.status, body: parsed(answer.body) };
    };
    expect(await readyz()).toEqual({ status: 200, body: { ready: true, draining: false } });
    control.isReadyNow = false;
    expect(await readyz()).toEqual({ status: 503, body: { ready: false, draining: false } });
    control.isReadyNow = true;
    control.isDrainingNow = true;
    expect(await readyz()).toEqual({ status: 503, body: { ready: false, draining: true } });
    control.isDrainingNow = false;
    expect((await readyz()).status).toBe(200);
  });

  it("serves /metrics in the registry's content type, not JSON", async () => {
    running = await startAdmin();
    const answer = await get(`${running.url}/metrics`);
    expect(answer.status).toBe(200);
    expect(answer.headers["content-type"]).toBe(METRICS_CONTENT_TYPE);
    expect(answer.body).toBe(METRICS_TEXT);
  });
});

describe("reading", () => {
  it("answers /api/v1/status with the control plane's status view", async () => {
    running = await startAdmin();
    const answer = await get(`${running.url}/api/v1/status`);
    expect(answer.status).toBe(200);
    expect(answer.headers["content-type"]).toBe(JSON_TYPE);
    expect(answer.headers["cache-control"]).toBe("no-store");
    expect(parsed(answer.body)).toEqual(running.control.status());
  });

  it("passes /api/v1/config through from effectiveConfig, redaction included", async () => {
    const control = new FakeControl();
    control.effective = { admin: { tokens: [{ name: "ops", token: "<redacted>" }] }, n: [1, 2] };
    running = await startAdmin({}, control);
    const answer = await get(`${running.url}/api/v1/config`);
    expect(answer.status).toBe(200);
    expect(parsed(answer.body)).toEqual(control.effective);
  });

  it("answers HEAD like GET without a body", async () => {
    running = await startAdmin();
    const head = await httpRequest(`${running.url}/api/v1/status`, { method: "HEAD" });
    const full = await get(`${running.url}/api/v1/status`);
    expect(head.status).toBe(200);
    expect(head.body).toBe("");
    expect(head.headers["content-length"]).toBe(String(Buffer.byteLength(full.body)));
  });

  it("lists events after ?since=ID, and all of them without it", async () => {
    const control = new FakeControl();
    for (const id of [1, 2, 3]) {
      control.loggedEvents.push({ id, at: "2025-01-01T00:00:00.000Z", type: "weights.set" });
    }
    running = await startAdmin({}, control);
    const all = await get(`${running.url}/api/v1/events`);
    expect(all.status).toBe(200);
    expect(eventIds(all.body)).toEqual([1, 2, 3]);
    const after = await get(`${running.url}/api/v1/events?since=2`);
    expect(eventIds(after.body)).toEqual([3]);
    const none = await get(`${running.url}/api/v1/events?since=0`);
    expect(eventIds(none.body)).toHaveLength(3);
  });

  it.each(["-1", "abc", "1.5", "", "1e3", "99999999999999999999", "1&since=2"])(
    "refuses ?since=%s with 400 naming the field",
    async (since) => {
      running = await startAdmin();
      const answer = await get(`${running.url}/api/v1/events?since=${since}`);
      expect(answer.status).toBe(400);
      const error = errorOf(answer.body);
      expect(error.code).toBe("SWITCHYARD_INVALID_QUERY");
      expect(error.fields?.since).toMatch(/non-negative integer/);
      expect(Object.keys(error.fields ?? {})).toEqual(["since"]);
    },
  );
});

describe("changing weights", () => {
  it("sets a split, answers before and after, and logs the change with the actor", async () => {
    running = await startAdmin();
    const answer = await putWeights(running.url, "web", { weights: { stable: 80, canary: 20 } });
    expect(answer.status).toBe(200);
    expect(parsed(answer.body)).toEqual({
      route: "web",
      before: { stable: 95, canary: 5 },
      after: { stable: 80, canary: 20 },
      splitSource: "admin",
    });
    const line = running.logs.find((log) => log.msg === "split set through the admin API");
    expect(line).toMatchObject({
      level: 30,
      actor: "anonymous",
      route: "web",
      before: { stable: 95, canary: 5 },
      after: { stable: 80, canary: 20 },
    });
  });

  it("answers 400 with each field's problem for a body of the wrong shape", async () => {
    running = await startAdmin();
    const cases: [unknown, Record<string, string | RegExp>][] = [
      [{ weights: { stable: 90, canary: "10" } }, { "weights.canary": "must be a number" }],
      [{ weights: { stable: null } }, { "weights.stable": "must be a number" }],
      [{}, { weights: /is required/ }],
      [{ weights: [90, 10] }, { weights: /must be an object/ }],
      [{ weights: {} }, { weights: /at least one upstream/ }],
      [{ weights: { stable: 100 }, force: true }, { force: /not a known field/ }],
      [[1, 2], { body: /must be a JSON object/ }],
    ];
    for (const [body, fields] of cases) {
      const answer = await putWeights(running.url, "web", body);
      expect(answer.status, JSON.stringify(body)).toBe(400);
      const error = errorOf(answer.body);
      expect(error.code).toBe("SWITCHYARD_INVALID_BODY");
      const expected = Object.fromEntries(
        Object.entries(fields).map(([path, problem]) => [
          path,
          typeof problem === "string" ? problem : expect.stringMatching(problem),
        ]),
      );
      expect(error.fields).toEqual(expected);
      expect(error.message).toContain(Object.keys(fields)[0]);
    }
    expect(running.control.calls).toEqual([]);
  });

  it("passes the control plane's 400 fields, 404 and 409 through", async () => {
    running = await startAdmin();
    const badSum = await putWeights(running.url, "web", { weights: { stable: 90, canary: 20 } });
    expect(badSum.status).toBe(400);
    // The control plane's refusals, passed on as they are (the contract suite in
    // test/integration/control pins their wording on the real control plane).
    expect(errorOf(badSum.body)).toEqual({
      code: "SWITCHYARD_INVALID_WEIGHTS",
      message: "the weights are invalid: must sum to 100, not 110",
      fields: { weights: "must sum to 100, not 110" },
    });
    const unknown = await putWeights(running.url, "shop", { weights: { stable: 100 } });
    expect(unknown.status).toBe(404);
    expect(errorOf(unknown.body)).toEqual({
      code: "SWITCHYARD_UNKNOWN_ROUTE",
      message: 'no route named "shop"',
    });
    const conflict = await putWeights(running.url, "api", { weights: { stable: 50, canary: 50 } });
    expect(conflict.status).toBe(409);
    expect(errorOf(conflict.body)).toEqual({
      code: "SWITCHYARD_ROLLOUT_RUNNING",
      message: 'a rollout is running on route "api"; pause it first (switchyard rollout api pause)',
    });
    expect(running.logs.some((log) => log.msg === "split set through the admin API")).toBe(false);
  });

  it("decodes the route name from the path", async () => {
    running = await startAdmin();
    const answer = await putWeights(running.url, "my%20route%2Fv2", { weights: { a: 100 } });
    expect(answer.status).toBe(404);
    expect(running.control.calls[0]?.route).toBe("my route/v2");
  });

  it("clears an override with DELETE, logging old and new values", async () => {
    running = await startAdmin();
    await putWeights(running.url, "web", { weights: { stable: 50, canary: 50 } });
    const answer = await httpRequest(`${running.url}/api/v1/routes/web/weights`, {
      method: "DELETE",
      headers: JSON_HEADERS,
    });
    expect(answer.status).toBe(200);
    expect(parsed(answer.body)).toEqual({
      route: "web",
      before: { stable: 50, canary: 50 },
      after: { stable: 95, canary: 5 },
      splitSource: "file",
    });
    expect(running.logs.find((log) => log.msg === "admin split override cleared")).toMatchObject({
      level: 30,
      actor: "anonymous",
      before: { stable: 50, canary: 50 },
      after: { stable: 95, canary: 5 },
    });
    const missing = await httpRequest(`${running.url}/api/v1/routes/nope/weights`, {
      method: "DELETE",
      headers: JSON_HEADERS,
    });
    expect(missing.status).toBe(404);
  });
});

describe("reload", () => {
  it("answers 200 with the outcome when applied, logging the old and new hash", async () => {
    running = await startAdmin();
    const before = running.control.configHash;
    const answer = await httpRequest(`${running.url}/api/v1/reload`, {
      method: "POST",
      headers: JSON_HEADERS,
    });
    expect(answer.status).toBe(200);
    expect(parsed(answer.body)).toEqual(running.control.nextReload);
    expect(
      running.logs.find((log) => log.msg === "config reloaded through the admin API"),
    ).toMatchObject({
      level: 30,
      actor: "anonymous",
      before,
      after: "newhash0001",
    });
  });

  it("answers 400 SWITCHYARD_CONFIG_INVALID with every problem when refused", async () => {
    const control = new FakeControl();
    const problems = ["config/switchyard.yaml:12:5: routes.0.split: sums to 90, not 100"];
    control.nextReload = {
      applied: false,
      changed: true,
      hash: "refused",
      error: { message: "routes.0.split: sums to 90, not 100", line: 12, column: 5, problems },
      restartRequired: [],
    };
    running = await startAdmin({}, control);
    const answer = await httpRequest(`${running.url}/api/v1/reload`, {
      method: "POST",
      headers: JSON_HEADERS,
    });
    expect(answer.status).toBe(400);
    expect(errorOf(answer.body)).toEqual({
      code: "SWITCHYARD_CONFIG_INVALID",
      message: "routes.0.split: sums to 90, not 100",
      line: 12,
      column: 5,
      problems,
      runningHash: control.configHash,
    });
    expect(running.logs.find((log) => log.msg.includes("refused"))).toMatchObject({ level: 40 });
  });
});

describe("unknown paths, wrong methods, failures", () => {
  it("answers 404 in JSON for an unknown path", async () => {
    running = await startAdmin();
    for (const path of [
      "/nope",
      "/api/v1/status/",
      "/api/v1/routes/web",
      "/api/v1/routes//weights",
    ]) {
      const answer = await get(`${running.url}${path}`);
      expect(answer.status, path).toBe(404);
      expect(answer.headers["content-type"]).toBe(JSON_TYPE);
      expect(errorOf(answer.body).code).toBe("SWITCHYARD_NOT_FOUND");
    }
  });

  it("answers 405 with Allow for a wrong method on a known path", async () => {
    running = await startAdmin();
    const cases: [string, string, string][] = [
      ["POST", "/api/v1/status", "GET, HEAD"],
      ["GET", "/api/v1/reload", "POST"],
      ["PATCH", "/api/v1/routes/web/weights", "PUT, DELETE"],
      ["DELETE", "/healthz", "GET, HEAD"],
    ];
    for (const [method, path, allow] of cases) {
      const answer = await httpRequest(`${running.url}${path}`, { method: method as "GET" });
      expect(answer.status, `${method} ${path}`).toBe(405);
      expect(answer.headers.allow).toBe(allow);
      expect(errorOf(answer.body).code).toBe("SWITCHYARD_METHOD_NOT_ALLOWED");
    }
  });

  it("answers 500 in JSON when the control plane throws, and keeps serving", async () => {
    const control = new FakeControl();
    control.effectiveConfig = () => {
      throw new Error("boom");
    };
    running = await startAdmin({}, control);
    const answer = await get(`${running.url}/api/v1/config`);
    expect(answer.status).toBe(500);
    expect(errorOf(answer.body).code).toBe("SWITCHYARD_INTERNAL");
    expect(running.logs.find((log) => log.msg === "admin API call failed")).toBeDefined();
    expect((await get(`${running.url}/healthz`)).status).toBe(200);
  });

  it("answers malformed HTTP with a JSON 400 and oversized headers with 431, closing", async () => {
    running = await startAdmin();
    const garbage = await sendRaw(running.port, "GET /healthz HTTP/1.1\r\nHost admin\r\n\r\n");
    expect(garbage.statusCode).toBe(400);
    expect(garbage.headers["content-type"]).toBe("application/json; charset=utf-8");
    expect(garbage.raw).toContain('"code":"SWITCHYARD_BAD_REQUEST"');
    expect(garbage.closed).toBe(true);
    const huge = await sendRaw(
      running.port,
      `GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ${"a".repeat(20_000)}\r\n\r\n`,
    );
    expect(huge.statusCode).toBe(431);
    expect(huge.raw).toContain('"code":"SWITCHYARD_HEADERS_TOO_LARGE"');
  });
});
