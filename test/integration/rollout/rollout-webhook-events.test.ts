/**
 * SPEC 5 and 7: a rollout's webhooks reach a real receiver on loopback: advanced for the start
 * and each step, promoted at the end, and rolledBack when a restarted rollout meets a failing
 * canary, each a JSON object with route, phase, stepPercent, split, reason, metrics and at. A
 * webhook subscribed to rolledBack alone gets only that.
 */
import { afterAll, beforeAll, expect, it } from "vitest";
import { adminCall, getStatus } from "../../support/admin-calls.ts";
import { cleanupAfterEach } from "../../support/cleanups.ts";
import { demoPairForFile } from "../../support/demo-pair.ts";
import { startPacedLoad } from "../../support/paced-load.ts";
import { waitFor } from "../../support/ports.ts";
import {
  CANARY_ALWAYS_TRIED,
  canaryRolloutConfig,
  startRolloutSwitchyard,
  startWebhookReceiver,
  type ReceivedHook,
  type WebhookReceiver,
} from "../../support/rollout-switchyard.ts";

const ISO_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

const demo = demoPairForFile();
const { defer, track } = cleanupAfterEach();
let receiver: WebhookReceiver;

beforeAll(async () => {
  receiver = await startWebhookReceiver();
});

afterAll(async () => {
  await receiver.close();
});

/** Received on `path`, "held" left out (inconclusive intervals send it too). */
function hooksOn(path: string): ReceivedHook[] {
  return receiver.received.filter((h) => h.path === path && h.body.event !== "held");
}

async function waitForHook(path: string, event: string): Promise<ReceivedHook> {
  return waitFor(() => hooksOn(path).find((h) => h.body.event === event), {
    timeoutMs: 10_000,
    intervalMs: 20,
    description: `a ${event} webhook on ${path}`,
  });
}

it("sends advanced, promoted and rolledBack with the decision's numbers", async () => {
  const proxy = await startRolloutSwitchyard(
    canaryRolloutConfig({
      stableUrl: demo.stable.url,
      canaryUrl: demo.canary.url,
      canaryUpstream: CANARY_ALWAYS_TRIED,
      rollout: {
        webhooks: [
          { url: `${receiver.origin}/hooks/all` },
          { url: `${receiver.origin}/hooks/rollbacks`, events: ["rolledBack"] },
        ],
      },
    }),
  );
  defer(() => proxy.dispose());
  track(startPacedLoad(`${proxy.url}/`, { ratePerSecond: 600 }));
  await waitForHook("/hooks/all", "promoted");

  const all = hooksOn("/hooks/all");
  expect(all.map((h) => [h.body.event, h.body.stepPercent, h.body.phase])).toEqual([
    ["advanced", 10, "progressing"],
    ["advanced", 50, "progressing"],
    ["advanced", 100, "progressing"],
    ["promoted", 100, "promoted"],
  ]);
  for (const hook of all) {
    expect(hook.contentType).toMatch(/^application\/json/);
    expect(Object.keys(hook.body).sort()).toEqual(
      [
        "at",
        "decisionId",
        "event",
        "metrics",
        "phase",
        "reason",
        "route",
        "split",
        "stepPercent",
      ].sort(),
    );
    expect(hook.body.route).toBe("web");
    expect(hook.body.at).toMatch(ISO_TIME);
  }
  const [started, toHalf, , promoted] = all.map((h) => h.body);
  expect(started).toMatchObject({
    split: { stable: 90, canary: 10 },
    reason: "rollout started by file: step 10%",
    metrics: {},
  });
  expect(toHalf).toMatchObject({
    split: { stable: 50, canary: 50 },
    reason: expect.stringContaining("advancing from 10% to 50%") as unknown,
    metrics: { failures: 0, errorRate: 0, requests: expect.any(Number) as unknown },
  });
  expect((toHalf?.metrics as { requests: number }).requests).toBeGreaterThanOrEqual(20);
  expect(promoted).toMatchObject({
    split: { stable: 0, canary: 100 },
    reason: expect.stringContaining("promoting canary") as unknown,
  });

  // Start again, then let the canary fail: rolledBack reaches both webhooks.
  demo.canary.setErrorRate(0.5);
  const restart = await adminCall(proxy.adminUrl, "POST", "/api/v1/routes/web/rollout/start");
  expect(restart.status).toBe(200);
  const rolledBack = await waitForHook("/hooks/all", "rolledBack");
  expect(rolledBack.body).toMatchObject({
    route: "web",
    phase: "rolledBack",
    // The target's share now: 0 once rolled back.
    stepPercent: 0,
    split: { stable: 100, canary: 0 },
    reason: expect.stringMatching(/errorRate [\d.]+ > max 0\.05/) as unknown,
  });
  const metrics = rolledBack.body.metrics as { requests: number; errorRate: number };
  expect(metrics.requests).toBeGreaterThanOrEqual(20);
  expect(metrics.errorRate).toBeGreaterThan(0.05);
  const status = await getStatus(proxy.adminUrl);
  expect(status.routes[0]?.rollout?.phase).toBe("rolledBack");

  const onlyRollbacks = await waitForHook("/hooks/rollbacks", "rolledBack");
  expect(onlyRollbacks.body).toEqual(rolledBack.body);
  expect(receiver.received.filter((h) => h.path === "/hooks/rollbacks")).toHaveLength(1);
}, 15_000);
