/** Reading and comparing splits as entries (upstream, weight in basis points). */
import type { SplitEntry } from "./split.ts";

export function entriesToPercent(entries: readonly SplitEntry[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const entry of entries) out[entry.upstream] = entry.weightBp / 100;
  return out;
}

export function sameEntries(a: readonly SplitEntry[], b: readonly SplitEntry[]): boolean {
  if (a.length !== b.length) return false;
  const byName = new Map(a.map((e) => [e.upstream, e.weightBp]));
  return b.every((e) => byName.get(e.upstream) === e.weightBp);
}
