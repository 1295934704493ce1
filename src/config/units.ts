/** Parsing of the config file's unit-bearing values: durations and percentages. */

const DURATION_PATTERN = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/;
const DURATION_UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** "250ms" | "5s" | "1m" | "1h" -> milliseconds, or undefined when the text is not a duration. */
export function parseDurationMs(text: string): number | undefined {
  const found = DURATION_PATTERN.exec(text.trim());
  if (found === null) return undefined;
  const amount = Number(found[1]);
  const unitMs = DURATION_UNIT_MS[found[2] ?? ""];
  if (unitMs === undefined || !Number.isFinite(amount)) return undefined;
  return Math.round(amount * unitMs);
}

/** Basis points in one percent: weights are held as integers in 0..10000. */
export const BP_PER_PERCENT = 100;
export const FULL_SPLIT_BP = 100 * BP_PER_PERCENT;

/** A percentage with at most two decimals -> basis points, or undefined when finer than 0.01. */
export function percentToBp(percent: number): number | undefined {
  const bp = Math.round(percent * BP_PER_PERCENT);
  if (Math.abs(bp - percent * BP_PER_PERCENT) > 1e-6) return undefined;
  return bp;
}

export function bpToPercent(bp: number): number {
  return bp / BP_PER_PERCENT;
}
