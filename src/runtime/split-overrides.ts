/**
 * Splits that replace a route's split from the file: an operator's weights (`admin`) or a
 * rollout's step (`rollout`). Each remembers the file's split when it was set, so a later
 * config edit that changes the route's split can replace it: the newest deliberate change wins.
 */
import type { Config } from "../config/schema.ts";
import { splitFromConfig } from "../routing/route-table.ts";
import type { SplitEntry } from "../routing/split.ts";
import { sameEntries } from "../routing/split-entries.ts";

export interface SplitOverride {
  readonly entries: readonly SplitEntry[];
  readonly source: "admin" | "rollout";
  readonly setBy: string;
  /** ISO 8601. */
  readonly setAt: string;
  /** The file's split for the route when the override was set. */
  readonly fileSplit: readonly SplitEntry[];
}

export interface DroppedOverride {
  route: string;
  override: SplitOverride;
  reason: string;
}

/**
 * Which overrides survive a new config: the route must still exist, its split in the file must
 * be the one the override was set against, and every upstream it names must still exist.
 */
export function reconcileOverrides(
  overrides: ReadonlyMap<string, SplitOverride>,
  config: Config,
): { kept: Map<string, SplitOverride>; dropped: DroppedOverride[] } {
  const kept = new Map<string, SplitOverride>();
  const dropped: DroppedOverride[] = [];
  const routes = new Map(config.routes.map((route) => [route.name, route]));
  for (const [name, override] of overrides) {
    const route = routes.get(name);
    if (route === undefined) {
      dropped.push({ route: name, override, reason: "the route is no longer in the config" });
      continue;
    }
    if (!sameEntries(splitFromConfig(route), override.fileSplit)) {
      dropped.push({
        route: name,
        override,
        reason: "the config file's split for this route changed",
      });
      continue;
    }
    const missing = override.entries.find((entry) => !(entry.upstream in config.upstreams));
    if (missing !== undefined) {
      dropped.push({
        route: name,
        override,
        reason: `upstream "${missing.upstream}" is no longer in the config`,
      });
      continue;
    }
    kept.set(name, override);
  }
  return { kept, dropped };
}

export function entriesMap(
  overrides: ReadonlyMap<string, SplitOverride>,
): Map<string, readonly SplitEntry[]> {
  const out = new Map<string, readonly SplitEntry[]>();
  for (const [name, override] of overrides) out.set(name, override.entries);
  return out;
}
