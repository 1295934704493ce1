/**
 * `PUT /api/v1/upstreams/{upstream}/endpoints/{index}/state` over real HTTP against a
 * FakeControl (SPEC 7 and 12): the endpoint's view in the answer, the change in status and in
 * the log with the token's name, and each refusal with its status and code, before the control
 * plane is asked when it is the admin server's to refuse.
 */
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { adminCall, errorOf } from "../../support/admin-calls.ts";
import { closeDefaultAgent } from "../../support/http-client.ts";
import { READ_TOKEN, startAdmin, TOKENS, WRITE_TOKEN, type RunningAdmin } from "./admin-fixture.ts";

let running: RunningAdmin | undefined;

afterEach(async () => {
  await running?.close();
  running = undefined;
});

afterAll(async () => {
  await closeDefaultAgent();
});

const STATE_PATH = "/api/v1/upstreams/stable/endpoints/1/state";
const CHOICES = '"ready", "drain", "maintenance"';

describe("PUT /api/v1/upstreams/{upstream}/endpoints/{index}/state", () => {
  it("sets the state, answers the endpoint's view, and logs the change with the token's name", async () => {
    running = await startAdmin({ tokens: TOKENS });
    const answer = await adminCall(running.url, "PUT", STATE_PATH, {
      token: WRITE_TOKEN,
      json: { state: "maintenance" },
    });
    expect(answer.status).toBe(200);
    expect(answer.json).toEqual({
      upstream: "stable",
      index: 1,
      before: "ready",
      url: "http://10.0.0.12:8080",
      healthy: false,
      ejected: true,
      state: "maintenance",
    });
    const status = await adminCall(running.url, "GET", "/api/v1/status", { token: READ_TOKEN });
    const upstreams = (status.json as { upstreams: { endpoints: { state: string }[] }[] })
      .upstreams;
    expect(upstreams[0]?.endpoints.map((endpoint) => endpoint.state)).toEqual([
      "ready",
      "maintenance",
    ]);
    expect(
      running.logs.filter((l) => l.msg === "endpoint state set through the admin API"),
    ).toEqual([
      expect.objectContaining({
        actor: "ops",
        upstream: "stable",
        index: 1,
        url: "http://10.0.0.12:8080",
        before: "ready",
        after: "maintenance",
      }),
    ]);
  });

  it("passes the control plane's 404 through for an unknown upstream or index", async () => {
    running = await startAdmin();
    const [upstream, index] = await Promise.all([
      adminCall(running.url, "PUT", "/api/v1/upstreams/blue/endpoints/0/state", {
        json: { state: "drain" },
      }),
      adminCall(running.url, "PUT", "/api/v1/upstreams/canary/endpoints/3/state", {
        json: { state: "drain" },
      }),
    ]);
    expect(upstream.status).toBe(404);
    expect(errorOf(upstream)).toEqual({
      code: "SWITCHYARD_UNKNOWN_UPSTREAM",
      message: 'no upstream named "blue"',
    });
    expect(index.status).toBe(404);
    expect(errorOf(index)).toEqual({
      code: "SWITCHYARD_UNKNOWN_ENDPOINT",
      message:
        'upstream "canary" has no endpoint 3; its one endpoint is 0 (in the order of its endpoints list)',
    });
  });

  it("refuses an index that is not a number with 404, asking nothing", async () => {
    running = await startAdmin();
    const answer = await adminCall(
      running.url,
      "PUT",
      "/api/v1/upstreams/stable/endpoints/first/state",
      {
        json: { state: "drain" },
      },
    );
    expect(answer.status).toBe(404);
    expect(errorOf(answer)).toEqual({
      code: "SWITCHYARD_NOT_FOUND",
      message:
        'no endpoint "first" in upstream "stable": an endpoint is named by its index in the upstream\'s endpoints list (0, 1, ...)',
    });
    expect(running.control.calls).toEqual([]);
  });

  it("answers 400 naming the field's problem, asking nothing", async () => {
    running = await startAdmin();
    const answer = await adminCall(running.url, "PUT", STATE_PATH, {
      json: { state: "down", weight: 0 },
    });
    expect(answer.status).toBe(400);
    expect(errorOf(answer)).toEqual({
      code: "SWITCHYARD_INVALID_BODY",
      message: `The request body is invalid. weight is not a known field (the body takes only state); state must be one of ${CHOICES}.`,
      fields: {
        weight: "is not a known field (the body takes only state)",
        state: `must be one of ${CHOICES}`,
      },
    });
    expect(running.control.calls).toEqual([]);
  });

  it("is a write: 401 without a token, 403 for a read token, 415 when not declared JSON", async () => {
    running = await startAdmin({ tokens: TOKENS });
    const body = JSON.stringify({ state: "drain" });
    const [anonymous, reader, notJson] = await Promise.all([
      adminCall(running.url, "PUT", STATE_PATH, { json: { state: "drain" } }),
      adminCall(running.url, "PUT", STATE_PATH, { token: READ_TOKEN, json: { state: "drain" } }),
      adminCall(running.url, "PUT", STATE_PATH, {
        token: WRITE_TOKEN,
        rawBody: body,
        headers: { "content-type": "text/plain" },
      }),
    ]);
    expect([anonymous.status, errorOf(anonymous).code]).toEqual([401, "SWITCHYARD_UNAUTHORIZED"]);
    expect([reader.status, errorOf(reader).code]).toEqual([403, "SWITCHYARD_FORBIDDEN"]);
    expect([notJson.status, errorOf(notJson).code]).toEqual([
      415,
      "SWITCHYARD_UNSUPPORTED_MEDIA_TYPE",
    ]);
    expect(running.control.calls).toEqual([]);
  });

  it("refuses a call from another site's page with 403", async () => {
    running = await startAdmin();
    const answer = await adminCall(running.url, "PUT", STATE_PATH, {
      json: { state: "drain" },
      headers: { origin: "https://evil.example" },
    });
    expect([answer.status, errorOf(answer).code]).toEqual([403, "SWITCHYARD_ADMIN_ORIGIN_REFUSED"]);
    expect(running.control.calls).toEqual([]);
  });

  it("answers 405 with Allow for another method", async () => {
    running = await startAdmin();
    const answer = await adminCall(running.url, "POST", STATE_PATH, { json: { state: "drain" } });
    expect(answer.status).toBe(405);
    expect(answer.headers.allow).toBe("PUT");
  });
});
