/**
 * What SPEC 5 says a check shows, computed here independently of src/rollout: the metric's
 * value on the check's window, whether it is past the plain threshold, and whether its 95%
 * confidence bound is (the fast-rollback test). Wilson bounds are found by bisection on the
 * score inequality (p - q)^2 <= z^2 q (1 - q) / n rather than by the closed form.
 */
import type { RolloutConfig } from "../../src/config/schema.ts";
import { Z_95 } from "../../src/rollout/confidence.ts";
import type { CheckConfig, WindowSummary } from "../../src/rollout/rollout-types.ts";
import { BASELINE, TARGET, type WindowTable } from "./rollout-arbitraries.ts";

/** Leaves room for rounding between two correct computations of the same bound. */
const EPSILON = 1e-9;
/** A latency check fails fast only past its threshold by half of it, on 2 x minRequests. */
const LATENCY_MARGIN = 0.5;
const LATENCY_VOLUME_FACTOR = 2;

export interface CheckEvidence {
  /** The target's requests in the check's window (broken counts read as 0). */
  readonly requests: number;
  /** At least minRequests, and a value could be computed. */
  readonly isJudged: boolean;
  /** Judged, and the value is past max or min. */
  readonly isPastThreshold: boolean;
  /** Judged, and even the 95% bound nearest the threshold is past it, or within EPSILON. */
  readonly isPastBound: boolean;
  /** Judged, and that bound is past the threshold by more than EPSILON. */
  readonly isClearlyPastBound: boolean;
}

interface Clean {
  readonly requests: number;
  readonly failures: number;
  readonly p50: number | undefined;
  readonly p95: number | undefined;
  readonly p99: number | undefined;
}

export function requestsIn(summary: WindowSummary | undefined): number {
  return clean(summary).requests;
}

export function evidenceOf(
  check: CheckConfig,
  policy: RolloutConfig,
  table: WindowTable,
): CheckEvidence {
  const windowMs = check.window ?? policy.interval;
  const target = clean(table[`${TARGET}@${windowMs}`]);
  const baseline = clean(table[`${BASELINE}@${windowMs}`]);
  const value = valueOf(check.metric, target, baseline);
  const isJudged = target.requests >= policy.minRequests && value !== undefined;
  if (!isJudged) {
    return {
      requests: target.requests,
      isJudged,
      isPastThreshold: false,
      isPastBound: false,
      isClearlyPastBound: false,
    };
  }
  const isPastThreshold =
    (check.max !== undefined && value > check.max) ||
    (check.min !== undefined && value < check.min);
  const bounds = boundsOf(check.metric, target, baseline);
  if (bounds === undefined) {
    const isPast = isLatencyClearlyPast(check, value, target, baseline, policy.minRequests);
    return { ...judged(target, isPastThreshold), isPastBound: isPast, isClearlyPastBound: isPast };
  }
  // How far the bound nearest the threshold is past it (negative: not past).
  const pastBy = Math.max(
    check.max === undefined ? -Infinity : bounds.lower - check.max,
    check.min === undefined ? -Infinity : check.min - bounds.upper,
  );
  return {
    ...judged(target, isPastThreshold),
    isPastBound: pastBy > -EPSILON,
    isClearlyPastBound: pastBy > EPSILON,
  };
}

function judged(target: Clean, isPastThreshold: boolean) {
  return { requests: target.requests, isJudged: true, isPastThreshold };
}

function valueOf(metric: CheckConfig["metric"], target: Clean, baseline: Clean) {
  if (target.requests === 0) return undefined;
  const errorRate = target.failures / target.requests;
  switch (metric) {
    case "errorRate":
      return errorRate;
    case "availability":
      return 1 - errorRate;
    case "errorRateDelta":
      return baseline.requests === 0
        ? undefined
        : errorRate - baseline.failures / baseline.requests;
    case "latencyP50":
      return target.p50;
    case "latencyP95":
      return target.p95;
    case "latencyP99":
      return target.p99;
    case "latencyP95Ratio":
      if (baseline.requests === 0 || baseline.p95 === undefined || baseline.p95 <= 0) {
        return undefined;
      }
      return target.p95 === undefined ? undefined : target.p95 / baseline.p95;
  }
}

/** 95% bounds for the error metrics; undefined for latencies, which have none. */
function boundsOf(metric: CheckConfig["metric"], target: Clean, baseline: Clean) {
  const errors = wilson(target.failures, target.requests);
  switch (metric) {
    case "errorRate":
      return errors;
    case "availability":
      return { lower: 1 - errors.upper, upper: 1 - errors.lower };
    case "errorRateDelta": {
      // Newcombe's hybrid score interval for a difference of two proportions.
      const p1 = target.failures / target.requests;
      const p2 = baseline.failures / baseline.requests;
      const other = wilson(baseline.failures, baseline.requests);
      return {
        lower: p1 - p2 - Math.hypot(p1 - errors.lower, other.upper - p2),
        upper: p1 - p2 + Math.hypot(errors.upper - p1, p2 - other.lower),
      };
    }
    default:
      return undefined;
  }
}

function isLatencyClearlyPast(
  check: CheckConfig,
  value: number,
  target: Clean,
  baseline: Clean,
  minRequests: number,
): boolean {
  if (target.requests < LATENCY_VOLUME_FACTOR * minRequests) return false;
  if (check.metric === "latencyP95Ratio" && baseline.requests < minRequests) return false;
  const isOver =
    check.max !== undefined && value > check.max + LATENCY_MARGIN * Math.abs(check.max);
  const isUnder =
    check.min !== undefined && value < check.min - LATENCY_MARGIN * Math.abs(check.min);
  return isOver || isUnder;
}

/** The Wilson score interval of x / n, each end found by bisection. */
function wilson(x: number, n: number): { lower: number; upper: number } {
  const p = x / n;
  const outside = (q: number): boolean => (p - q) ** 2 > (Z_95 * Z_95 * q * (1 - q)) / n;
  return {
    lower: p === 0 ? 0 : bisect(0, p, outside),
    upper: p === 1 ? 1 : bisect(1, p, outside),
  };
}

/** The point between `out` (where `isOutside` holds) and `inside` where it stops holding. */
function bisect(out: number, inside: number, isOutside: (q: number) => boolean): number {
  let [a, b] = [out, inside];
  for (let i = 0; i < 100; i++) {
    const middle = (a + b) / 2;
    if (isOutside(middle)) a = middle;
    else b = middle;
  }
  return (a + b) / 2;
}

function clean(summary: WindowSummary | undefined): Clean {
  const count = (n: number | undefined): number =>
    n !== undefined && Number.isFinite(n) && n > 0 ? n : 0;
  const latency = (ms: number | undefined): number | undefined =>
    ms !== undefined && Number.isFinite(ms) && ms >= 0 ? ms : undefined;
  const requests = count(summary?.requests);
  return {
    requests,
    failures: Math.min(requests, count(summary?.failures)),
    p50: latency(summary?.latencyP50Ms),
    p95: latency(summary?.latencyP95Ms),
    p99: latency(summary?.latencyP99Ms),
  };
}
