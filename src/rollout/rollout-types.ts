/**
 * The shared vocabulary of rollouts (SPEC 5): phases, verdicts, the statistics a decision
 * reads and the decision it returns. Window statistics, the pure decider, the controller and
 * the webhooks all speak these types.
 */
import type { RolloutConfig } from "../config/schema.ts";

export const ROLLOUT_ACTIONS = ["start", "pause", "resume", "approve", "promote", "abort"] as const;
export type RolloutAction = (typeof ROLLOUT_ACTIONS)[number];

/** The phases of a running or finished rollout; a route with none is `idle` (metrics). */
export const ROLLOUT_PHASES = [
  "progressing",
  "waitingApproval",
  "paused",
  "promoted",
  "rolledBack",
] as const;
export type RolloutPhase = (typeof ROLLOUT_PHASES)[number];

/**
 * advance: every check passed, go to the next step. promote: the last step passed.
 * waitForApproval: passed, and the next step needs an operator's approve.
 * hold: a `hold` check failed, stay. inconclusive: fewer than minRequests, stay, count nothing.
 * fail: a `rollback` check failed, one more failure (below failureLimit). rollback: failureLimit
 * reached, or a fast rollback.
 */
export type Verdict =
  "advance" | "promote" | "waitForApproval" | "hold" | "inconclusive" | "fail" | "rollback";

/** What one window of one upstream's traffic looked like. */
export interface WindowSummary {
  requests: number;
  failures: number;
  /** failures / requests; 0 when there were no requests. */
  errorRate: number;
  /** Milliseconds; undefined when there were no requests. */
  latencyP50Ms: number | undefined;
  latencyP95Ms: number | undefined;
  latencyP99Ms: number | undefined;
  /**
   * Fleet mode: live members whose seconds of this window are missing (SPEC 10). Absent or
   * empty when the window is complete; a window with missing seconds never advances.
   */
  missing?: readonly MissingSeconds[];
}

/** One member's gap in a window: `seconds` of the `of` seconds expected from it are missing. */
export interface MissingSeconds {
  replica: string;
  seconds: number;
  of: number;
}

/** Reads window statistics: the decider asks for (upstream, window length) pairs. */
export interface StatsSource {
  summarize(upstream: string, windowMs: number): WindowSummary;
}

/** The part of a rollout's state the decider reads. */
export interface RolloutProgress {
  phase: RolloutPhase;
  stepIndex: number;
  /** Consecutive failed evaluations (rollback checks). */
  failures: number;
}

export type CheckConfig = RolloutConfig["checks"][number];

/** One check's outcome, with the numbers behind it. */
export interface CheckResult {
  metric: CheckConfig["metric"];
  action: CheckConfig["action"];
  windowMs: number;
  /** Its name in `Decision.metrics`: the metric, plus "@window" when not the interval's. */
  key: string;
  /** The target's requests in this check's window. */
  requests: number;
  /** undefined when it could not be computed (e.g. no baseline traffic for a ratio). */
  value: number | undefined;
  max: number | undefined;
  min: number | undefined;
  /** false: too few requests or no baseline to judge by; such a check counts as passed. */
  isEvaluable: boolean;
  isPassed: boolean;
  /** For fast rollback: the 95% confidence bound of the target's metric is past the threshold. */
  isDecisive: boolean;
  /** The 95% confidence bound on the threshold's side (error rates only), else undefined. */
  bound: number | undefined;
  reason: string;
}

export interface Decision {
  verdict: Verdict;
  /** One sentence a person reads in the event log. */
  reason: string;
  /** The numbers behind it: requests, failures, errorRate and each check's value. */
  metrics: {
    requests: number;
    failures: number;
    errorRate: number;
    baselineRequests: number;
    baselineErrorRate: number;
    [check: string]: number | undefined;
  };
  checks: CheckResult[];
  /** The state after applying the verdict (the controller applies weights accordingly). */
  next: RolloutProgress;
  isFast: boolean;
}
