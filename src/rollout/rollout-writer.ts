/**
 * How a rollout change is committed: the split it needs (when it moves traffic) and the
 * rollout's record after it, together. A process on its own writes the split through the
 * runtime and then saves the record; in fleet mode both go to the shared state in one write
 * (fleet-writer.ts), fenced by the lease when it is the leader's decision. The controller
 * changes its own state, reports and sends webhooks only once `commit` succeeded.
 */
import type { Actor, ControlError } from "../control/control-api.ts";
import type { SplitEntry } from "../routing/split.ts";
import type { SplitWriter } from "../runtime/split-write.ts";
import type { PersistedRollout } from "./rollout-state.ts";
import type { RolloutPersistence } from "./rollout-reporter.ts";

export interface RolloutChange {
  readonly route: string;
  /** The split to put in force with the change; undefined when the split does not move. */
  readonly splitBp: readonly SplitEntry[] | undefined;
  /** The rollout after the change. */
  readonly record: PersistedRollout;
  /**
   * The rollout the change was decided on; undefined for a new rollout. In fleet mode the
   * write is refused when the shared record moved on meanwhile (another replica's verb).
   */
  readonly basis: PersistedRollout | undefined;
  /** A new rollout started because the config has it (not by an operator's `start`). */
  readonly isFromFile: boolean;
  readonly actor: Actor;
  /** The evaluator's decision: in fleet mode only the leader's, under its lease, lands. */
  readonly isDecision: boolean;
  /** The event the change is logged as (fleet mode writes it with the change). */
  readonly event: { readonly type: string; readonly fields: Readonly<Record<string, unknown>> };
}

export type CommitResult =
  | {
      readonly ok: true;
      /**
       * Nothing was written: the fleet already runs this very rollout (another replica started
       * it from the same config), and this is its record, for the controller to take over.
       */
      readonly adopted?: PersistedRollout;
    }
  | {
      readonly ok: false;
      readonly error: ControlError;
      /**
       * The shared record found instead of the basis (fleet mode): the controller takes it
       * over, so it does not decide again on what another replica already changed.
       */
      readonly shared?: PersistedRollout | null;
    };

export interface RolloutWriter {
  commit(change: RolloutChange): Promise<CommitResult>;
  /** The rollout block left this process's config: forget its saved progress. */
  forget(route: string): void;
}

/** A process on its own: the runtime's split writer, then the state file. */
export class LocalRolloutWriter implements RolloutWriter {
  readonly #splits: SplitWriter;
  readonly #persistence: RolloutPersistence;

  constructor(splits: SplitWriter, persistence: RolloutPersistence) {
    this.#splits = splits;
    this.#persistence = persistence;
  }

  async commit(change: RolloutChange): Promise<CommitResult> {
    if (change.splitBp !== undefined) {
      const result = await this.#splits.setSplit({
        route: change.route,
        splitBp: change.splitBp,
        source: "rollout",
        actor: change.actor,
      });
      if (!result.ok) return result;
    }
    this.#persistence.setRollout(change.route, { ...change.record });
    return { ok: true };
  }

  forget(route: string): void {
    this.#persistence.setRollout(route, null);
  }
}
