/**
 * Validates a weights change from the admin API: `{"stable": 90, "canary": 10}` as
 * percentages with at most two decimals, upstreams that exist, summing to exactly 100.
 * Every problem is reported with its field, like a config error.
 */
import { FULL_SPLIT_BP, percentToBp } from "../config/units.ts";
import type { SplitEntry } from "../routing/split.ts";

export type WeightsInput =
  { ok: true; entries: SplitEntry[] } | { ok: false; fields: Record<string, string> };

export function parseWeightsInput(
  weights: unknown,
  knownUpstreams: ReadonlySet<string>,
  orderHint: readonly string[],
): WeightsInput {
  const fields: Record<string, string> = {};
  if (typeof weights !== "object" || weights === null || Array.isArray(weights)) {
    return {
      ok: false,
      fields: { weights: 'must be an object like {"stable": 90, "canary": 10}' },
    };
  }
  const byName = new Map<string, number>();
  for (const [name, value] of Object.entries(weights as Record<string, unknown>)) {
    const field = `weights.${name}`;
    if (!knownUpstreams.has(name)) {
      fields[field] = `unknown upstream "${name}" (known: ${[...knownUpstreams].join(", ")})`;
      continue;
    }
    if (typeof value !== "number" || !Number.isFinite(value)) {
      fields[field] = "must be a number";
      continue;
    }
    if (value < 0 || value > 100) {
      fields[field] = "must be between 0 and 100";
      continue;
    }
    const bp = percentToBp(value);
    if (bp === undefined) {
      fields[field] = `${value} has more than two decimals`;
      continue;
    }
    byName.set(name, bp);
  }
  if (Object.keys(fields).length > 0) return { ok: false, fields };
  if (byName.size === 0) return { ok: false, fields: { weights: "needs at least one upstream" } };
  let sumBp = 0;
  for (const bp of byName.values()) sumBp += bp;
  if (sumBp !== FULL_SPLIT_BP) {
    return { ok: false, fields: { weights: `must sum to 100, not ${sumBp / 100}` } };
  }
  // The route's own order first, so the split reads the same way as in the file.
  const ordered = [
    ...orderHint.filter((name) => byName.has(name)),
    ...[...byName.keys()].filter((name) => !orderHint.includes(name)),
  ];
  return {
    ok: true,
    entries: ordered.map((upstream) => ({ upstream, weightBp: byName.get(upstream) ?? 0 })),
  };
}
