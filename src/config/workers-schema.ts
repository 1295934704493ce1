/**
 * `workers` (SPEC 11): how many processes serve listen.proxy together, or `auto` for one per
 * CPU the cgroup's quota allows. The config keeps `auto` as written; it is resolved when the
 * process starts (src/workers/worker-count.ts), so the config stays a function of the file
 * and the environment, the same on every machine.
 */
import * as z from "zod";
import { describeValue } from "./schema-issues.ts";

/**
 * Each worker is a whole Node process (tens of MB, its own connection pools), and an
 * endpoint's maxConnections (256 by default) is shared out between workers: at 64 each keeps
 * 4. A larger number is far more likely a typo than a machine that would gain from it.
 */
export const MAX_WORKERS = 64;

export const DEFAULT_WORKERS = 1;

export type WorkersSetting = number | "auto";

export const workers = z
  .unknown()
  .transform((value, ctx): WorkersSetting => {
    if (isWorkersSetting(value)) return value;
    ctx.addIssue({ code: "custom", message: allowedValues(value) });
    return z.NEVER;
  })
  .default(DEFAULT_WORKERS);

function isWorkersSetting(value: unknown): value is WorkersSetting {
  if (value === "auto") return true;
  return Number.isInteger(value) && Number(value) >= 1 && Number(value) <= MAX_WORKERS;
}

function allowedValues(value: unknown): string {
  // `${VAR}` always gives text: say so rather than leave "4" looking like a number.
  const asText =
    typeof value === "string" && /^\d+$/.test(value)
      ? " (text, not a number: write it without quotes; a ${VAR} always gives text)"
      : "";
  return `must be a whole number from 1 to ${MAX_WORKERS}, or "auto" (one per CPU the cgroup allows); got ${describeValue(value)}${asText}`;
}
