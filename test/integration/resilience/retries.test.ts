/**
 * SPEC 4, retries: only the configured idempotent methods are tried again (a POST reaches an
 * upstream exactly once, even when it failed and another endpoint was there), a failed GET is
 * retried on the other endpoint, and retries stay within `budgetPercent` of the route's
 * requests.
 */
import { afterEach, describe, expect, it } from "vitest";
import { cleanupAfterEach } from "../../support/cleanups.ts";
import { startEchoBackend } from "../../support/echo-backend.ts";
import { closeDefaultAgent, hammer, httpRequest } from "../../support/http-client.ts";
import { adminCall } from "../../support/admin-calls.ts";
import {
  configText,
  startFileSwitchyard,
  writeConfigInPlace,
} from "../../support/file-switchyard.ts";
import { startResettingBackend, startStallingBackend } from "../../support/raw-backends.ts";
import { refusingOrigin, waitFor } from "../../support/ports.ts";
import { createRecordingRecorder } from "../../support/recording-recorder.ts";
import { singleUpstreamConfig, startTestSwitchyard } from "../../support/switchyard.ts";

const { track } = cleanupAfterEach();
afterEach(async () => {
  await closeDefaultAgent();
});

function errorCodeOf(body: string): string | undefined {
  return (JSON.parse(body) as { error?: { code?: string } }).error?.code;
}

function nameOf(body: string): string | undefined {
  return (JSON.parse(body) as { name?: string }).name;
}

/** Every request may be retried as far as the budget goes: only the method decides. */
const UNLIMITED_BUDGET = { retries: { attempts: 1, budgetPercent: 100 } };

describe("which requests are retried", () => {
  it("sends a POST that met a reset exactly once, and retries the same GET on the other endpoint", async () => {
    const resetting = track(await startResettingBackend());
    const healthy = track(await startEchoBackend({ name: "healthy" }));
    // Round-robin starts at the first endpoint: the first request of each kind meets the reset.
    const proxy = track(
      await startTestSwitchyard(
        singleUpstreamConfig([resetting.url, healthy.url], { route: UNLIMITED_BUDGET }),
      ),
    );

    const post = await httpRequest(`${proxy.url}/orders`, { method: "POST", body: "pay once" });
    expect(post.status).toBe(502);
    expect(errorCodeOf(post.body)).toBe("SWITCHYARD_UPSTREAM_RESET");
    expect(resetting.requestHeads).toHaveLength(1);
    expect(resetting.requestHeads[0]).toMatch(/^POST \/orders /);
    expect(healthy.received).toHaveLength(0);

    // The next request goes to the healthy endpoint; the one after meets the reset again.
    expect((await httpRequest(`${proxy.url}/skip`)).status).toBe(200);
    healthy.clearReceived();

    const getResult = await httpRequest(`${proxy.url}/orders`);
    expect(getResult.status).toBe(200);
    expect(nameOf(getResult.body)).toBe("healthy");
    expect(resetting.requestHeads).toHaveLength(2);
    expect(resetting.requestHeads[1]).toMatch(/^GET \/orders /);
    expect(healthy.received.map((r) => `${r.method} ${r.url}`)).toEqual(["GET /orders"]);
  });

  it("relays a POST's 500 without trying again, and replaces a GET's 500 by the other endpoint's answer", async () => {
    const failing = track(await startEchoBackend({ name: "failing", status: 500 }));
    const healthy = track(await startEchoBackend({ name: "healthy" }));
    const proxy = track(
      await startTestSwitchyard(
        singleUpstreamConfig([failing.url, healthy.url], { route: UNLIMITED_BUDGET }),
      ),
    );

    const post = await httpRequest(`${proxy.url}/orders`, { method: "POST", body: "pay once" });
    expect(post.status).toBe(500);
    expect(nameOf(post.body)).toBe("failing");
    expect(failing.received.map((r) => r.method)).toEqual(["POST"]);
    expect(healthy.received).toHaveLength(0);

    expect((await httpRequest(`${proxy.url}/skip`)).status).toBe(200);
    failing.clearReceived();
    healthy.clearReceived();

    const getResult = await httpRequest(`${proxy.url}/orders`);
    expect(getResult.status).toBe(200);
    expect(nameOf(getResult.body)).toBe("healthy");
    expect(failing.received.map((r) => r.method)).toEqual(["GET"]);
    expect(healthy.received.map((r) => r.method)).toEqual(["GET"]);
  });
});

describe("requests whose connection was refused", () => {
  it("sends a POST, body and all, to the other endpoint exactly once: nothing of it had left", async () => {
    const refusing = await refusingOrigin();
    const healthy = track(await startEchoBackend({ name: "healthy" }));
    // Round-robin starts at the first endpoint: the POST meets the refusal first.
    const proxy = track(await startTestSwitchyard(singleUpstreamConfig([refusing, healthy.url])));

    const post = await httpRequest(`${proxy.url}/orders`, { method: "POST", body: "pay once" });

    expect(post.status).toBe(200);
    const echo = JSON.parse(post.body) as { name: string; method: string; bodyBytes: number };
    expect(echo).toMatchObject({ name: "healthy", method: "POST", bodyBytes: 8 });
    expect(healthy.received.map((r) => `${r.method} ${r.url}`)).toEqual(["POST /orders"]);
  });

  it("still answers 502 when no other endpoint is there to take it", async () => {
    const refusing = await refusingOrigin();
    const proxy = track(await startTestSwitchyard(singleUpstreamConfig([refusing])));

    const post = await httpRequest(`${proxy.url}/orders`, { method: "POST", body: "pay once" });

    expect(post.status).toBe(502);
    expect(errorCodeOf(post.body)).toBe("SWITCHYARD_UPSTREAM_CONNECT_FAILED");
  });
});

describe("a retry after a reload replaced the connection pools", () => {
  it("goes to the live pool of the other endpoint, not the retired one the request began with", async () => {
    const stalling = track(await startStallingBackend());
    const healthy = track(await startEchoBackend({ name: "healthy" }));
    const config = (maxConnections: number): Record<string, unknown> =>
      singleUpstreamConfig([stalling.url, healthy.url], { upstream: { maxConnections } });
    const proxy = track(await startFileSwitchyard(config(8), { isWatchingConfig: false }));
    // Round-robin starts at the first endpoint: the request waits on the stalling one.
    const pending = httpRequest(`${proxy.url}/orders`);
    await waitFor(() => stalling.requestHeads.length === 1, { description: "the request held" });

    // A new pool size means new pools; the old ones are closed once idle.
    await writeConfigInPlace(proxy.configFile, configText(config(9)));
    const reload = await adminCall(proxy.adminUrl, "POST", "/api/v1/reload", {
      headers: { "content-type": "application/json" },
    });
    expect(reload.json).toMatchObject({ changed: true });
    // Its connection dies before any answer: the GET is retried on the other endpoint.
    await stalling.close();

    const answer = await pending;
    expect(answer.status).toBe(200);
    expect(nameOf(answer.body)).toBe("healthy");
  });
});

describe("the retry budget", () => {
  it("retries at most budgetPercent of the route's requests; the rest get the canary's 500", async () => {
    const stable = track(await startEchoBackend({ name: "stable" }));
    const canary = track(await startEchoBackend({ name: "canary", status: 500 }));
    const recorder = createRecordingRecorder();
    const proxy = track(
      await startTestSwitchyard(
        {
          upstreams: {
            stable: { endpoints: [stable.url] },
            // Never opens: the budget alone must bound the retries.
            canary: { endpoints: [canary.url], breaker: { volumeThreshold: 100_000 } },
          },
          routes: [
            {
              name: "web",
              split: { stable: 90, canary: 10 },
              rules: [{ match: { headers: { "x-canary": "always" } }, to: "canary" }],
              retries: { attempts: 1, budgetPercent: 20 },
            },
          ],
        },
        { recorder },
      ),
    );
    const total = 200;
    const result = await hammer(`${proxy.url}/`, {
      total,
      concurrency: 4,
      headers: { "x-canary": "always" },
    });

    const retried = recorder.retries.length;
    expect(result.failures).toBe(0);
    // Each request reached the canary once; only the retried ones went on to stable.
    expect(canary.received).toHaveLength(total);
    expect(stable.received).toHaveLength(retried);
    expect(recorder.retries.every((r) => r.route === "web" && r.upstream === "stable")).toBe(true);
    expect(result.byStatus).toEqual({ 200: retried, 500: total - retried });
    expect(retried).toBeLessThanOrEqual(total * 0.2);
    // The budget is used, not merely never reached.
    expect(retried).toBeGreaterThanOrEqual(total * 0.15);
  });
});
