/**
 * The rollout verdict (SPEC 5) as pure functions of the window statistics, the policy and the
 * rollout's progress: one at the end of each interval, one for the fast rollback between
 * interval ends. No clock, no I/O; the caller applies `next` and records the decision.
 */
import type { RolloutConfig } from "../config/schema.ts";
import { cleanSummary, describeDecisiveness, evaluateCheck } from "./check-metrics.ts";
import { formatCount, formatDurationMs } from "./decision-text.ts";
import { describeMissing, missingIn } from "./missing-seconds.ts";
import type {
  CheckConfig,
  CheckResult,
  Decision,
  RolloutProgress,
  StatsSource,
  Verdict,
  WindowSummary,
} from "./rollout-types.ts";

export interface DecideInput {
  policy: RolloutConfig;
  progress: RolloutProgress;
  stats: StatsSource;
}

interface Windows {
  target: WindowSummary;
  baseline: WindowSummary;
}

type WindowReader = (windowMs: number) => Windows;

/**
 * The verdict at the end of an interval of a `progressing` rollout. Fewer than minRequests
 * target requests in the interval -> inconclusive; a failed rollback check -> fail, or rollback
 * at failureLimit; a failed hold check -> hold; otherwise advance, waitForApproval or promote.
 * Failed alert checks never change the verdict; they are named in the reason. A fleet window
 * with missing seconds (`WindowSummary.missing`) never advances: only a decisive rollback
 * failure counts, anything else is inconclusive, naming who missed how many seconds.
 * Throws on a rollout that is not progressing or a step index outside the steps (caller bugs).
 */
export function decideAtIntervalEnd(input: DecideInput): Decision {
  const { policy, progress } = input;
  if (progress.phase !== "progressing") {
    throw new Error(`an interval end is decided only while progressing, not ${progress.phase}`);
  }
  const stepPercent = policy.steps[progress.stepIndex];
  if (stepPercent === undefined) {
    throw new RangeError(`step index ${progress.stepIndex} is outside the rollout's steps`);
  }
  const windows = windowReader(input);
  const interval = windows(policy.interval);
  const checks = policy.checks.map((check) => evaluate(check, policy, windows));
  const metrics = metricsOf(interval, checks);
  const alerts = failedWith(checks, "alert");
  const decision = (verdict: Verdict, next: RolloutProgress, reason: string): Decision => ({
    verdict,
    reason: alerts.length > 0 ? `${reason}; alert: ${describeFailed(alerts)}` : reason,
    metrics,
    checks,
    next,
    isFast: false,
  });
  const requests = interval.target.requests;
  const over = `over ${formatDurationMs(policy.interval)}`;
  const missing = missingIn(windowsRead(policy, windows));
  const gap = missing.length > 0 ? `window incomplete: ${describeMissing(missing)}` : undefined;

  if (requests < policy.minRequests) {
    return decision(
      "inconclusive",
      { ...progress },
      `inconclusive: ${formatCount(requests)} requests to ${policy.target} ${over}, ` +
        `fewer than minRequests ${formatCount(policy.minRequests)}` +
        `${gap === undefined ? "" : ` (${gap})`}; holding at ${stepPercent}%`,
    );
  }

  // Seconds missing from a member could still turn a failure into a pass: on an incomplete
  // window only a decisive failure counts, and nothing else moves the rollout.
  const failed = failedWith(checks, "rollback");
  const rollbacks = gap === undefined ? failed : failed.filter((check) => check.isDecisive);
  if (rollbacks.length > 0) {
    const failures = progress.failures + 1;
    const counted =
      `${describeFailed(rollbacks)}${gap === undefined ? "" : ` (${gap})`}; ` +
      `failure ${failures} of ${policy.failureLimit}`;
    return failures >= policy.failureLimit
      ? decision(
          "rollback",
          { ...progress, phase: "rolledBack", failures },
          `${counted}, rolling back`,
        )
      : decision("fail", { ...progress, failures }, `${counted}, holding at ${stepPercent}%`);
  }

  if (gap !== undefined) {
    return decision(
      "inconclusive",
      { ...progress },
      `inconclusive: ${gap}; holding at ${stepPercent}%`,
    );
  }

  const holds = failedWith(checks, "hold");
  if (holds.length > 0) {
    return decision(
      "hold",
      { ...progress },
      `${describeFailed(holds)}; holding at ${stepPercent}%`,
    );
  }

  const passed = `${describePassed(checks, alerts.length > 0)} ${over} (${formatCount(requests)} requests)`;
  return passedDecision(policy, progress, passed, decision);
}

/** Every check passed (or could not be judged): promote, wait for approval, or advance. */
function passedDecision(
  policy: RolloutConfig,
  progress: RolloutProgress,
  passed: string,
  decision: (verdict: Verdict, next: RolloutProgress, reason: string) => Decision,
): Decision {
  const stepIndex = progress.stepIndex;
  const stepPercent = policy.steps[stepIndex] ?? 0;
  const nextPercent = policy.steps[stepIndex + 1];
  if (nextPercent === undefined) {
    return decision(
      "promote",
      { phase: "promoted", stepIndex, failures: 0 },
      `${passed} at ${stepPercent}%; promoting ${policy.target}`,
    );
  }
  if (policy.approvalBefore.includes(nextPercent)) {
    return decision(
      "waitForApproval",
      { phase: "waitingApproval", stepIndex, failures: 0 },
      `${passed} at ${stepPercent}%; waiting for approval before ${nextPercent}%`,
    );
  }
  return decision(
    "advance",
    { phase: "progressing", stepIndex: stepIndex + 1, failures: 0 },
    `${passed}; advancing from ${stepPercent}% to ${nextPercent}%`,
  );
}

/** The summaries a decision read: the interval's and each check's window (already cached). */
function windowsRead(policy: RolloutConfig, windows: WindowReader): WindowSummary[] {
  const read: WindowSummary[] = [];
  for (const windowMs of [policy.interval, ...policy.checks.map((check) => check.window)]) {
    const { target, baseline } = windows(windowMs ?? policy.interval);
    read.push(target, baseline);
  }
  return read;
}

/**
 * Between interval ends: a `rollback` decision (isFast) when a rollback check, on its own
 * window with at least minRequests target requests, already fails decisively (its 95% bound
 * is past the threshold); otherwise undefined. Acts while progressing or waiting for approval,
 * when the target carries traffic without an operator holding it; never while paused.
 */
export function decideFastRollback(input: DecideInput): Decision | undefined {
  const { policy, progress } = input;
  if (progress.phase !== "progressing" && progress.phase !== "waitingApproval") return undefined;
  const windows = windowReader(input);
  const checks = policy.checks
    .filter((check) => check.action === "rollback")
    .map((check) => evaluate(check, policy, windows));
  const decisive = checks.filter((check) => check.isDecisive);
  if (decisive.length === 0) return undefined;
  const evidence = decisive
    .map((check) => `${check.reason}, ${describeDecisiveness(check, policy.minRequests)}`)
    .join(" and ");
  return {
    verdict: "rollback",
    reason: `fast rollback: ${evidence}; rolling back at once`,
    metrics: metricsOf(windows(policy.interval), checks),
    checks,
    next: { phase: "rolledBack", stepIndex: progress.stepIndex, failures: progress.failures + 1 },
    isFast: true,
  };
}

/** The metric's name, with "@window" when the check reads another window than the interval. */
export function checkKey(check: CheckConfig, intervalMs: number): string {
  const windowMs = check.window ?? intervalMs;
  return windowMs === intervalMs ? check.metric : `${check.metric}@${formatDurationMs(windowMs)}`;
}

function evaluate(check: CheckConfig, policy: RolloutConfig, windows: WindowReader): CheckResult {
  const windowMs = check.window ?? policy.interval;
  const { target, baseline } = windows(windowMs);
  return evaluateCheck({
    check,
    key: checkKey(check, policy.interval),
    windowMs,
    target,
    baseline,
    minRequests: policy.minRequests,
  });
}

/** Each (upstream, window) pair is read once per decision, and cleaned of non-finite numbers. */
function windowReader(input: DecideInput): WindowReader {
  const { policy, stats } = input;
  const cache = new Map<number, Windows>();
  return (windowMs) => {
    let windows = cache.get(windowMs);
    if (windows === undefined) {
      windows = {
        target: cleanSummary(stats.summarize(policy.target, windowMs)),
        baseline: cleanSummary(stats.summarize(policy.baseline, windowMs)),
      };
      cache.set(windowMs, windows);
    }
    return windows;
  };
}

function metricsOf(interval: Windows, checks: readonly CheckResult[]): Decision["metrics"] {
  const metrics: Decision["metrics"] = {
    requests: interval.target.requests,
    failures: interval.target.failures,
    errorRate: interval.target.errorRate,
    baselineRequests: interval.baseline.requests,
    baselineErrorRate: interval.baseline.errorRate,
  };
  for (const check of checks) {
    if (check.value !== undefined) metrics[check.key] = check.value;
  }
  return metrics;
}

function failedWith(checks: readonly CheckResult[], action: CheckConfig["action"]): CheckResult[] {
  return checks.filter((check) => check.action === action && !check.isPassed);
}

function describeFailed(checks: readonly CheckResult[]): string {
  return checks.map((check) => check.reason).join(" and ");
}

function describePassed(checks: readonly CheckResult[], hasAlerts: boolean): string {
  const unjudged = checks.filter((check) => !check.isEvaluable).length;
  const passed = hasAlerts ? "no rollback or hold check failed" : "every check passed";
  return unjudged > 0 ? `${passed} (${unjudged} not evaluable)` : passed;
}
