import { describe, expect, it } from "vitest";
import type { RolloutConfig } from "../../../src/config/schema.ts";
import { decideFastRollback } from "../../../src/rollout/decide.ts";
import type {
  RolloutPhase,
  RolloutProgress,
  WindowSummary,
} from "../../../src/rollout/rollout-types.ts";
import {
  EMPTY,
  INTERVAL_MS,
  MINUTE_MS,
  check,
  expectAllFinite,
  fakeStats,
  policy,
  win,
} from "./decide-fixtures.ts";

interface Case {
  name: string;
  policy?: Partial<RolloutConfig>;
  phase?: RolloutPhase;
  windows: Record<string, WindowSummary>;
  /** undefined: no fast rollback; otherwise the expected reason (or a pattern of it). */
  reason: string | RegExp | undefined;
}

const errorRateMax = check("errorRate", { max: 0.05 });
const twoMinutes = 2 * MINUTE_MS;

const cases: Case[] = [
  {
    name: "40% errors at exactly minRequests",
    windows: { canary: win(200, 80) },
    reason:
      "fast rollback: errorRate 0.4 > max 0.05 over 5m (200 requests), " +
      "95% lower bound 0.335; rolling back at once",
  },
  {
    name: "6% against max 5% on minRequests is not decisive",
    windows: { canary: win(200, 12) },
    reason: undefined,
  },
  {
    name: "6% against max 5% on 20,000 requests is decisive",
    windows: { canary: win(20_000, 1200) },
    reason: /errorRate 0\.06 > max 0\.05 over 5m \(20,000 requests\), 95% lower bound 0\.0568/,
  },
  {
    name: "every request failing on minRequests - 1",
    windows: { canary: win(199, 199) },
    reason: undefined,
  },
  {
    name: "no traffic at all",
    windows: {},
    reason: undefined,
  },
  {
    name: "a passing rollout",
    windows: { canary: win(5000, 5) },
    reason: undefined,
  },
  {
    name: "a hold check failing decisively",
    policy: { checks: [check("errorRate", { max: 0.05 }, "hold")] },
    windows: { canary: win(1000, 900) },
    reason: undefined,
  },
  {
    name: "an alert check failing decisively",
    policy: { checks: [check("errorRate", { max: 0.05 }, "alert")] },
    windows: { canary: win(1000, 900) },
    reason: undefined,
  },
  {
    name: "availability decisively under min",
    policy: { checks: [check("availability", { min: 0.95 })] },
    windows: { canary: win(200, 80) },
    reason:
      /^fast rollback: availability 0\.6 < min 0\.95 over 5m \(200 requests\), 95% upper bound 0\.665;/,
  },
  {
    name: "availability just under min is not decisive",
    policy: { checks: [check("availability", { min: 0.95 })] },
    windows: { canary: win(200, 12) },
    reason: undefined,
  },
  {
    name: "a 2m window failing decisively while the interval is still thin",
    policy: { checks: [check("availability", { min: 0.95, window: twoMinutes })] },
    windows: { [`canary@${INTERVAL_MS}`]: win(100, 0), [`canary@${twoMinutes}`]: win(300, 150) },
    reason: /^fast rollback: availability 0\.5 < min 0\.95 over 2m \(300 requests\)/,
  },
  {
    name: "errorRateDelta decisively over max",
    policy: { checks: [check("errorRateDelta", { max: 0.02 })] },
    windows: { canary: win(200, 80), stable: win(2000, 20) },
    reason:
      "fast rollback: errorRateDelta 0.39 > max 0.02 over 5m (200 requests; baseline 0.01 over " +
      "2,000 requests), 95% lower bound 0.324; rolling back at once",
  },
  {
    name: "errorRateDelta over max but not decisively",
    policy: { checks: [check("errorRateDelta", { max: 0.02 })] },
    windows: { canary: win(200, 10), stable: win(1000, 10) },
    reason: undefined,
  },
  {
    name: "errorRateDelta with no baseline traffic",
    policy: { checks: [check("errorRateDelta", { max: 0.02 })] },
    windows: { canary: win(1000, 1000), stable: EMPTY },
    reason: undefined,
  },
  // Latency: no confidence bound, so half the threshold again on twice minRequests.
  {
    name: "latencyP95 past max by more than half on 2 x minRequests",
    policy: { checks: [check("latencyP95", { max: 500 })] },
    windows: { canary: win(400, 0, { p95: 800 }) },
    reason:
      "fast rollback: latencyP95 800ms > max 500ms over 5m (400 requests), past the threshold " +
      "by more than half of it on at least 400 requests; rolling back at once",
  },
  {
    name: "latencyP95 past max by more than half on fewer than 2 x minRequests",
    policy: { checks: [check("latencyP95", { max: 500 })] },
    windows: { canary: win(399, 0, { p95: 800 }) },
    reason: undefined,
  },
  {
    name: "latencyP95 past max by exactly half",
    policy: { checks: [check("latencyP95", { max: 500 })] },
    windows: { canary: win(4000, 0, { p95: 750 }) },
    reason: undefined,
  },
  {
    name: "latencyP50 far under min",
    policy: { checks: [check("latencyP50", { min: 10 })] },
    windows: { canary: win(400, 0, { p50: 4 }) },
    reason: /^fast rollback: latencyP50 4ms < min 10ms/,
  },
  {
    name: "latencyP95Ratio far over max with enough baseline",
    policy: { checks: [check("latencyP95Ratio", { max: 2 })] },
    windows: { canary: win(400, 0, { p95: 350 }), stable: win(200, 0, { p95: 100 }) },
    reason:
      /^fast rollback: latencyP95Ratio 3\.5 > max 2 over 5m \(400 requests; baseline p95 100ms\)/,
  },
  {
    name: "latencyP95Ratio far over max with a thin baseline",
    policy: { checks: [check("latencyP95Ratio", { max: 2 })] },
    windows: { canary: win(400, 0, { p95: 350 }), stable: win(199, 0, { p95: 100 }) },
    reason: undefined,
  },
  {
    name: "waiting for approval still rolls back",
    phase: "waitingApproval",
    windows: { canary: win(200, 80) },
    reason: /^fast rollback: errorRate 0\.4/,
  },
  {
    name: "paused never rolls back by itself",
    phase: "paused",
    windows: { canary: win(200, 80) },
    reason: undefined,
  },
  {
    name: "rolled back already",
    phase: "rolledBack",
    windows: { canary: win(200, 80) },
    reason: undefined,
  },
];

describe("decideFastRollback", () => {
  it.each(cases)("$name", (c) => {
    const progress: RolloutProgress = {
      phase: c.phase ?? "progressing",
      stepIndex: 2,
      failures: 0,
    };
    const decision = decideFastRollback({
      policy: policy({ checks: [errorRateMax], ...c.policy }),
      progress,
      stats: fakeStats(c.windows),
    });
    if (c.reason === undefined) {
      expect(decision).toBeUndefined();
      return;
    }
    expect(decision).toBeDefined();
    if (decision === undefined) return;
    expect(decision.verdict).toBe("rollback");
    expect(decision.isFast).toBe(true);
    expect(decision.next).toEqual({ phase: "rolledBack", stepIndex: 2, failures: 1 });
    if (typeof c.reason === "string") expect(decision.reason).toBe(c.reason);
    else expect(decision.reason).toMatch(c.reason);
    expectAllFinite(decision);
  });

  it("looks only at rollback checks and reports them with their bounds", () => {
    const decision = decideFastRollback({
      policy: policy({
        checks: [
          check("errorRate", { max: 0.05 }, "hold"),
          check("errorRate", { max: 0.05 }),
          check("availability", { min: 0.95, window: twoMinutes }),
        ],
      }),
      progress: { phase: "progressing", stepIndex: 0, failures: 1 },
      stats: fakeStats({ canary: win(200, 80), stable: win(4000, 4) }),
    });
    expect(
      decision?.checks.map((result) => [result.key, result.action, result.isDecisive]),
    ).toEqual([
      ["errorRate", "rollback", true],
      ["availability@2m", "rollback", true],
    ]);
    expect(decision?.checks[0]?.bound).toBeCloseTo(0.3346, 4);
    expect(decision?.checks[1]?.bound).toBeCloseTo(0.6654, 4);
    expect(decision?.metrics).toEqual({
      requests: 200,
      failures: 80,
      errorRate: 0.4,
      baselineRequests: 4000,
      baselineErrorRate: 0.001,
      "availability@2m": 0.6,
    });
    expect(decision?.next).toEqual({ phase: "rolledBack", stepIndex: 0, failures: 2 });
    expect(decision?.reason).toMatch(/ and availability 0\.6 < min 0\.95 over 2m/);
  });
});
