/**
 * A rollout waiting for approval still carries target traffic, so a decisive
 * failure must roll it back fast (docs/rollouts.md "Fast rollback"; decideFastRollback accepts
 * waitingApproval). The controller's tick skips every phase but progressing.
 */
import { expect, it } from "vitest";
import { TICK_MS } from "../../../src/rollout/rollout-controller.ts";
import { controllerHarness, rolloutConfig, windowOf } from "../../support/rollout-fakes.ts";

it("a rollout waiting for approval is rolled back fast on a decisive failure", async () => {
  const h = controllerHarness();
  await h.controller.initialize(
    rolloutConfig({
      steps: [10, 50, 100],
      interval: "5s",
      minRequests: 20,
      approvalBefore: [50],
      checks: [{ metric: "errorRate", max: 0.05, action: "rollback" }],
    }),
    new Map(),
  );
  h.stats.set("stable", windowOf(900));
  h.stats.set("canary", windowOf(100));
  await h.clock.advanceAsync(5000);
  expect(h.controller.status("web")?.phase).toBe("waitingApproval");

  // 40% of the canary's 200 requests fail: the 95% lower bound (0.335) is far past 0.05.
  h.stats.set("canary", windowOf(200, 80));
  await h.clock.advanceAsync(2 * TICK_MS);
  expect(h.controller.status("web")?.phase).toBe("rolledBack");
  expect(h.splits.last).toEqual({ stable: 100, canary: 0 });
  expect(h.eventsOf("rollout.decision").at(-1)).toMatchObject({
    verdict: "rollback",
    isFast: true,
  });
});
