/**
 * At the end of a 1 s interval the decision must see about a second of the
 * target's traffic. WindowStats sums ceil(window / 1 s) whole-second slots, the current partial
 * one included, and the controller's ticker keeps a fixed phase within the second (it ticks
 * every 1000 ms from `initialize`): a rollout started 50 ms into a second is judged on 50 ms
 * of traffic at every interval end, so with steady traffic well above minRequests per second
 * it stays inconclusive forever.
 */
import { expect, it } from "vitest";
import { EventLog } from "../../../src/events/event-log.ts";
import { createSilentLogger } from "../../../src/log/logger.ts";
import { RolloutController } from "../../../src/rollout/rollout-controller.ts";
import { WindowStats } from "../../../src/rollout/window-stats.ts";
import { ManualClock } from "../../support/manual-clock.ts";
import {
  RecordingMetrics,
  RecordingNotifier,
  RecordingPersistence,
  RecordingSplits,
  rolloutConfig,
} from "../../support/rollout-fakes.ts";

it("a 1 s interval is judged on about a second of traffic whatever the ticker's phase", async () => {
  // 50 ms into a second.
  const clock = new ManualClock(10_050);
  const stats = new WindowStats({ clock, longestWindowMs: 60_000 });
  const events = new EventLog(clock);
  const controller = new RolloutController({
    splits: new RecordingSplits(clock),
    stats,
    notifier: new RecordingNotifier(),
    metrics: new RecordingMetrics(),
    persistence: new RecordingPersistence(),
    events,
    logger: createSilentLogger(),
    clock,
  });
  await controller.initialize(
    rolloutConfig({
      steps: [10, 50, 100],
      interval: "1s",
      minRequests: 20,
      approvalBefore: [],
      checks: [{ metric: "errorRate", max: 0.05, action: "rollback" }],
    }),
    new Map(),
  );
  // Steady healthy traffic: every 10 ms one canary and nine stable requests (100/s to canary).
  for (let i = 0; i < 300; i++) {
    await clock.advanceAsync(10);
    stats.record("web", "canary", 5, false, clock.now());
    for (let j = 0; j < 9; j++) stats.record("web", "stable", 5, false, clock.now());
  }
  const decisions = events.since(undefined).filter((e) => e.type === "rollout.decision");
  expect(decisions.length).toBeGreaterThanOrEqual(2);
  const first = decisions[0] as unknown as { verdict: string; metrics: { requests: number } };
  // About 100 canary requests in a one-second interval; 5 is what the 50 ms slot holds.
  expect(first.metrics.requests).toBeGreaterThanOrEqual(80);
  expect(first.verdict).toBe("advance");
});
