/**
 * Fleet mode's writers of runtime state (SPEC 10): an operator's weights and endpoint states
 * and every rollout change become one write of the shared state (shared-state-store.ts), and
 * are in force here once that write succeeded (the document written is applied at once; the
 * other replicas follow it within a second). The SPEC's refusals are checked against the
 * running config first and against the shared state read inside the write, so two replicas
 * never both win. Redis away: 503 SWITCHYARD_FLEET_UNAVAILABLE, and nothing changes.
 */
import { controlError, type ControlError } from "../control/control-api.ts";
import { overrideToPersisted } from "../control/persisted-state.ts";
import { CODE } from "../errors/error-codes.ts";
import type { Logger } from "../log/logger.ts";
import type { Clock } from "../time/clock.ts";
import { splitFromConfig } from "../routing/route-table.ts";
import { entriesToPercent } from "../routing/split-entries.ts";
import type { SplitEntry } from "../routing/split.ts";
import {
  fromPersisted,
  isRunning,
  isSameProgress,
  type PersistedRollout,
} from "../rollout/rollout-state.ts";
import type { CommitResult, RolloutChange, RolloutWriter } from "../rollout/rollout-writer.ts";
import type {
  EndpointStateWrite,
  EndpointStateWriter,
  EndpointStateWriteResult,
} from "../runtime/endpoint-state-write.ts";
import type { Runtime } from "../runtime/runtime.ts";
import type { SplitWrite, SplitWriter, SplitWriteResult } from "../runtime/split-write.ts";
import type { FenceToken } from "./fencing.ts";
import { withEndpointState, withOverride, withRollout } from "./fleet-document-edits.ts";
import type { FleetDocument, FleetDocumentBody } from "./fleet-document.ts";
import type { Mutation, SharedStateStore, UpdateResult } from "./shared-state-store.ts";

export interface FleetWriterOptions {
  readonly store: SharedStateStore;
  /** This replica's id: each event written says which replica wrote it. */
  readonly replica: string;
  readonly runtime: Runtime;
  /** This replica's lease while it leads, for the fence of its decisions. */
  readonly fenceToken: () => FenceToken | undefined;
  /** Applies a document this replica wrote, before the write's caller hears of it. */
  readonly apply: (document: FleetDocument) => void;
  /** A decision of ours was refused by the fence: we no longer lead. */
  readonly onFenced: () => void;
  readonly logger: Logger;
  readonly clock: Clock;
}

/** A refusal found in the shared state, with the record that caused it. */
interface SharedRefusal {
  readonly error: ControlError;
  readonly shared?: PersistedRollout | null;
  /** Not an error: the fleet already runs this rollout (a start from the same config). */
  readonly adopted?: PersistedRollout;
}

export class FleetWriter implements SplitWriter, EndpointStateWriter, RolloutWriter {
  readonly #o: FleetWriterOptions;

  constructor(options: FleetWriterOptions) {
    this.#o = options;
  }

  /** An operator's weights (or their removal). */
  async setSplit(write: SplitWrite): Promise<SplitWriteResult> {
    const { runtime } = this.#o;
    const refused = runtime.splitWriteRefusal(write);
    if (refused !== undefined) return { ok: false, error: refused };
    const override = runtime.overrideOf(write);
    const before = runtime.splitOf(write.route);
    const result = await this.#o.store.update<ControlError>(
      (body) => {
        const rollout = body.rollouts[write.route];
        const phase = typeof rollout === "object" ? rollout.phase : undefined;
        if (typeof phase === "string" && isRunning(phase as PersistedRollout["phase"])) {
          return refusedBy(
            controlError(
              CODE.SWITCHYARD_ROLLOUT_RUNNING,
              `a rollout is ${phase} on route "${write.route}"; pause it first (switchyard rollout ${write.route} pause)`,
            ),
          );
        }
        const persisted = override === null ? null : overrideToPersisted(override);
        return { ok: true, document: withOverride(body, write.route, persisted) };
      },
      {
        type: "weights.changed",
        fields: {
          replica: this.#o.replica,
          route: write.route,
          actor: write.actor,
          source: write.source,
          before: before === undefined ? {} : entriesToPercent(before.entries),
          after: entriesToPercent(override?.entries ?? fileSplitOf(runtime, write.route)),
        },
      },
    );
    const failed = this.#failure(result, "weights");
    if (failed !== undefined) return { ok: false, error: failed };
    const after = runtime.splitOf(write.route);
    return {
      ok: true,
      change: {
        route: write.route,
        before: before?.entries ?? [],
        after: after?.entries ?? [],
        beforeSource: before?.source ?? "file",
        splitSource: after?.source ?? "file",
      },
    };
  }

  async setEndpointState(write: EndpointStateWrite): Promise<EndpointStateWriteResult> {
    const checked = this.#o.runtime.endpointStateWriteRefusal(write);
    if (!checked.ok) return checked;
    const { upstream, url } = checked.change;
    const at = new Date(this.#o.clock.wallNow()).toISOString();
    const result = await this.#o.store.update<ControlError>(
      (body) => ({
        ok: true,
        document: withEndpointState(body, upstream, url, {
          state: write.state,
          setBy: write.actor,
          setAt: at,
        }),
      }),
      {
        type: "endpoint.stateChanged",
        fields: { replica: this.#o.replica, ...checked.change, actor: write.actor },
      },
    );
    const failed = this.#failure(result, "endpoint state");
    return failed === undefined ? checked : { ok: false, error: failed };
  }

  async commit(change: RolloutChange): Promise<CommitResult> {
    const fence = change.isDecision ? this.#o.fenceToken() : undefined;
    if (change.isDecision && fence === undefined) {
      return {
        ok: false,
        error: controlError(CODE.SWITCHYARD_FLEET_FENCED, "this replica does not lead the fleet"),
      };
    }
    const override = this.#rolloutOverride(change);
    let refusal: SharedRefusal | undefined;
    const result = await this.#o.store.update<ControlError>(
      (body) => {
        refusal = sharedRefusal(body, change);
        if (refusal !== undefined) return refusedBy(refusal.error);
        const withSplit =
          override === undefined ? body : withOverride(body, change.route, override);
        return { ok: true, document: withRollout(withSplit, change.route, { ...change.record }) };
      },
      { type: change.event.type, fields: { replica: this.#o.replica, ...change.event.fields } },
      fence,
    );
    if (refusal?.adopted !== undefined && !result.ok && result.reason === "refused") {
      return { ok: true, adopted: refusal.adopted };
    }
    const failed = this.#failure(result, "rollout");
    if (failed === undefined) return { ok: true };
    return refusal?.shared === undefined
      ? { ok: false, error: failed }
      : { ok: false, error: failed, shared: refusal.shared };
  }

  /** The shared record stays: other replicas may still run this rollout from their config. */
  forget(): void {}

  #rolloutOverride(change: RolloutChange) {
    if (change.splitBp === undefined) return undefined;
    const override = this.#o.runtime.overrideOf({
      route: change.route,
      splitBp: change.splitBp,
      source: "rollout",
      actor: change.actor,
    });
    return override === null ? null : overrideToPersisted(override);
  }

  /** The error of a failed update, or undefined once it landed and is applied here. */
  #failure(result: UpdateResult<ControlError>, what: string): ControlError | undefined {
    if (result.ok) {
      const written = this.#o.store.lastKnown;
      if (written !== undefined) this.#o.apply(written);
      return undefined;
    }
    switch (result.reason) {
      case "refused":
        return result.error;
      case "fenced":
        this.#o.onFenced();
        return controlError(
          CODE.SWITCHYARD_FLEET_FENCED,
          "this replica no longer leads the fleet: its decision was refused",
        );
      case "conflict":
        return controlError(
          CODE.SWITCHYARD_FLEET_CONFLICT,
          `other replicas kept changing the fleet's state; the ${what} change was not made`,
        );
      case "corrupt":
        return controlError(
          CODE.SWITCHYARD_FLEET_UNAVAILABLE,
          `the fleet's shared state in Redis is corrupt (${result.message}); nothing was changed`,
        );
      case "unavailable":
        this.#o.logger.warn({ err: result.error, what }, "fleet: a shared state write failed");
        return controlError(
          CODE.SWITCHYARD_FLEET_UNAVAILABLE,
          result.outcomeUnknown
            ? `Redis did not answer in time: the ${what} change may still land; check status before retrying`
            : `Redis cannot be reached: the ${what} change was not made; the split in force stays (?local=true changes this replica only)`,
        );
    }
  }
}

function fileSplitOf(runtime: Runtime, route: string): readonly SplitEntry[] {
  const routeConfig = runtime.current.config.routes.find((candidate) => candidate.name === route);
  return routeConfig === undefined ? [] : splitFromConfig(routeConfig);
}

function refusedBy(error: ControlError): Mutation<ControlError> {
  return { ok: false, error };
}

/** Why the shared state refuses a rollout change, read inside the write. */
function sharedRefusal(body: FleetDocumentBody, change: RolloutChange): SharedRefusal | undefined {
  const raw = body.rollouts[change.route];
  const shared = raw === undefined ? undefined : fromPersisted(raw);
  if (change.basis !== undefined) {
    if (shared !== undefined && isSameProgress(shared, change.basis)) return undefined;
    return {
      error: controlError(
        CODE.SWITCHYARD_FLEET_CONFLICT,
        `the rollout on route "${change.route}" changed on another replica; this replica now shows it: retry`,
      ),
      shared: shared ?? null,
    };
  }
  if (shared === undefined) return undefined;
  if (change.isFromFile && shared.policyHash === change.record.policyHash) {
    return { error: alreadyRunning(change.route, shared), adopted: shared };
  }
  const isUnderWay = isRunning(shared.phase) || shared.phase === "paused";
  if (!change.isFromFile && isUnderWay) {
    return { error: alreadyRunning(change.route, shared), shared };
  }
  return undefined;
}

function alreadyRunning(route: string, shared: PersistedRollout): ControlError {
  return controlError(
    CODE.SWITCHYARD_ROLLOUT_PHASE,
    `a rollout is already ${shared.phase} on route "${route}" in the fleet; abort it first (switchyard rollout ${route} abort)`,
  );
}
