/**
 * SPEC 5, latency checks against real backends: stable answers in 10 ms, the canary in 200 ms.
 * Through the proxy, whose own time adds to both, the canary's p95 stays several times the
 * baseline's even when a busy machine adds tens of milliseconds to every request (with a
 * 50 ms canary such a machine pulled the ratio under 2). A `latencyP95Ratio` check with max 2 holds
 * the first step (action hold) until the canary is fast again, or rolls the canary back
 * (action rollback).
 */
import { describe, expect, it } from "vitest";
import type { LoggedEvent } from "../../../src/events/event-log.ts";
import { adminCall, getStatus, routeSplit } from "../../support/admin-calls.ts";
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
const STABLE_LATENCY_MS = 10;
const CANARY_LATENCY_MS = 200;
/** Answers through the paused rollout before it resumes: about a second of the paced load. */
const WARM_UP_REQUESTS = RATE_PER_SECOND;

interface DecisionEvent extends LoggedEvent {
  verdict: string;
  reason: string;
  stepPercent: number;
  failures: number;
  metrics: { requests: number; baselineRequests: number; "latencyP95Ratio@3s"?: number };
}

const demo = demoPairForFile({
  stable: { latencyMs: STABLE_LATENCY_MS },
  canary: { latencyMs: CANARY_LATENCY_MS },
});
const { defer, track } = cleanupAfterEach();

async function startWithRatioCheck(action: "hold" | "rollback"): Promise<RolloutSwitchyard> {
  const config = canaryRolloutConfig({
    stableUrl: demo.stable.url,
    canaryUrl: demo.canary.url,
    canaryUpstream: CANARY_ALWAYS_TRIED,
    rollout: {
      checks: [
        { metric: "errorRate", max: 0.05, action: "rollback" },
        // Three seconds of samples: a pause of the shared machine, which slows both sides by
        // the same milliseconds, cannot pull the ratio under 2 on its own.
        { metric: "latencyP95Ratio", max: 2, window: "3s", action },
      ],
    },
  });
  const proxy = await startRolloutSwitchyard(config);
  defer(() => proxy.dispose());
  // Paused while the connections warm up: first connections and a cold JIT swell the p95 of
  // either side by tens of milliseconds, which would blur the ratio. Resume starts a fresh window.
  await rolloutAction(proxy, "pause");
  // It runs on to the end of the test.
  const warmUp = track(startPacedLoad(`${proxy.url}/`, { ratePerSecond: RATE_PER_SECOND }));
  await waitFor(() => (warmUp.tally.byStatus[200] ?? 0) >= WARM_UP_REQUESTS, {
    timeoutMs: 20_000,
    description: `${String(WARM_UP_REQUESTS)} warm-up answers`,
  });
  await rolloutAction(proxy, "resume");
  return proxy;
}

async function rolloutAction(sy: RolloutSwitchyard, action: string): Promise<void> {
  const answer = await adminCall(sy.adminUrl, "POST", `/api/v1/routes/web/rollout/${action}`);
  expect(answer.status).toBe(200);
}

/** Decisions that judged the canary (inconclusive ones had too little traffic). */
async function judged(sy: RolloutSwitchyard): Promise<DecisionEvent[]> {
  return ((await sy.decisions()) as DecisionEvent[]).filter((d) => d.verdict !== "inconclusive");
}

async function rolloutOf(sy: RolloutSwitchyard) {
  return (await getStatus(sy.adminUrl)).routes.find((r) => r.name === "web")?.rollout ?? null;
}

describe("a canary three times slower than stable", () => {
  it("is held at its first step by a hold check, and advances once it is fast", async () => {
    const sy = await startWithRatioCheck("hold");
    const decisions = await waitFor(
      async () => {
        const found = await judged(sy);
        return found.length >= 3 ? found : undefined;
      },
      { timeoutMs: 8000, intervalMs: 50, description: "three judged decisions" },
    );
    for (const decision of decisions) {
      expect(decision).toMatchObject({ verdict: "hold", stepPercent: 10, failures: 0 });
      expect(decision.metrics["latencyP95Ratio@3s"]).toBeGreaterThan(2);
      expect(decision.reason).toMatch(
        /^latencyP95Ratio \d+(\.\d+)? > max 2 over 3s .*holding at 10%$/,
      );
    }
    expect(await rolloutOf(sy)).toMatchObject({ phase: "progressing", stepIndex: 0 });
    expect((await routeSplit(sy.adminUrl, "web")).split).toEqual({ stable: 90, canary: 10 });

    demo.canary.setLatencyMs(STABLE_LATENCY_MS);
    await waitFor(async () => (await rolloutOf(sy))?.stepPercent === 50, {
      timeoutMs: 6000,
      intervalMs: 50,
      description: "the rollout advanced to 50%",
    });
  });

  it("is rolled back by a rollback check", async () => {
    const sy = await startWithRatioCheck("rollback");
    await waitFor(async () => (await rolloutOf(sy))?.phase === "rolledBack", {
      timeoutMs: 8000,
      intervalMs: 50,
      description: "the rollout rolled back",
    });
    const last = (await judged(sy)).at(-1);
    expect(last?.verdict).toBe("rollback");
    expect(last?.metrics["latencyP95Ratio@3s"]).toBeGreaterThan(2);
    expect(last?.reason).toMatch(/latencyP95Ratio \d+(\.\d+)? > max 2 over 3s/);
    expect((await routeSplit(sy.adminUrl, "web")).split).toEqual({ stable: 100, canary: 0 });
  });
});
