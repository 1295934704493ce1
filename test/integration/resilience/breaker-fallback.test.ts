/**
 * SPEC 3.5 and 4: an upstream that keeps answering 500 opens its breaker; while it is open,
 * requests meant for it go to the fallback (or, with `fallback: false`, get a 503 with
 * Retry-After); after `resetTimeout` one trial request goes through and closes the breaker
 * when it succeeds.
 */
import { afterEach, describe, expect, it } from "vitest";
import { cleanupAfterEach } from "../../support/cleanups.ts";
import { startEchoBackend } from "../../support/echo-backend.ts";
import { closeDefaultAgent, httpRequest, type HttpResult } from "../../support/http-client.ts";
import { waitFor } from "../../support/ports.ts";
import { createRecordingRecorder } from "../../support/recording-recorder.ts";
import { startTestSwitchyard } from "../../support/switchyard.ts";

const { track } = cleanupAfterEach();
afterEach(async () => {
  await closeDefaultAgent();
});

function bodyOf(result: HttpResult): { name?: string; error?: { code?: string } } {
  return JSON.parse(result.body) as { name?: string; error?: { code?: string } };
}

const VOLUME_THRESHOLD = 5;
const TO_CANARY = { "x-canary": "always" };
const canaryRule = { match: { headers: { "x-canary": "always" } }, to: "canary" };

describe("the canary's breaker", () => {
  it("opens on 500s; the fallback serves, or 503 without it; a good trial closes it", async () => {
    const stable = track(await startEchoBackend({ name: "stable" }));
    const canary = track(await startEchoBackend({ name: "canary", status: 500 }));
    const recorder = createRecordingRecorder();
    const proxy = track(
      await startTestSwitchyard(
        {
          upstreams: {
            stable: { endpoints: [stable.url] },
            canary: {
              endpoints: [canary.url],
              breaker: {
                volumeThreshold: VOLUME_THRESHOLD,
                window: "10s",
                errorThresholdPercentage: 50,
                resetTimeout: "1s",
              },
            },
          },
          routes: [
            {
              name: "strict",
              match: { pathPrefix: "/strict" },
              split: { stable: 90, canary: 10 },
              rules: [canaryRule],
              fallback: false,
              retries: { attempts: 0 },
            },
            {
              name: "web",
              split: { stable: 90, canary: 10 },
              rules: [canaryRule],
              // The canary's 500s reach the client as they are, until the breaker opens.
              retries: { attempts: 0 },
            },
          ],
        },
        { recorder },
      ),
    );
    const breaker = proxy.runtime.current.upstreams.get("canary")?.breaker;
    if (breaker === undefined) throw new Error("no canary upstream");

    for (let i = 0; i < VOLUME_THRESHOLD; i++) {
      const failed = await httpRequest(`${proxy.url}/`, { headers: TO_CANARY });
      expect(failed.status).toBe(500);
      expect(bodyOf(failed).name).toBe("canary");
    }
    await waitFor(() => breaker.state === "open", { description: "the canary's breaker open" });
    expect(canary.received).toHaveLength(VOLUME_THRESHOLD);
    expect(recorder.fallbacks).toEqual([]);

    // Open: the rule still picks the canary, the fallback takes the request.
    const served = await httpRequest(`${proxy.url}/`, { headers: TO_CANARY });
    expect(served.status).toBe(200);
    expect(bodyOf(served).name).toBe("stable");
    expect(recorder.fallbacks).toEqual([{ route: "web", from: "canary", to: "stable" }]);

    // Without fallback, the answer is ours, and fast.
    const refused = await httpRequest(`${proxy.url}/strict`, { headers: TO_CANARY });
    expect(refused.status).toBe(503);
    expect(refused.headers["retry-after"]).toBe("1");
    expect(bodyOf(refused).error?.code).toBe("SWITCHYARD_UPSTREAM_UNAVAILABLE");
    expect(canary.received).toHaveLength(VOLUME_THRESHOLD);

    // The canary is fixed; after resetTimeout one trial request reaches it and closes the breaker.
    canary.setStatus(200);
    await waitFor(() => breaker.state === "halfOpen", {
      timeoutMs: 3000,
      description: "the canary's breaker half-open",
    });
    const trial = await httpRequest(`${proxy.url}/strict`, { headers: TO_CANARY });
    expect(trial.status).toBe(200);
    expect(bodyOf(trial).name).toBe("canary");
    await waitFor(() => breaker.state === "closed", { description: "the canary's breaker closed" });
    expect(canary.received).toHaveLength(VOLUME_THRESHOLD + 1);
  });

  it("reopens when the half-open trial fails, and keeps the canary out meanwhile", async () => {
    const stable = track(await startEchoBackend({ name: "stable" }));
    const canary = track(await startEchoBackend({ name: "canary", status: 500 }));
    const proxy = track(
      await startTestSwitchyard({
        upstreams: {
          stable: { endpoints: [stable.url] },
          canary: {
            endpoints: [canary.url],
            breaker: { volumeThreshold: VOLUME_THRESHOLD, resetTimeout: "1s" },
          },
        },
        routes: [
          {
            name: "web",
            split: { stable: 90, canary: 10 },
            rules: [canaryRule],
            retries: { attempts: 0 },
          },
        ],
      }),
    );
    const breaker = proxy.runtime.current.upstreams.get("canary")?.breaker;
    if (breaker === undefined) throw new Error("no canary upstream");
    for (let i = 0; i < VOLUME_THRESHOLD; i++) {
      await httpRequest(`${proxy.url}/`, { headers: TO_CANARY });
    }
    await waitFor(() => breaker.state === "open", { description: "the canary's breaker open" });
    await waitFor(() => breaker.state === "halfOpen", {
      timeoutMs: 3000,
      description: "the canary's breaker half-open",
    });
    const trial = await httpRequest(`${proxy.url}/`, { headers: TO_CANARY });
    expect(trial.status).toBe(500);
    await waitFor(() => breaker.state === "open", { description: "the breaker open again" });
    const afterTrial = await httpRequest(`${proxy.url}/`, { headers: TO_CANARY });
    expect(afterTrial.status).toBe(200);
    expect(bodyOf(afterTrial).name).toBe("stable");
    expect(canary.received).toHaveLength(VOLUME_THRESHOLD + 1);
  });
});
