/**
 * An immutable view of everything the data path needs for one request: the validated config,
 * the compiled route table and the upstreams. A reload or a weight change builds a new
 * Snapshot off to the side; the Runtime swaps it in one assignment, and a request in flight
 * keeps the snapshot it started with.
 */
import type { Config } from "../config/schema.ts";
import { compileRouteTable, type RouteTable } from "../routing/route-table.ts";
import type { SplitEntry } from "../routing/split.ts";
import type { UpstreamMap } from "../upstream/upstream-set.ts";

export interface Snapshot {
  readonly config: Config;
  readonly configHash: string;
  readonly routes: RouteTable;
  readonly upstreams: UpstreamMap;
  readonly isForwardedTrusted: boolean;
}

export function buildSnapshot(
  config: Config,
  configHash: string,
  upstreams: UpstreamMap,
  splitOverrides?: ReadonlyMap<string, readonly SplitEntry[]>,
): Snapshot {
  return Object.freeze({
    config,
    configHash,
    routes: compileRouteTable(config, splitOverrides),
    upstreams,
    isForwardedTrusted: config.forwarded.trust,
  });
}
