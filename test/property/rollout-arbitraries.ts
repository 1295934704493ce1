/**
 * Generators of rollout decisions' inputs: a policy (SPEC 5), the rollout's progress, and
 * window statistics for the target and the baseline over each window the checks read.
 */
import fc from "fast-check";
import type { RolloutConfig } from "../../src/config/schema.ts";
import { CHECK_ACTIONS } from "../../src/config/schema.ts";
import type {
  CheckConfig,
  RolloutPhase,
  RolloutProgress,
  StatsSource,
  WindowSummary,
} from "../../src/rollout/rollout-types.ts";

export const TARGET = "canary";
export const BASELINE = "stable";
const INTERVAL_MS = 300_000;
/** The interval, and two windows a check may name instead. */
export const WINDOWS_MS = [INTERVAL_MS, 60_000, 120_000] as const;

const rate = fc.double({ min: 0, max: 1, noNaN: true });
/** Error-rate thresholds, often small as in real checks. */
const rateLimit = fc.oneof(fc.double({ min: 0, max: 0.1, noNaN: true }), rate);
const latencyMs = fc.double({ min: 0, max: 5000, noNaN: true });

const window = fc.option(fc.constantFrom(...WINDOWS_MS), { nil: undefined });
const action = fc.constantFrom(...CHECK_ACTIONS);

/** A check with thresholds that suit its metric (max, min, or both). */
export const anyCheck: fc.Arbitrary<CheckConfig> = fc
  .oneof(
    fc.record({ metric: fc.constant("errorRate" as const), max: rateLimit }),
    fc.record({ metric: fc.constant("availability" as const), min: rate }),
    fc.record({
      metric: fc.constant("errorRateDelta" as const),
      max: fc.double({ min: -0.2, max: 0.5, noNaN: true }),
    }),
    fc.record({
      metric: fc.constantFrom("latencyP50" as const, "latencyP95" as const, "latencyP99" as const),
      max: latencyMs,
    }),
    fc.record({
      metric: fc.constant("latencyP95Ratio" as const),
      max: fc.double({ min: 0.5, max: 5, noNaN: true }),
    }),
    fc.record({ metric: fc.constant("errorRate" as const), min: rateLimit, max: rate }),
  )
  .chain((limits) =>
    fc.record({ window, action }).map(({ window: windowMs, action: checkAction }) => ({
      ...limits,
      action: checkAction,
      ...(windowMs === undefined || windowMs === INTERVAL_MS ? {} : { window: windowMs }),
    })),
  );

/** Increasing steps ending at 100, with some steps gated by approval. */
const stepsAndApprovals = fc
  .uniqueArray(fc.integer({ min: 1, max: 99 }), { maxLength: 5 })
  .chain((inner) => {
    const steps = [...inner.sort((a, b) => a - b), 100];
    return fc.tuple(fc.constant(steps), fc.subarray(steps));
  });

export const anyPolicy: fc.Arbitrary<RolloutConfig> = fc
  .record({
    stepsAndApprovals,
    minRequests: fc.oneof(fc.integer({ min: 1, max: 20 }), fc.integer({ min: 1, max: 1000 })),
    failureLimit: fc.integer({ min: 1, max: 5 }),
    checks: fc.array(anyCheck, { maxLength: 4 }),
  })
  .map(({ stepsAndApprovals: [steps, approvalBefore], ...rest }) => ({
    target: TARGET,
    baseline: BASELINE,
    steps,
    approvalBefore,
    interval: INTERVAL_MS,
    webhooks: [],
    ...rest,
  }));

const PHASES: readonly RolloutPhase[] = [
  "progressing",
  "waitingApproval",
  "paused",
  "promoted",
  "rolledBack",
];

/** Progress valid for the policy: a step it has, fewer failures than its limit. */
export function progressFor(
  policy: RolloutConfig,
  phases: readonly RolloutPhase[] = PHASES,
): fc.Arbitrary<RolloutProgress> {
  return fc.record({
    phase: fc.constantFrom(...phases),
    stepIndex: fc.nat({ max: policy.steps.length - 1 }),
    failures: fc.nat({ max: policy.failureLimit - 1 }),
  });
}

/** Request counts around minRequests and far above it, with a few broken numbers. */
function requestsNear(minRequests: number): fc.Arbitrary<number> {
  return fc.oneof(
    { weight: 4, arbitrary: fc.integer({ min: 0, max: 2 * minRequests + 2 }) },
    { weight: 3, arbitrary: fc.integer({ min: 0, max: 20_000 }) },
    { weight: 1, arbitrary: fc.constantFrom(Number.NaN, -1, Number.POSITIVE_INFINITY) },
  );
}

function summaryNear(minRequests: number): fc.Arbitrary<WindowSummary> {
  return fc
    .record({
      requests: requestsNear(minRequests),
      failureShare: fc.oneof(fc.double({ min: 0, max: 0.12, noNaN: true }), rate),
      p50: latencyMs,
      p95: latencyMs,
      p99: latencyMs,
    })
    .map(({ requests, failureShare, p50, p95, p99 }) => {
      const failures = Number.isFinite(requests) ? Math.round(failureShare * requests) : requests;
      const hasTraffic = Number.isFinite(requests) && requests > 0;
      return {
        requests,
        failures,
        errorRate: hasTraffic ? failures / requests : 0,
        latencyP50Ms: hasTraffic ? p50 : undefined,
        latencyP95Ms: hasTraffic ? p95 : undefined,
        latencyP99Ms: hasTraffic ? p99 : undefined,
      };
    });
}

/** Statistics keyed `upstream@windowMs`, one summary per upstream and window. */
export type WindowTable = Readonly<Partial<Record<string, WindowSummary>>>;

export function windowsFor(policy: RolloutConfig): fc.Arbitrary<WindowTable> {
  const keys = [TARGET, BASELINE].flatMap((upstream) =>
    WINDOWS_MS.map((windowMs) => `${upstream}@${windowMs}`),
  );
  return fc
    .tuple(...keys.map(() => summaryNear(policy.minRequests)))
    .map((summaries) => Object.fromEntries(keys.map((key, i) => [key, summaries[i]])));
}

export function statsFrom(table: WindowTable): StatsSource {
  return {
    summarize(upstream, windowMs) {
      const summary = table[`${upstream}@${windowMs}`];
      if (summary === undefined) throw new Error(`no window ${upstream}@${windowMs}`);
      return summary;
    },
  };
}
