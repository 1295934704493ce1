/**
 * An interval end is decided at the first tick at or after it, not one tick
 * later. Real timers run on the event loop's millisecond clock, which is read before the
 * callback that scheduled them finished: a 1000 ms timer can fire when `performance.now()`
 * has moved 999.6 ms since the previous tick stamped `intervalStartedMs`. The controller then
 * takes `now - intervalStartedMs >= interval` as false, runs only the fast check, and decides
 * a tick later: a 1 s interval is judged every 2 s, a 5 s one after 6 s.
 */
import { expect, it } from "vitest";
import type { Clock, TimerHandle } from "../../../src/time/clock.ts";
import { EventLog } from "../../../src/events/event-log.ts";
import { createSilentLogger } from "../../../src/log/logger.ts";
import { RolloutController } from "../../../src/rollout/rollout-controller.ts";
import { ManualClock } from "../../support/manual-clock.ts";
import {
  RecordingMetrics,
  RecordingNotifier,
  RecordingPersistence,
  RecordingSplits,
  ScriptedStats,
  rolloutConfig,
} from "../../support/rollout-fakes.ts";

/**
 * Timers as the event loop runs them: due `delay` after the loop's whole millisecond, and each
 * callback running a little after that millisecond (`lagsMs`, in turn), which `now()` shows.
 */
function loopTimers(clock: ManualClock, lagsMs: readonly number[]): Clock {
  let lagMs = 0;
  let fired = 0;
  return {
    now: () => clock.now() + lagMs,
    wallNow: () => clock.wallNow(),
    setTimeout: (callback: () => void, delayMs: number): TimerHandle =>
      clock.setTimeout(() => {
        lagMs = lagsMs[fired++ % lagsMs.length] ?? 0;
        callback();
      }, delayMs),
  };
}

it("a 1 s interval gets a decision at every tick", async () => {
  const manual = new ManualClock(10_000);
  const events = new EventLog(manual);
  const controller = new RolloutController({
    splits: new RecordingSplits(manual),
    stats: new ScriptedStats(),
    notifier: new RecordingNotifier(),
    metrics: new RecordingMetrics(),
    persistence: new RecordingPersistence(),
    events,
    logger: createSilentLogger(),
    clock: loopTimers(manual, [0.7, 0.2]),
  });
  await controller.initialize(
    rolloutConfig({ steps: [10, 50, 100], interval: "1s", minRequests: 20, approvalBefore: [] }),
    new Map(),
  );
  await manual.advanceAsync(6000);
  const decisions = events.since(undefined).filter((e) => e.type === "rollout.decision");
  // Six ticks, six interval ends (no traffic: each one inconclusive).
  expect(decisions).toHaveLength(6);
});
