import { expect } from "vitest";
import type { RolloutConfig } from "../../../src/config/schema.ts";
import type {
  CheckConfig,
  Decision,
  StatsSource,
  WindowSummary,
} from "../../../src/rollout/rollout-types.ts";

export const MINUTE_MS = 60_000;
export const INTERVAL_MS = 5 * MINUTE_MS;

export interface Latency {
  p50?: number;
  p95?: number;
  p99?: number;
}

/** A window with `requests` requests of which `failures` failed. */
export function win(requests: number, failures = 0, latency: Latency = {}): WindowSummary {
  const hasTraffic = requests > 0;
  return {
    requests,
    failures,
    errorRate: hasTraffic ? failures / requests : 0,
    latencyP50Ms: hasTraffic ? (latency.p50 ?? 50) : undefined,
    latencyP95Ms: hasTraffic ? (latency.p95 ?? 100) : undefined,
    latencyP99Ms: hasTraffic ? (latency.p99 ?? 150) : undefined,
  };
}

export const EMPTY = win(0);

export interface FakeStats extends StatsSource {
  /** Every (upstream, window) pair asked for, in order. */
  calls: string[];
}

/**
 * A plain StatsSource: `windows["canary"]` answers every window length of canary,
 * `windows["canary@120000"]` one length only; anything else had no traffic.
 */
export function fakeStats(windows: Record<string, WindowSummary>): FakeStats {
  const calls: string[] = [];
  return {
    calls,
    summarize(upstream, windowMs) {
      calls.push(`${upstream}@${windowMs}`);
      return windows[`${upstream}@${windowMs}`] ?? windows[upstream] ?? EMPTY;
    },
  };
}

export function policy(overrides: Partial<RolloutConfig> = {}): RolloutConfig {
  return {
    target: "canary",
    baseline: "stable",
    steps: [5, 10, 25, 50, 100],
    interval: INTERVAL_MS,
    minRequests: 200,
    failureLimit: 2,
    checks: [{ metric: "errorRate", max: 0.05, action: "rollback" }],
    approvalBefore: [100],
    webhooks: [],
    ...overrides,
  };
}

export function check(
  metric: CheckConfig["metric"],
  limits: { max?: number; min?: number; window?: number },
  action: CheckConfig["action"] = "rollback",
): CheckConfig {
  return { metric, ...limits, action };
}

/** Every number a decision carries is finite: no NaN or Infinity reaches a log or a webhook. */
export function expectAllFinite(decision: Decision): void {
  for (const [key, value] of Object.entries(decision.metrics)) {
    if (value !== undefined) expect(Number.isFinite(value), `metrics.${key} = ${value}`).toBe(true);
  }
  for (const result of decision.checks) {
    for (const field of ["windowMs", "requests", "value", "max", "min", "bound"] as const) {
      const value = result[field];
      if (value !== undefined) {
        expect(Number.isFinite(value), `${result.key}.${field} = ${value}`).toBe(true);
      }
    }
    expect(result.reason).not.toMatch(/NaN|Infinity|undefined/);
  }
  expect(decision.reason).not.toMatch(/NaN|Infinity|undefined/);
}
