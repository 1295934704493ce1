/**
 * One rollout check judged on one window (SPEC 5): the metric's value, whether it could be
 * judged at all, whether it passed, and whether it fails decisively enough for a fast rollback.
 * Pure, and every number it returns is finite.
 */
import { differenceInterval, wilsonInterval, type Interval } from "./confidence.ts";
import { formatCount, formatDurationMs, formatNumber } from "./decision-text.ts";
import type { CheckConfig, CheckResult, WindowSummary } from "./rollout-types.ts";

/**
 * Latency percentiles and their ratio have no cheap confidence bound from a window summary,
 * so a fast rollback on them needs a clear case instead: the value past the threshold by half
 * the threshold again, on at least twice minRequests (and minRequests of baseline for a ratio).
 */
export const LATENCY_FAST_MARGIN = 0.5;
export const LATENCY_FAST_VOLUME_FACTOR = 2;

export interface EvaluateCheckInput {
  check: CheckConfig;
  /** The name of the check's value in the decision's metrics. */
  key: string;
  windowMs: number;
  target: WindowSummary;
  baseline: WindowSummary;
  minRequests: number;
}

type Metric = CheckConfig["metric"];
type Side = "max" | "min";

type Measurement =
  | { value: number; interval: Interval | undefined; context: string }
  | { value: undefined; missing: string };

/**
 * A summary with every count finite and non-negative, errorRate recomputed, latencies finite;
 * missing seconds (fleet mode) kept as they are.
 */
export function cleanSummary(summary: WindowSummary): WindowSummary {
  const requests = nonNegative(summary.requests);
  const failures = Math.min(requests, nonNegative(summary.failures));
  return {
    requests,
    failures,
    errorRate: requests > 0 ? failures / requests : 0,
    latencyP50Ms: latencyOrUndefined(summary.latencyP50Ms),
    latencyP95Ms: latencyOrUndefined(summary.latencyP95Ms),
    latencyP99Ms: latencyOrUndefined(summary.latencyP99Ms),
    ...(summary.missing === undefined ? {} : { missing: summary.missing }),
  };
}

/**
 * Judges one check. Too few target requests in the window, no baseline traffic for a
 * ratio or delta, or no latency data: not evaluable, and a check that cannot be judged passes.
 */
export function evaluateCheck(input: EvaluateCheckInput): CheckResult {
  const { check, target, minRequests } = input;
  const measured = measure(check.metric, target, input.baseline);
  const over = `over ${formatDurationMs(input.windowMs)}`;
  const common = {
    metric: check.metric,
    action: check.action,
    windowMs: input.windowMs,
    key: input.key,
    requests: target.requests,
    value: measured.value,
    max: check.max,
    min: check.min,
  };
  const missing =
    target.requests < minRequests
      ? `${formatCount(target.requests)} requests, fewer than minRequests ${formatCount(minRequests)}`
      : measured.value === undefined
        ? measured.missing
        : undefined;
  if (missing !== undefined || measured.value === undefined) {
    return {
      ...common,
      isEvaluable: false,
      isPassed: true,
      isDecisive: false,
      bound: undefined,
      reason: `${check.metric} not evaluable ${over}: ${missing ?? "no value"}`,
    };
  }
  const { value, interval } = measured;
  const violated = violatedSide(value, check);
  const side: Side = violated ?? (check.max !== undefined ? "max" : "min");
  const bound =
    interval === undefined ? undefined : side === "max" ? interval.lower : interval.upper;
  const isDecisive =
    violated !== undefined &&
    (bound === undefined
      ? isLatencyClearlyPast(input, value, violated)
      : isPast(bound, violated, check));
  const shown = formatMetric(check.metric, value, [check.max, check.min]);
  return {
    ...common,
    isEvaluable: true,
    isPassed: violated === undefined,
    isDecisive,
    bound,
    reason:
      `${check.metric} ${shown} ${describeThresholds(check, violated)} ${over} ` +
      `(${formatCount(target.requests)} requests${measured.context})`,
  };
}

/** "95% lower bound 0.336" for error rates; the margin rule for latency. */
export function describeDecisiveness(result: CheckResult, minRequests: number): string {
  if (result.bound !== undefined) {
    const side = result.value !== undefined && isAbove(result) ? "lower" : "upper";
    return `95% ${side} bound ${formatMetric(result.metric, result.bound, [result.max, result.min])}`;
  }
  const volume = formatCount(LATENCY_FAST_VOLUME_FACTOR * minRequests);
  return `past the threshold by more than half of it on at least ${volume} requests`;
}

function isAbove(result: CheckResult): boolean {
  return result.max !== undefined && result.value !== undefined && result.value > result.max;
}

function measure(metric: Metric, target: WindowSummary, baseline: WindowSummary): Measurement {
  if (target.requests === 0) return { value: undefined, missing: "no requests" };
  switch (metric) {
    case "errorRate":
      return {
        value: target.errorRate,
        interval: wilsonInterval(target.failures, target.requests),
        context: "",
      };
    case "availability": {
      const errors = wilsonInterval(target.failures, target.requests);
      return {
        value: 1 - target.errorRate,
        interval: { lower: 1 - errors.upper, upper: 1 - errors.lower },
        context: "",
      };
    }
    case "latencyP50":
      return latency(target.latencyP50Ms);
    case "latencyP95":
      return latency(target.latencyP95Ms);
    case "latencyP99":
      return latency(target.latencyP99Ms);
    case "latencyP95Ratio":
      return latencyRatio(target, baseline);
    case "errorRateDelta":
      if (baseline.requests === 0) return { value: undefined, missing: "no baseline traffic" };
      return {
        value: target.errorRate - baseline.errorRate,
        interval: differenceInterval(
          target.failures,
          target.requests,
          baseline.failures,
          baseline.requests,
        ),
        context:
          `; baseline ${formatNumber(baseline.errorRate)} ` +
          `over ${formatCount(baseline.requests)} requests`,
      };
  }
}

function latency(valueMs: number | undefined): Measurement {
  if (valueMs === undefined) return { value: undefined, missing: "no latency data" };
  return { value: valueMs, interval: undefined, context: "" };
}

function latencyRatio(target: WindowSummary, baseline: WindowSummary): Measurement {
  const baselineP95Ms = baseline.latencyP95Ms;
  if (baseline.requests === 0 || baselineP95Ms === undefined) {
    return { value: undefined, missing: "no baseline traffic" };
  }
  if (baselineP95Ms <= 0) return { value: undefined, missing: "baseline p95 is 0ms" };
  if (target.latencyP95Ms === undefined) return { value: undefined, missing: "no latency data" };
  return {
    value: target.latencyP95Ms / baselineP95Ms,
    interval: undefined,
    context: `; baseline p95 ${formatNumber(baselineP95Ms)}ms`,
  };
}

function violatedSide(value: number, check: CheckConfig): Side | undefined {
  if (check.max !== undefined && value > check.max) return "max";
  if (check.min !== undefined && value < check.min) return "min";
  return undefined;
}

function isPast(bound: number, side: Side, check: CheckConfig): boolean {
  if (side === "max") return check.max !== undefined && bound > check.max;
  return check.min !== undefined && bound < check.min;
}

function isLatencyClearlyPast(input: EvaluateCheckInput, value: number, side: Side): boolean {
  const { check, minRequests } = input;
  if (input.target.requests < LATENCY_FAST_VOLUME_FACTOR * minRequests) return false;
  if (check.metric === "latencyP95Ratio" && input.baseline.requests < minRequests) return false;
  const threshold = side === "max" ? check.max : check.min;
  if (threshold === undefined) return false;
  const margin = LATENCY_FAST_MARGIN * Math.abs(threshold);
  return side === "max" ? value > threshold + margin : value < threshold - margin;
}

function describeThresholds(check: CheckConfig, violated: Side | undefined): string {
  const unit = isLatency(check.metric) ? "ms" : "";
  if (violated === "max") return `> max ${String(check.max)}${unit}`;
  if (violated === "min") return `< min ${String(check.min)}${unit}`;
  const parts: string[] = [];
  if (check.max !== undefined) parts.push(`<= max ${String(check.max)}${unit}`);
  if (check.min !== undefined) parts.push(`>= min ${String(check.min)}${unit}`);
  return parts.join(" and ");
}

function formatMetric(
  metric: Metric,
  value: number,
  thresholds: readonly (number | undefined)[],
): string {
  return `${formatNumber(value, thresholds)}${isLatency(metric) ? "ms" : ""}`;
}

function isLatency(metric: Metric): boolean {
  return metric === "latencyP50" || metric === "latencyP95" || metric === "latencyP99";
}

function nonNegative(count: number): number {
  return Number.isFinite(count) && count > 0 ? count : 0;
}

function latencyOrUndefined(valueMs: number | undefined): number | undefined {
  return valueMs !== undefined && Number.isFinite(valueMs) && valueMs >= 0 ? valueMs : undefined;
}
