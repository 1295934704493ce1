/**
 * SPEC 5 against a real switchyard (test/support/rollout-switchyard.ts) with paced load
 * through the proxy: a healthy canary is promoted step by step on 1 s intervals; a canary
 * failing 40% of its requests is rolled back by the fast path before its first interval ends
 * (GET retries hide most failures from clients, but decisions count attempts); with no
 * traffic the first step is held without a rollback. The canary's breaker and outlier
 * detection are set so they never take it out: a canary out of the split gets no attempts,
 * and the rollout would see nothing to judge.
 */
import { describe, expect, it } from "vitest";
import type { LoggedEvent } from "../../../src/events/event-log.ts";
import { getStatus, routeSplit } from "../../support/admin-calls.ts";
import { cleanupAfterEach } from "../../support/cleanups.ts";
import { demoPairForFile } from "../../support/demo-pair.ts";
import { startPacedLoad } from "../../support/paced-load.ts";
import { waitFor } from "../../support/ports.ts";
import {
  CANARY_ALWAYS_TRIED,
  canaryRolloutConfig,
  startRolloutSwitchyard,
  type RolloutSwitchyard,
} from "../../support/rollout-switchyard.ts";

const RATE_PER_SECOND = 600;

interface DecisionEvent extends LoggedEvent {
  verdict: string;
  reason: string;
  isFast: boolean;
  phase: string;
  stepPercent: number;
  metrics: { requests: number; failures: number; errorRate: number; [key: string]: number };
}

const demo = demoPairForFile();
const { defer, track } = cleanupAfterEach();

async function start(rollout: Record<string, unknown> = {}): Promise<RolloutSwitchyard> {
  const sy = await startRolloutSwitchyard(
    canaryRolloutConfig({
      stableUrl: demo.stable.url,
      canaryUrl: demo.canary.url,
      rollout,
      canaryUpstream: CANARY_ALWAYS_TRIED,
    }),
  );
  defer(() => sy.dispose());
  return sy;
}

async function rolloutOf(sy: RolloutSwitchyard) {
  const status = await getStatus(sy.adminUrl);
  return status.routes.find((r) => r.name === "web")?.rollout ?? null;
}

async function decisionsOf(sy: RolloutSwitchyard): Promise<DecisionEvent[]> {
  return (await sy.decisions()) as DecisionEvent[];
}

/** Polls status until the rollout reaches `phase`. */
async function untilPhase(sy: RolloutSwitchyard, phase: string, timeoutMs: number): Promise<void> {
  await waitFor(async () => (await rolloutOf(sy))?.phase === phase, {
    timeoutMs,
    intervalMs: 20,
    description: `rollout phase ${phase}`,
  });
}

describe("rollouts under load", () => {
  it("promotes a healthy canary through 10%, 50% and 100%", async () => {
    const sy = await start();
    expect(await routeSplit(sy.adminUrl, "web")).toEqual({
      split: { stable: 90, canary: 10 },
      splitSource: "rollout",
    });
    const load = track(startPacedLoad(`${sy.url}/`, { ratePerSecond: RATE_PER_SECOND }));
    const seen = new Set<number>();
    await waitFor(
      async () => {
        const rollout = await rolloutOf(sy);
        if (rollout?.phase === "progressing") seen.add(rollout.stepPercent);
        return rollout?.phase === "promoted";
      },
      { timeoutMs: 20_000, intervalMs: 20, description: "the rollout promoted" },
    );
    const tally = await load.stop();
    expect(tally.byStatus).toEqual({ 200: tally.sent });
    expect([...seen]).toEqual(expect.arrayContaining([10, 50]));

    expect(await routeSplit(sy.adminUrl, "web")).toEqual({
      split: { stable: 0, canary: 100 },
      splitSource: "rollout",
    });
    const rollout = await rolloutOf(sy);
    expect(rollout).toMatchObject({ phase: "promoted", stepPercent: 100, failures: 0 });
    expect(rollout?.lastDecision).toMatchObject({ verdict: "promote", isFast: false });

    const decisions = (await decisionsOf(sy)).filter((d) => d.verdict !== "inconclusive");
    expect(decisions.map((d) => [d.verdict, d.stepPercent])).toEqual([
      ["advance", 50],
      ["advance", 100],
      ["promote", 100],
    ]);
    for (const decision of decisions) {
      expect(decision.phase).toBe(decision.verdict === "promote" ? "promoted" : "progressing");
      expect(decision.metrics.requests).toBeGreaterThanOrEqual(20);
      expect(decision.metrics.failures).toBe(0);
      expect(decision.reason).toMatch(/every check passed over 1s \(\d+ requests\)/);
    }
  });

  it("rolls a canary failing 40% back by the fast path, before its first interval ends", async () => {
    // A longer interval than the tick: between its ends only the fast path can roll back. The
    // one decision below, fast, shows it was that path (no interval end had come).
    const sy = await start({ interval: "30s" });
    demo.canary.setErrorRate(0.4);
    const load = track(startPacedLoad(`${sy.url}/`, { ratePerSecond: RATE_PER_SECOND }));
    await untilPhase(sy, "rolledBack", 20_000);
    const tally = await load.stop();

    expect(await routeSplit(sy.adminUrl, "web")).toEqual({
      split: { stable: 100, canary: 0 },
      splitSource: "rollout",
    });
    const decisions = await decisionsOf(sy);
    expect(decisions).toHaveLength(1);
    const [decision] = decisions;
    expect(decision).toMatchObject({ verdict: "rollback", isFast: true, phase: "rolledBack" });
    expect(decision?.reason).toMatch(
      /^fast rollback: errorRate 0\.\d+ > max 0\.05 .*95% lower bound/,
    );
    expect(decision?.metrics.requests).toBeGreaterThanOrEqual(20);
    expect(decision?.metrics.errorRate).toBeGreaterThan(0.2);
    // Clients saw fewer failures than the canary served: retried GETs found stable.
    expect(tally.byStatus[500] ?? 0).toBeLessThan(decision?.metrics.failures ?? 0);
  });

  it("with 1 s intervals, 40% failures roll back through failureLimit", async () => {
    const sy = await start();
    demo.canary.setErrorRate(0.4);
    const load = track(startPacedLoad(`${sy.url}/`, { ratePerSecond: RATE_PER_SECOND }));
    await untilPhase(sy, "rolledBack", 20_000);
    await load.stop();
    const verdicts = (await decisionsOf(sy))
      .map((d) => d.verdict)
      .filter((v) => v !== "inconclusive");
    expect(verdicts.at(-1)).toBe("rollback");
    expect(verdicts).not.toContain("advance");
    expect((await routeSplit(sy.adminUrl, "web")).split).toEqual({ stable: 100, canary: 0 });
  });

  it("holds the first step without traffic: inconclusive decisions, no rollback", async () => {
    const sy = await start();
    // Three interval ends; a tick that finds the interval a fraction of a millisecond short
    // leaves its decision to the next one, so allow for a few more seconds.
    const decisions = await waitFor(
      async () => {
        const found = await decisionsOf(sy);
        return found.length >= 3 ? found : undefined;
      },
      { timeoutMs: 15_000, intervalMs: 100, description: "three decisions" },
    );
    for (const decision of decisions) {
      expect(decision).toMatchObject({
        verdict: "inconclusive",
        phase: "progressing",
        stepPercent: 10,
        metrics: { requests: 0 },
      });
    }
    expect(await rolloutOf(sy)).toMatchObject({
      phase: "progressing",
      stepIndex: 0,
      stepPercent: 10,
      failures: 0,
    });
    expect((await routeSplit(sy.adminUrl, "web")).split).toEqual({ stable: 90, canary: 10 });
  });
});
