/**
 * SPEC 5: webhooks never block traffic. A real switchyard runs a rollout whose webhook
 * receiver holds every delivery open: the notifier's sockets to it fill up and the rest of the
 * deliveries wait in its queue. While not one delivery has been answered, every proxied request
 * is answered; only then is the receiver released, and every delivery arrives.
 *
 * Counted, not timed: a data path that waited on the webhook queue would leave the requests
 * unanswered until the release, which never comes while they are outstanding.
 */
import { afterEach, describe, expect, it } from "vitest";
import type { ControlResult, RolloutStatus } from "../../../src/control/control-api.ts";
import { captureLogs, type CapturedLogs } from "../../support/captured-logs.ts";
import { cleanupAfterEach } from "../../support/cleanups.ts";
import { within } from "../../support/deadline.ts";
import { startEchoBackend } from "../../support/echo-backend.ts";
import { startHoldingReceiver, type HoldingReceiver } from "../../support/holding-receiver.ts";
import { closeDefaultAgent, hammer } from "../../support/http-client.ts";
import { waitFor } from "../../support/ports.ts";
import { canaryRolloutConfig } from "../../support/rollout-switchyard.ts";
import { startTestSwitchyard, type TestSwitchyard } from "../../support/switchyard.ts";

/** Deliveries the notifier keeps in flight to one receiver (its default). */
const IN_FLIGHT_PER_RECEIVER = 4;
/** abort + start pairs after the rollout's own start: two deliveries each. */
const ACTION_CYCLES = 3;
const DELIVERIES = 1 + 2 * ACTION_CYCLES;
const PROXIED_REQUESTS = 300;

const { track } = cleanupAfterEach();

afterEach(async () => {
  await closeDefaultAgent();
});

/** A route rolling `canary` out that never evaluates during the test: only actions move it. */
function rolloutConfig(stableUrl: string, canaryUrl: string, hookUrl: string) {
  return canaryRolloutConfig({
    stableUrl,
    canaryUrl,
    rollout: { interval: "1h", minRequests: 1_000_000, webhooks: [{ url: hookUrl }] },
  });
}

function expectAccepted(result: ControlResult<RolloutStatus>): void {
  expect(result.ok, JSON.stringify(result)).toBe(true);
}

function deliveredEvents(logs: CapturedLogs): string[] {
  return logs.withMessage("webhook delivered").map((entry) => String(entry.event));
}

async function startStalledRollout(): Promise<{
  proxy: TestSwitchyard;
  receiver: HoldingReceiver;
  logs: CapturedLogs;
}> {
  const stable = track(await startEchoBackend({ name: "stable" }));
  const canary = track(await startEchoBackend({ name: "canary" }));
  const receiver = track(await startHoldingReceiver());
  const logs = captureLogs("debug");
  // The rollout starts with the config: its "advanced" is the first delivery.
  const proxy = track(
    await startTestSwitchyard(rolloutConfig(stable.url, canary.url, receiver.url), {
      logger: logs.logger,
    }),
  );
  for (let cycle = 0; cycle < ACTION_CYCLES; cycle++) {
    expectAccepted(await proxy.control.rolloutAction("web", "abort", "test"));
    expectAccepted(await proxy.control.rolloutAction("web", "start", "test"));
  }
  return { proxy, receiver, logs };
}

describe("webhooks and the data path", () => {
  it("answers every proxied request while the receiver holds every delivery", async () => {
    const { proxy, receiver, logs } = await startStalledRollout();
    // The stall is real: every socket the notifier may open to the receiver carries a delivery
    // nobody answers, and the other deliveries queue behind them.
    await waitFor(() => receiver.heldCount === IN_FLIGHT_PER_RECEIVER, {
      timeoutMs: 10_000,
      description: `${String(IN_FLIGHT_PER_RECEIVER)} deliveries held by the receiver`,
    });

    const tally = await within(
      hammer(`${proxy.url}/`, { total: PROXIED_REQUESTS, concurrency: 4 }),
      15_000,
      `${String(PROXIED_REQUESTS)} proxied requests while deliveries are held`,
    );

    expect(tally.failures).toBe(0);
    expect(tally.byStatus).toEqual({ 200: PROXIED_REQUESTS });
    // ...all of them while no delivery had been answered.
    expect(receiver.answeredCount).toBe(0);
    expect(deliveredEvents(logs)).toEqual([]);

    receiver.release();
    await waitFor(() => deliveredEvents(logs).length === DELIVERIES, {
      timeoutMs: 10_000,
      description: `${String(DELIVERIES)} deliveries`,
    });
    const byEvent = Object.groupBy(deliveredEvents(logs), (event) => event);
    expect(byEvent.advanced).toHaveLength(1 + ACTION_CYCLES);
    expect(byEvent.rolledBack).toHaveLength(ACTION_CYCLES);
    expect(receiver.arrivals.length).toBeGreaterThanOrEqual(DELIVERIES);
    expect(logs.withMessage("webhook delivery failed")).toEqual([]);
  });
});
