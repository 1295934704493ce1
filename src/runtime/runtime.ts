/**
 * The owner of runtime state: the snapshot the data path reads (swapped in one step), the split
 * overrides (an operator's weights, a rollout's step), the operators' endpoint states (drain,
 * maintenance) and the process's lifecycle phase. Everything that changes a split goes through
 * `setSplit` (admin, rollout) or `applyConfig` (file), and every change of a route's split is
 * an event with the old split, the new one and what made it (SPEC 6); endpoint states change
 * through `setEndpointState`, each change an event too (SPEC 12).
 */
import { controlError, type Actor, type ControlError } from "../control/control-api.ts";
import type { Config } from "../config/schema.ts";
import { FULL_SPLIT_BP } from "../config/units.ts";
import { CODE } from "../errors/error-codes.ts";
import type { EventLog } from "../events/event-log.ts";
import type { Logger } from "../log/logger.ts";
import { splitFromConfig } from "../routing/route-table.ts";
import { entriesToPercent, sameEntries } from "../routing/split-entries.ts";
import type { SplitEntry } from "../routing/split.ts";
import type { Clock } from "../time/clock.ts";
import type { Endpoint } from "../upstream/endpoint.ts";
import type { UpstreamMap } from "../upstream/upstream-set.ts";
import type {
  EndpointStateWrite,
  EndpointStateWriter,
  EndpointStateWriteResult,
} from "./endpoint-state-write.ts";
import { EndpointStateTable, type EndpointStates } from "./endpoint-states.ts";
import { buildSnapshot, type Snapshot } from "./snapshot.ts";
import { entriesMap, reconcileOverrides, type SplitOverride } from "./split-overrides.ts";
import type {
  SplitChange,
  SplitInForce,
  SplitReader,
  SplitSource,
  SplitWrite,
  SplitWriter,
  SplitWriteResult,
} from "./split-write.ts";

/**
 * notReady: starting; serving; draining: not ready for load balancers but still serving
 * (drainDelay); closing: the listener is closed, every answer is its connection's last.
 */
export type LifecyclePhase = "notReady" | "serving" | "draining" | "closing";

export interface RuntimeHooks {
  /** A new snapshot is in place (weights, endpoints, routes may have changed). */
  snapshotSwapped?(snapshot: Snapshot, previous: Snapshot): void;
  /** The overrides changed: persist them. */
  overridesChanged?(overrides: ReadonlyMap<string, SplitOverride>): void;
  /** The endpoint states changed (a write, or states dropped by a config): persist them. */
  endpointStatesChanged?(states: EndpointStates): void;
  /** An operator changed this endpoint's state (health checks pause in maintenance). */
  endpointStateChanged?(endpoint: Endpoint): void;
}

export interface RuntimeOptions {
  config: Config;
  configHash: string;
  upstreams: UpstreamMap;
  /** Overrides saved by an earlier run; those that no longer fit the config are dropped. */
  overrides?: ReadonlyMap<string, SplitOverride>;
  /** Endpoint states saved by an earlier run; those whose URL is gone are dropped. */
  endpointStates?: EndpointStates;
  events: EventLog;
  logger: Logger;
  clock: Clock;
  hooks?: RuntimeHooks;
}

export class Runtime implements SplitWriter, SplitReader, EndpointStateWriter {
  phase: LifecyclePhase = "notReady";
  private snapshot: Snapshot;
  private overridesByRoute: Map<string, SplitOverride>;
  private readonly endpointStateTable: EndpointStateTable;
  private readonly events: EventLog;
  private readonly logger: Logger;
  private readonly clock: Clock;
  private readonly hooks: RuntimeHooks;

  constructor(options: RuntimeOptions) {
    this.events = options.events;
    this.logger = options.logger;
    this.clock = options.clock;
    this.hooks = options.hooks ?? {};
    this.endpointStateTable = new EndpointStateTable({
      events: this.events,
      logger: this.logger,
      clock: this.clock,
    });
    // Before anything reads the endpoints (health checks skip those in maintenance).
    const isAnyStateDropped = this.endpointStateTable.reconcile(
      options.endpointStates ?? new Map(),
      options.config,
      options.upstreams,
      "startup",
    );
    if (isAnyStateDropped) this.hooks.endpointStatesChanged?.(this.endpointStateTable.states);
    const { kept, dropped } = reconcileOverrides(options.overrides ?? new Map(), options.config);
    this.overridesByRoute = kept;
    this.snapshot = buildSnapshot(
      options.config,
      options.configHash,
      options.upstreams,
      entriesMap(kept),
    );
    for (const drop of dropped) this.reportDroppedOverride(drop.route, drop.reason, "startup");
    // The state file must forget them too, or a later restart would bring them back.
    if (dropped.length > 0) this.hooks.overridesChanged?.(kept);
  }

  /** The snapshot requests start with; in-flight requests keep the one they started with. */
  get current(): Snapshot {
    return this.snapshot;
  }

  /** The listener has closed (drain): answers carry Connection: close. */
  get isClosing(): boolean {
    return this.phase === "closing";
  }

  get overrides(): ReadonlyMap<string, SplitOverride> {
    return this.overridesByRoute;
  }

  /** Endpoints an operator drained or put in maintenance, by upstream and URL. */
  get endpointStates(): EndpointStates {
    return this.endpointStateTable.states;
  }

  splitOf(route: string): SplitInForce | undefined {
    const compiled = this.snapshot.routes.get(route);
    if (compiled === undefined) return undefined;
    return { entries: compiled.split.entries, source: this.splitSourceOf(route) };
  }

  splitSourceOf(route: string): SplitSource {
    return this.overridesByRoute.get(route)?.source ?? "file";
  }

  /** Swaps a snapshot in as it is (tests that set a split directly). */
  swap(next: Snapshot): Snapshot {
    const previous = this.snapshot;
    this.snapshot = next;
    this.hooks.snapshotSwapped?.(next, previous);
    return previous;
  }

  setSplit(write: SplitWrite): Promise<SplitWriteResult> {
    return Promise.resolve(this.writeSplit(write));
  }

  /** In force for the next request once it resolves; requests in flight finish. */
  setEndpointState(write: EndpointStateWrite): Promise<EndpointStateWriteResult> {
    const { result, changed } = this.endpointStateTable.write(write, this.snapshot.upstreams);
    if (changed !== undefined) {
      this.hooks.endpointStateChanged?.(changed);
      this.hooks.endpointStatesChanged?.(this.endpointStateTable.states);
    }
    return Promise.resolve(result);
  }

  /**
   * A reloaded config (built off to the side, upstreams included) replaces the running one:
   * overrides set against a split the file no longer has are dropped, and each route whose
   * split changed is reported with source "file".
   */
  applyConfig(config: Config, configHash: string, upstreams: UpstreamMap, actor: Actor): void {
    const { kept, dropped } = reconcileOverrides(this.overridesByRoute, config);
    const previousSources = this.sourcesByRoute();
    this.overridesByRoute = kept;
    // The states go onto the new endpoints before the new snapshot serves.
    const states = this.endpointStateTable;
    const isAnyStateDropped = states.reconcile(states.states, config, upstreams, actor);
    const previous = this.swapTo(buildSnapshot(config, configHash, upstreams, entriesMap(kept)));
    if (isAnyStateDropped) this.hooks.endpointStatesChanged?.(states.states);
    for (const drop of dropped) this.reportDroppedOverride(drop.route, drop.reason, actor);
    if (dropped.length > 0) this.hooks.overridesChanged?.(kept);
    this.reportSplitChanges(previous, previousSources, actor, () => "file");
  }

  /**
   * Fleet mode: the shared state's overrides and endpoint states replace this replica's, in
   * one snapshot swap. Those that do not fit this replica's config are left out here only (the
   * config file is per replica); each route whose split changed is reported.
   */
  applyShared(
    overrides: ReadonlyMap<string, SplitOverride>,
    endpointStates: EndpointStates,
    actor: Actor,
  ): void {
    const config = this.snapshot.config;
    const { kept } = reconcileOverrides(overrides, config);
    const previousSources = this.sourcesByRoute();
    this.overridesByRoute = kept;
    const changed = this.endpointStateTable.follow(endpointStates, config, this.snapshot.upstreams);
    const previous = this.swapTo(
      buildSnapshot(config, this.snapshot.configHash, this.snapshot.upstreams, entriesMap(kept)),
    );
    this.hooks.overridesChanged?.(kept);
    this.hooks.endpointStatesChanged?.(this.endpointStateTable.states);
    for (const endpoint of changed) this.hooks.endpointStateChanged?.(endpoint);
    this.reportSplitChanges(previous, previousSources, actor, (route) => this.splitSourceOf(route));
  }

  /**
   * Why `write` cannot apply to the running config, or undefined when it can: what a shared
   * write checks before it goes to the fleet.
   */
  splitWriteRefusal(write: SplitWrite): ControlError | undefined {
    const snapshot = this.snapshot;
    const routeConfig = snapshot.config.routes.find((route) => route.name === write.route);
    if (routeConfig === undefined || snapshot.routes.get(write.route) === undefined) {
      return controlError(CODE.SWITCHYARD_UNKNOWN_ROUTE, `no route named "${write.route}"`);
    }
    const problem = write.splitBp === null ? undefined : splitProblem(write.splitBp, snapshot);
    return problem === undefined
      ? undefined
      : controlError(CODE.SWITCHYARD_INVALID_WEIGHTS, problem);
  }

  /** The override `write` sets (null when it drops the route's), stamped now. */
  overrideOf(write: SplitWrite): SplitOverride | null {
    const routeConfig = this.snapshot.config.routes.find((route) => route.name === write.route);
    if (write.splitBp === null || routeConfig === undefined) return null;
    return {
      entries: write.splitBp,
      source: write.source,
      setBy: write.actor,
      setAt: new Date(this.clock.wallNow()).toISOString(),
      fileSplit: splitFromConfig(routeConfig),
    };
  }

  /** Checks an endpoint state write against the running upstreams without applying it. */
  endpointStateWriteRefusal(write: EndpointStateWrite): EndpointStateWriteResult {
    return this.endpointStateTable.check(write, this.snapshot.upstreams);
  }

  private sourcesByRoute(): Map<string, SplitSource> {
    return new Map(
      this.snapshot.routes.routes.map((route) => [route.name, this.splitSourceOf(route.name)]),
    );
  }

  /** Reports each route whose split or its source differs from `previous`'s. */
  private reportSplitChanges(
    previous: Snapshot,
    previousSources: ReadonlyMap<string, SplitSource>,
    actor: Actor,
    sourceOf: (route: string) => SplitSource,
  ): void {
    for (const route of this.snapshot.routes.routes) {
      const before = previous.routes.get(route.name)?.split.entries;
      const beforeSource = previousSources.get(route.name);
      if (before === undefined || beforeSource === undefined) continue;
      const splitSource = this.splitSourceOf(route.name);
      if (sameEntries(before, route.split.entries) && beforeSource === splitSource) continue;
      this.reportChange(
        { route: route.name, before, after: route.split.entries, beforeSource, splitSource },
        actor,
        sourceOf(route.name),
      );
    }
  }

  private writeSplit(write: SplitWrite): SplitWriteResult {
    const refused = this.splitWriteRefusal(write);
    if (refused !== undefined) return { ok: false, error: refused };
    const snapshot = this.snapshot;
    const before = snapshot.routes.get(write.route)?.split.entries ?? [];
    const beforeSource = this.splitSourceOf(write.route);
    const override = this.overrideOf(write);
    if (override === null) {
      if (!this.overridesByRoute.delete(write.route)) {
        return {
          ok: true,
          change: { route: write.route, before, after: before, beforeSource, splitSource: "file" },
        };
      }
    } else {
      this.overridesByRoute.set(write.route, override);
    }
    const routeConfig = snapshot.config.routes.find((route) => route.name === write.route);
    const fileSplit = routeConfig === undefined ? before : splitFromConfig(routeConfig);
    this.swapTo(
      buildSnapshot(
        snapshot.config,
        snapshot.configHash,
        snapshot.upstreams,
        entriesMap(this.overridesByRoute),
      ),
    );
    const change: SplitChange = {
      route: write.route,
      before,
      after: write.splitBp ?? fileSplit,
      beforeSource,
      splitSource: this.splitSourceOf(write.route),
    };
    this.reportChange(change, write.actor, write.source);
    this.hooks.overridesChanged?.(this.overridesByRoute);
    return { ok: true, change };
  }

  private swapTo(next: Snapshot): Snapshot {
    const previous = this.snapshot;
    this.snapshot = next;
    this.hooks.snapshotSwapped?.(next, previous);
    return previous;
  }

  private reportChange(change: SplitChange, actor: Actor, source: SplitSource): void {
    const before = entriesToPercent(change.before);
    const after = entriesToPercent(change.after);
    const { route, beforeSource, splitSource } = change;
    this.logger.info(
      { route, actor, source, before, after, beforeSource, splitSource },
      splitSource === "file" && source !== "file" ? "weight override cleared" : "weights changed",
    );
    this.events.append("weights.changed", { route, actor, source, before, after, splitSource });
  }

  private reportDroppedOverride(route: string, reason: string, actor: Actor): void {
    this.logger.info({ route, reason, actor }, "weight override dropped; the file's split applies");
    this.events.append("weights.overrideDropped", { route, reason, actor });
  }
}

/** Why a typed split cannot apply to this snapshot, or undefined when it can. */
function splitProblem(entries: readonly SplitEntry[], snapshot: Snapshot): string | undefined {
  let sumBp = 0;
  for (const entry of entries) {
    if (!(entry.upstream in snapshot.config.upstreams))
      return `unknown upstream "${entry.upstream}"`;
    if (!Number.isInteger(entry.weightBp) || entry.weightBp < 0) {
      return `the weight of "${entry.upstream}" must be a whole number of basis points`;
    }
    sumBp += entry.weightBp;
  }
  return sumBp === FULL_SPLIT_BP ? undefined : `the weights must sum to 100, not ${sumBp / 100}`;
}
