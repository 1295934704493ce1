import { describe, expect, it } from "vitest";
import type { RolloutConfig } from "../../../src/config/schema.ts";
import { checkKey, decideAtIntervalEnd } from "../../../src/rollout/decide.ts";
import type {
  RolloutPhase,
  RolloutProgress,
  Verdict,
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
  stepIndex?: number;
  failures?: number;
  windows: Record<string, WindowSummary>;
  verdict: Verdict;
  next: { phase: RolloutPhase; stepIndex: number; failures: number };
  reason?: string | RegExp;
}

const ratioHold = check("latencyP95Ratio", { max: 2 }, "hold");
const twoMinutes = 2 * MINUTE_MS;

const cases: Case[] = [
  // Volume: fewer than minRequests is inconclusive, exactly minRequests is enough.
  {
    name: "zero requests",
    failures: 1,
    windows: {},
    verdict: "inconclusive",
    next: { phase: "progressing", stepIndex: 0, failures: 1 },
    reason: "inconclusive: 0 requests to canary over 5m, fewer than minRequests 200; holding at 5%",
  },
  {
    name: "minRequests - 1, all failing",
    windows: { canary: win(199, 199) },
    verdict: "inconclusive",
    next: { phase: "progressing", stepIndex: 0, failures: 0 },
  },
  {
    name: "exactly minRequests",
    failures: 1,
    windows: { canary: win(200, 0) },
    verdict: "advance",
    next: { phase: "progressing", stepIndex: 1, failures: 0 },
    reason: "every check passed over 5m (200 requests); advancing from 5% to 10%",
  },
  // Rollback checks and failureLimit.
  {
    name: "a failed rollback check below failureLimit",
    stepIndex: 1,
    windows: { canary: win(1204, 98) },
    verdict: "fail",
    next: { phase: "progressing", stepIndex: 1, failures: 1 },
    reason: "errorRate 0.0814 > max 0.05 over 5m (1,204 requests); failure 1 of 2, holding at 10%",
  },
  {
    name: "a failed rollback check reaching failureLimit",
    stepIndex: 2,
    failures: 1,
    windows: { canary: win(1204, 98) },
    verdict: "rollback",
    next: { phase: "rolledBack", stepIndex: 2, failures: 2 },
    reason: "errorRate 0.0814 > max 0.05 over 5m (1,204 requests); failure 2 of 2, rolling back",
  },
  {
    name: "failureLimit 1 rolls back on the first failure",
    policy: { failureLimit: 1 },
    windows: { canary: win(400, 40) },
    verdict: "rollback",
    next: { phase: "rolledBack", stepIndex: 0, failures: 1 },
  },
  {
    name: "errorRate exactly at max passes",
    windows: { canary: win(200, 10) },
    verdict: "advance",
    next: { phase: "progressing", stepIndex: 1, failures: 0 },
  },
  // Hold and alert actions.
  {
    name: "a failed hold check keeps the failure count",
    failures: 1,
    policy: { checks: [check("errorRate", { max: 0.05 }), ratioHold] },
    windows: { canary: win(500, 0, { p95: 300 }), stable: win(5000, 0, { p95: 100 }) },
    verdict: "hold",
    next: { phase: "progressing", stepIndex: 0, failures: 1 },
    reason: "latencyP95Ratio 3 > max 2 over 5m (500 requests; baseline p95 100ms); holding at 5%",
  },
  {
    name: "rollback outranks hold when both fail",
    policy: { checks: [ratioHold, check("errorRate", { max: 0.05 })] },
    windows: { canary: win(500, 100, { p95: 300 }), stable: win(5000, 0, { p95: 100 }) },
    verdict: "fail",
    next: { phase: "progressing", stepIndex: 0, failures: 1 },
    reason: /^errorRate 0\.2 > max 0\.05 over 5m \(500 requests\); failure 1 of 2/,
  },
  {
    name: "a failed alert check does not stop the advance",
    policy: {
      checks: [check("errorRate", { max: 0.05 }), check("latencyP99", { max: 800 }, "alert")],
    },
    windows: { canary: win(500, 0, { p99: 950 }) },
    verdict: "advance",
    next: { phase: "progressing", stepIndex: 1, failures: 0 },
    reason:
      "no rollback or hold check failed over 5m (500 requests); advancing from 5% to 10%; " +
      "alert: latencyP99 950ms > max 800ms over 5m (500 requests)",
  },
  {
    name: "a failed alert check is named on a fail too",
    policy: {
      checks: [check("errorRate", { max: 0.05 }), check("latencyP99", { max: 800 }, "alert")],
    },
    windows: { canary: win(500, 50, { p99: 950 }) },
    verdict: "fail",
    next: { phase: "progressing", stepIndex: 0, failures: 1 },
    reason: /failure 1 of 2, holding at 5%; alert: latencyP99 950ms > max 800ms/,
  },
  // Where the rollout goes after a pass.
  {
    name: "the next step needs approval",
    stepIndex: 3,
    windows: { canary: win(2000, 1) },
    verdict: "waitForApproval",
    next: { phase: "waitingApproval", stepIndex: 3, failures: 0 },
    reason: "every check passed over 5m (2,000 requests) at 50%; waiting for approval before 100%",
  },
  {
    name: "an approval gate in the middle",
    policy: { approvalBefore: [25] },
    stepIndex: 1,
    failures: 1,
    windows: { canary: win(2000, 1) },
    verdict: "waitForApproval",
    next: { phase: "waitingApproval", stepIndex: 1, failures: 0 },
  },
  {
    name: "no approval gate before 100",
    policy: { approvalBefore: [] },
    stepIndex: 3,
    windows: { canary: win(2000, 1) },
    verdict: "advance",
    next: { phase: "progressing", stepIndex: 4, failures: 0 },
  },
  {
    name: "the last step passes",
    stepIndex: 4,
    failures: 1,
    windows: { canary: win(2000, 1) },
    verdict: "promote",
    next: { phase: "promoted", stepIndex: 4, failures: 0 },
    reason: "every check passed over 5m (2,000 requests) at 100%; promoting canary",
  },
  // min, max, and both.
  {
    name: "availability under min",
    policy: { checks: [check("availability", { min: 0.95 })] },
    windows: { canary: win(1000, 60) },
    verdict: "fail",
    next: { phase: "progressing", stepIndex: 0, failures: 1 },
    reason: /^availability 0\.94 < min 0\.95 over 5m \(1,000 requests\)/,
  },
  {
    name: "availability exactly at min",
    policy: { checks: [check("availability", { min: 0.95 })] },
    windows: { canary: win(1000, 50) },
    verdict: "advance",
    next: { phase: "progressing", stepIndex: 1, failures: 0 },
  },
  {
    name: "latencyP95 under its min",
    policy: { checks: [check("latencyP95", { min: 10, max: 500 })] },
    windows: { canary: win(300, 0, { p95: 5 }) },
    verdict: "fail",
    next: { phase: "progressing", stepIndex: 0, failures: 1 },
    reason: /^latencyP95 5ms < min 10ms over 5m/,
  },
  {
    name: "latencyP95 over its max",
    policy: { checks: [check("latencyP95", { min: 10, max: 500 })] },
    windows: { canary: win(300, 0, { p95: 600 }) },
    verdict: "fail",
    next: { phase: "progressing", stepIndex: 0, failures: 1 },
    reason: /^latencyP95 600ms > max 500ms over 5m/,
  },
  {
    name: "latencyP95 between min and max",
    policy: { checks: [check("latencyP95", { min: 10, max: 500 })] },
    windows: { canary: win(300, 0, { p95: 500 }) },
    verdict: "advance",
    next: { phase: "progressing", stepIndex: 1, failures: 0 },
  },
  {
    name: "latencyP50 over its max",
    policy: { checks: [check("latencyP50", { max: 40 }, "hold")] },
    windows: { canary: win(300, 0, { p50: 41 }) },
    verdict: "hold",
    next: { phase: "progressing", stepIndex: 0, failures: 0 },
  },
  // Ratio and delta against the baseline.
  {
    name: "latencyP95Ratio exactly at max",
    policy: { checks: [ratioHold] },
    windows: { canary: win(500, 0, { p95: 200 }), stable: win(5000, 0, { p95: 100 }) },
    verdict: "advance",
    next: { phase: "progressing", stepIndex: 1, failures: 0 },
  },
  {
    name: "latencyP95Ratio with no baseline traffic",
    policy: { checks: [ratioHold] },
    windows: { canary: win(500, 0, { p95: 900 }), stable: EMPTY },
    verdict: "advance",
    next: { phase: "progressing", stepIndex: 1, failures: 0 },
    reason: "every check passed (1 not evaluable) over 5m (500 requests); advancing from 5% to 10%",
  },
  {
    name: "latencyP95Ratio with a baseline p95 of 0ms",
    policy: { checks: [ratioHold] },
    windows: { canary: win(500, 0, { p95: 900 }), stable: win(5000, 0, { p95: 0 }) },
    verdict: "advance",
    next: { phase: "progressing", stepIndex: 1, failures: 0 },
  },
  {
    name: "errorRateDelta over max",
    policy: { checks: [check("errorRateDelta", { max: 0.02 })] },
    windows: { canary: win(1000, 80), stable: win(10_000, 100) },
    verdict: "fail",
    next: { phase: "progressing", stepIndex: 0, failures: 1 },
    reason:
      "errorRateDelta 0.07 > max 0.02 over 5m (1,000 requests; baseline 0.01 over 10,000 " +
      "requests); failure 1 of 2, holding at 5%",
  },
  {
    name: "errorRateDelta with the baseline worse than the target",
    policy: { checks: [check("errorRateDelta", { max: 0.02 })] },
    windows: { canary: win(1000, 10), stable: win(10_000, 500) },
    verdict: "advance",
    next: { phase: "progressing", stepIndex: 1, failures: 0 },
  },
  {
    name: "errorRateDelta with no baseline traffic",
    policy: { checks: [check("errorRateDelta", { max: 0.02 })] },
    windows: { canary: win(1000, 900), stable: EMPTY },
    verdict: "advance",
    next: { phase: "progressing", stepIndex: 1, failures: 0 },
  },
  // Per-check windows.
  {
    name: "a 2m check failing while the interval passes",
    policy: {
      checks: [
        check("errorRate", { max: 0.05 }),
        check("errorRate", { max: 0.05, window: twoMinutes }),
      ],
    },
    windows: { [`canary@${INTERVAL_MS}`]: win(1000, 20), [`canary@${twoMinutes}`]: win(400, 40) },
    verdict: "fail",
    next: { phase: "progressing", stepIndex: 0, failures: 1 },
    reason: "errorRate 0.1 > max 0.05 over 2m (400 requests); failure 1 of 2, holding at 5%",
  },
  {
    name: "a 2m check with too few requests is not evaluable",
    policy: { checks: [check("availability", { min: 0.95, window: twoMinutes })] },
    windows: { [`canary@${INTERVAL_MS}`]: win(1000, 20), [`canary@${twoMinutes}`]: win(150, 150) },
    verdict: "advance",
    next: { phase: "progressing", stepIndex: 1, failures: 0 },
  },
  {
    name: "a 10m check failing on older traffic",
    policy: { checks: [check("errorRate", { max: 0.05, window: 10 * MINUTE_MS }, "hold")] },
    windows: {
      [`canary@${INTERVAL_MS}`]: win(1000, 0),
      [`canary@${10 * MINUTE_MS}`]: win(2000, 200),
    },
    verdict: "hold",
    next: { phase: "progressing", stepIndex: 0, failures: 0 },
    reason: "errorRate 0.1 > max 0.05 over 10m (2,000 requests); holding at 5%",
  },
  {
    name: "no checks at all",
    policy: { checks: [] },
    windows: { canary: win(200, 200) },
    verdict: "advance",
    next: { phase: "progressing", stepIndex: 1, failures: 0 },
  },
];

describe("decideAtIntervalEnd", () => {
  it.each(cases)("$name -> $verdict", (c) => {
    const progress: RolloutProgress = {
      phase: "progressing",
      stepIndex: c.stepIndex ?? 0,
      failures: c.failures ?? 0,
    };
    const before = { ...progress };
    const decision = decideAtIntervalEnd({
      policy: policy(c.policy),
      progress,
      stats: fakeStats(c.windows),
    });
    expect(decision.verdict).toBe(c.verdict);
    expect(decision.next).toEqual(c.next);
    expect(decision.isFast).toBe(false);
    if (typeof c.reason === "string") expect(decision.reason).toBe(c.reason);
    if (c.reason instanceof RegExp) expect(decision.reason).toMatch(c.reason);
    expect(progress).toEqual(before);
    expectAllFinite(decision);
  });

  it("counts consecutive failures across calls and resets them on a pass", () => {
    const p = policy({ failureLimit: 2 });
    const bad = fakeStats({ canary: win(1000, 100) });
    const good = fakeStats({ canary: win(1000, 0) });
    const thin = fakeStats({ canary: win(10, 10) });
    let progress: RolloutProgress = { phase: "progressing", stepIndex: 0, failures: 0 };
    const verdicts: Verdict[] = [];
    for (const stats of [bad, good, bad, thin, bad]) {
      const decision = decideAtIntervalEnd({ policy: p, progress, stats });
      verdicts.push(decision.verdict);
      progress = decision.next;
    }
    // The inconclusive window counts nothing, so the two failures around it are consecutive.
    expect(verdicts).toEqual(["fail", "advance", "fail", "inconclusive", "rollback"]);
    expect(progress).toEqual({ phase: "rolledBack", stepIndex: 1, failures: 2 });
  });

  it("reports the numbers behind the decision", () => {
    const decision = decideAtIntervalEnd({
      policy: policy({
        checks: [
          check("errorRate", { max: 0.05 }),
          check("errorRate", { max: 0.02, window: 2 * MINUTE_MS }, "alert"),
          check("latencyP95Ratio", { max: 2 }, "hold"),
          check("errorRateDelta", { max: 0.02 }),
          check("availability", { min: 0.95, window: 2 * MINUTE_MS }),
        ],
      }),
      progress: { phase: "progressing", stepIndex: 0, failures: 0 },
      stats: fakeStats({
        [`canary@${INTERVAL_MS}`]: win(1000, 20, { p95: 150 }),
        [`canary@${2 * MINUTE_MS}`]: win(400, 12, { p95: 150 }),
        stable: win(8000, 80, { p95: 100 }),
      }),
    });
    expect(decision.metrics).toEqual({
      requests: 1000,
      failures: 20,
      errorRate: 0.02,
      baselineRequests: 8000,
      baselineErrorRate: 0.01,
      "errorRate@2m": 0.03,
      latencyP95Ratio: 1.5,
      errorRateDelta: 0.01,
      "availability@2m": 0.97,
    });
    expect(decision.checks.map((result) => [result.key, result.isPassed])).toEqual([
      ["errorRate", true],
      ["errorRate@2m", false],
      ["latencyP95Ratio", true],
      ["errorRateDelta", true],
      ["availability@2m", true],
    ]);
    expect(decision.verdict).toBe("advance");
    expect(decision.reason).toMatch(
      /; alert: errorRate 0\.03 > max 0\.02 over 2m \(400 requests\)$/,
    );
  });

  it("keeps a check that cannot be judged out of the metrics and says why", () => {
    const decision = decideAtIntervalEnd({
      policy: policy({ checks: [check("latencyP95Ratio", { max: 2 }, "hold")] }),
      progress: { phase: "progressing", stepIndex: 0, failures: 0 },
      stats: fakeStats({ canary: win(500, 0, { p95: 900 }) }),
    });
    const [ratio] = decision.checks;
    expect(ratio).toMatchObject({
      isEvaluable: false,
      isPassed: true,
      isDecisive: false,
      value: undefined,
      reason: "latencyP95Ratio not evaluable over 5m: no baseline traffic",
    });
    expect(decision.metrics).not.toHaveProperty("latencyP95Ratio");
    expect(decision.metrics.baselineErrorRate).toBe(0);
  });

  it("reads each upstream and window once", () => {
    const stats = fakeStats({ canary: win(500), stable: win(500) });
    decideAtIntervalEnd({
      policy: policy({
        checks: [
          check("errorRate", { max: 0.05 }),
          check("latencyP95Ratio", { max: 2 }),
          check("availability", { min: 0.9, window: 2 * MINUTE_MS }),
          check("errorRate", { max: 0.1, window: 2 * MINUTE_MS }),
        ],
      }),
      progress: { phase: "progressing", stepIndex: 0, failures: 0 },
      stats,
    });
    expect([...stats.calls].sort()).toEqual([
      `canary@${2 * MINUTE_MS}`,
      `canary@${INTERVAL_MS}`,
      `stable@${2 * MINUTE_MS}`,
      `stable@${INTERVAL_MS}`,
    ]);
  });

  it("cleans a stats source's non-finite or impossible numbers", () => {
    const broken: WindowSummary = {
      requests: 500,
      failures: 900,
      errorRate: Number.NaN,
      latencyP50Ms: Number.NaN,
      latencyP95Ms: Number.POSITIVE_INFINITY,
      latencyP99Ms: -1,
    };
    const decision = decideAtIntervalEnd({
      policy: policy({
        checks: [
          check("errorRate", { max: 0.05 }, "alert"),
          check("latencyP95", { max: 100 }, "alert"),
          check("latencyP95Ratio", { max: 2 }, "alert"),
        ],
      }),
      progress: { phase: "progressing", stepIndex: 0, failures: 0 },
      stats: fakeStats({ canary: broken, stable: { ...broken, requests: Number.NaN } }),
    });
    expect(decision.metrics).toMatchObject({ requests: 500, failures: 500, errorRate: 1 });
    expect(decision.metrics.baselineRequests).toBe(0);
    expect(decision.checks[1]?.reason).toBe("latencyP95 not evaluable over 5m: no latency data");
    expectAllFinite(decision);
  });

  it.each(["waitingApproval", "paused", "promoted", "rolledBack"] as const)(
    "refuses a rollout that is %s",
    (phase) => {
      expect(() =>
        decideAtIntervalEnd({
          policy: policy(),
          progress: { phase, stepIndex: 0, failures: 0 },
          stats: fakeStats({}),
        }),
      ).toThrow(/only while progressing/);
    },
  );

  it("refuses a step index outside the steps", () => {
    expect(() =>
      decideAtIntervalEnd({
        policy: policy(),
        progress: { phase: "progressing", stepIndex: 5, failures: 0 },
        stats: fakeStats({}),
      }),
    ).toThrow(RangeError);
  });
});

describe("checkKey", () => {
  it.each([
    [check("errorRate", { max: 0.05 }), "errorRate"],
    [check("errorRate", { max: 0.05, window: INTERVAL_MS }), "errorRate"],
    [check("errorRate", { max: 0.05, window: 2 * MINUTE_MS }), "errorRate@2m"],
    [check("availability", { min: 0.9, window: 90_000 }), "availability@90s"],
    [check("latencyP99", { max: 9, window: 3_600_000 }), "latencyP99@1h"],
  ])("%o -> %s", (config, key) => {
    expect(checkKey(config, INTERVAL_MS)).toBe(key);
  });
});
