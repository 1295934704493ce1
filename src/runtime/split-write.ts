/**
 * A change of one route's split, as every writer (an operator through the admin API, a
 * rollout's step, a config file edit) hands it to the runtime, and the result that tells the
 * writer whether it is in force. Writers commit their own state only on an ok result: the
 * write may be refused, and in fleet mode it is a write to shared state that can fail.
 */
import type { Actor, ControlError } from "../control/control-api.ts";
import type { SplitEntry } from "../routing/split.ts";

export type SplitSource = "file" | "admin" | "rollout";

export interface SplitWrite {
  route: string;
  /** The new split in basis points; null drops the override (the file's split applies). */
  splitBp: readonly SplitEntry[] | null;
  source: "admin" | "rollout";
  actor: Actor;
}

/** What changed: the route's effective split before and after, and where each came from. */
export interface SplitChange {
  route: string;
  before: readonly SplitEntry[];
  after: readonly SplitEntry[];
  beforeSource: SplitSource;
  /** Where the split in force now comes from. */
  splitSource: SplitSource;
}

export type SplitWriteResult =
  { ok: true; change: SplitChange } | { ok: false; error: ControlError };

/** The one method that changes a split; async because a shared store may stand behind it. */
export interface SplitWriter {
  setSplit(write: SplitWrite): Promise<SplitWriteResult>;
}

/** The split in force on a route and where it comes from. */
export interface SplitInForce {
  entries: readonly SplitEntry[];
  source: SplitSource;
}

export interface SplitReader {
  /** undefined for a route the running config does not have. */
  splitOf(route: string): SplitInForce | undefined;
}
