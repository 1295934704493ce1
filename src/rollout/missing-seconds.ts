/**
 * Incomplete fleet windows (SPEC 10): which members' seconds a decision lacked, merged over
 * every window it read, and the words for it ("r2 missed 7 of 300 s").
 */
import { formatCount } from "./decision-text.ts";
import type { MissingSeconds, WindowSummary } from "./rollout-types.ts";

/** Per member, the window where it missed the most seconds; empty when all were complete. */
export function missingIn(summaries: readonly WindowSummary[]): MissingSeconds[] {
  const worst = new Map<string, MissingSeconds>();
  for (const summary of summaries) {
    for (const gap of summary.missing ?? []) {
      if (!(gap.seconds > 0)) continue;
      const known = worst.get(gap.replica);
      if (known === undefined || gap.seconds > known.seconds) worst.set(gap.replica, gap);
    }
  }
  return [...worst.values()].sort((a, b) => (a.replica < b.replica ? -1 : 1));
}

/** "r2 missed 7 of 300 s and r3 missed 1 of 300 s". */
export function describeMissing(missing: readonly MissingSeconds[]): string {
  return missing
    .map((gap) => `${gap.replica} missed ${formatCount(gap.seconds)} of ${formatCount(gap.of)} s`)
    .join(" and ");
}
