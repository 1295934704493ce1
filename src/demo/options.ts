/** The demo's command line: `npm run demo -- [flags]`, checked into DemoOptions. */
import { parseArgs } from "node:util";
import { parseDurationMs } from "../config/units.ts";

export const EXIT_USAGE = 2;
export const USAGE =
  "usage: npm run demo -- [--once] [--bad] [--fleet] [--no-rollout] [--requests N] " +
  "[--v2-error-rate 0..1] [--v2-latency DURATION] [--log-level LEVEL]";

const LOG_LEVELS = ["trace", "debug", "info", "warn", "error", "fatal", "silent"];

/** `--bad`: v2's error rate, enough for the fast rollback to act on. */
const BAD_ERROR_RATE = 0.2;

export interface DemoOptions {
  isOnce: boolean;
  /** `--fleet`: two replicas sharing one Redis instead of one switchyard. */
  isFleet: boolean;
  hasRollout: boolean;
  requestsPerKind: number;
  v2ErrorRate: number;
  v2LatencyMs: number;
  logLevel: string;
}

/** The options, or a one-sentence reason they are wrong. */
export function parseOptions(args: string[]): DemoOptions | string {
  let values;
  try {
    ({ values } = parseArgs({
      args,
      options: {
        once: { type: "boolean", default: false },
        bad: { type: "boolean", default: false },
        fleet: { type: "boolean", default: false },
        "no-rollout": { type: "boolean", default: false },
        requests: { type: "string", default: "1000" },
        "v2-error-rate": { type: "string", default: "0" },
        "v2-latency": { type: "string", default: "0ms" },
        "log-level": { type: "string", default: "error" },
      },
    }));
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
  const requestsPerKind = Number(values.requests);
  const v2ErrorRate =
    values.bad && values["v2-error-rate"] === "0"
      ? BAD_ERROR_RATE
      : Number(values["v2-error-rate"]);
  const v2LatencyMs = parseDurationMs(values["v2-latency"]);
  const logLevel = values["log-level"];
  if (!Number.isInteger(requestsPerKind) || requestsPerKind <= 0) {
    return `--requests takes a positive integer, got "${values.requests}"`;
  }
  if (values["v2-error-rate"].trim() === "" || !(v2ErrorRate >= 0 && v2ErrorRate <= 1)) {
    return `--v2-error-rate takes a number from 0 to 1, got "${values["v2-error-rate"]}"`;
  }
  if (v2LatencyMs === undefined) {
    return `--v2-latency takes a duration like 50ms, got "${values["v2-latency"]}"`;
  }
  if (!LOG_LEVELS.includes(logLevel)) {
    return `--log-level takes one of ${LOG_LEVELS.join(", ")}, got "${logLevel}"`;
  }
  return {
    isOnce: values.once,
    isFleet: values.fleet,
    hasRollout: !values["no-rollout"],
    requestsPerKind,
    v2ErrorRate,
    v2LatencyMs,
    logLevel,
  };
}
