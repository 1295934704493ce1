/**
 * The control plane: everything that changes what the data path sees goes through here, and
 * each change is built off to the side and swapped in one step (Runtime.swap). It reloads the
 * config file (watch, SIGHUP, admin API), applies and drops weight overrides, keeps the last
 * config error for status, and reports every change to the event log, the logs and its hooks
 * (metrics, state file).
 */
import { loadConfigFile, formatProblem } from "../config/load.ts";
import type { Config } from "../config/schema.ts";
import type { EventLog, LoggedEvent } from "../events/event-log.ts";
import type { Logger } from "../log/logger.ts";
import type { SplitEntry } from "../routing/split.ts";
import type { Runtime } from "../runtime/runtime.ts";
import { buildSnapshot, type Snapshot } from "../runtime/snapshot.ts";
import type { Clock } from "../time/clock.ts";
import type { HealthChecker } from "../upstream/health-checker.ts";
import { buildUpstreams, type UpstreamDeps } from "../upstream/upstream-set.ts";
import type {
  Actor,
  ConfigError,
  ControlApi,
  ControlResult,
  ReloadOutcome,
  RolloutStatus,
  SplitSource,
  StatusView,
  WeightsChange,
} from "./control-api.ts";
import { redactConfig } from "./redact.ts";
import { entriesMap, reconcileOverrides, type SplitOverride } from "./split-overrides.ts";
import { entriesToPercent, parseWeightsInput } from "./weights-input.ts";
import { splitFromConfig } from "../routing/route-table.ts";

/** What rollouts (a later layer) tell the control plane about a route. */
export interface RolloutView {
  status(route: string): RolloutStatus | null;
  /** progressing or waitingApproval: manual weight changes are refused (409). */
  isBlockingWeights(route: string): boolean;
  /** A new config was applied; `previous` is the config it replaced. */
  configApplied(config: Config, previous: Config): void;
  act(route: string, action: string, actor: Actor, config: Config): ControlResult<RolloutStatus>;
}

export interface ControlPlaneHooks {
  /** A new snapshot is in place (weights, endpoints, routes may have changed). */
  snapshotSwapped?(snapshot: Snapshot, previous: Snapshot): void;
  reloadFinished?(result: "success" | "failure"): void;
  /** The overrides changed: persist them. */
  overridesChanged?(overrides: ReadonlyMap<string, SplitOverride>): void;
  /** Settings that live on listeners (admin tokens, server timeouts) may have changed. */
  configApplied?(config: Config): void;
}

export interface ControlPlaneOptions {
  configFile: string;
  config: Config;
  configHash: string;
  runtime: Runtime;
  upstreamDeps: UpstreamDeps;
  healthChecker: HealthChecker;
  events: EventLog;
  logger: Logger;
  clock: Clock;
  overrides?: ReadonlyMap<string, SplitOverride>;
  hooks?: ControlPlaneHooks;
  env?: NodeJS.ProcessEnv;
}

export class ControlPlane implements ControlApi {
  private readonly options: ControlPlaneOptions;
  private readonly runtime: Runtime;
  private readonly logger: Logger;
  private readonly eventLog: EventLog;
  private readonly hooks: ControlPlaneHooks;
  private overrides: Map<string, SplitOverride>;
  private loadedAtMs: number;
  private lastError: ConfigError | null = null;
  private reloadChain: Promise<unknown> = Promise.resolve();
  /** The content last refused: the watcher seeing the same bytes again is not a new failure. */
  private refusedHash: string | undefined;
  private isDrainingNow = false;
  rollouts: RolloutView | undefined;

  constructor(options: ControlPlaneOptions) {
    this.options = options;
    this.runtime = options.runtime;
    this.logger = options.logger;
    this.eventLog = options.events;
    this.hooks = options.hooks ?? {};
    this.loadedAtMs = options.clock.wallNow();
    const { kept, dropped } = reconcileOverrides(options.overrides ?? new Map(), options.config);
    this.overrides = kept;
    for (const drop of dropped) this.reportDroppedOverride(drop.route, drop.reason, "startup");
    // The state file must forget them too, or a later restart would bring them back.
    if (dropped.length > 0) this.hooks.overridesChanged?.(kept);
    if (kept.size > 0)
      this.swapSnapshot(options.config, options.configHash, this.runtime.current.upstreams);
  }

  get config(): Config {
    return this.runtime.current.config;
  }

  // ---- reload ------------------------------------------------------------------------------

  /** Reloads the config file; reloads run one at a time. */
  reload(actor: Actor): Promise<ReloadOutcome> {
    const next = this.reloadChain.then(() => this.reloadNow(actor));
    this.reloadChain = next.catch(() => undefined);
    return next;
  }

  private async reloadNow(actor: Actor): Promise<ReloadOutcome> {
    const file = this.options.configFile;
    const loaded = await loadConfigFile(file, this.options.env ?? process.env);
    const current = this.runtime.current;
    if (!loaded.ok) {
      if (actor === "watch" && loaded.hash !== undefined && loaded.hash === this.refusedHash) {
        return { applied: false, changed: false, hash: current.configHash, error: this.lastError };
      }
      this.refusedHash = loaded.hash;
      const problems = loaded.problems.map(formatProblem);
      const first = loaded.problems[0];
      this.lastError = {
        message: first === undefined ? "invalid config" : `${first.path}: ${first.message}`,
        line: first?.line ?? 0,
        column: first?.column ?? 0,
        problems,
      };
      this.logger.error(
        { file, actor, problems },
        "config reload refused: the running config stays in force",
      );
      this.eventLog.append("config.reloadFailed", { actor, file, problems });
      this.hooks.reloadFinished?.("failure");
      return { applied: false, changed: true, hash: current.configHash, error: this.lastError };
    }
    this.refusedHash = undefined;
    if (loaded.hash === current.configHash) {
      this.lastError = null;
      return { applied: true, changed: false, hash: loaded.hash, error: null };
    }
    this.apply(loaded.config, loaded.hash, actor);
    return { applied: true, changed: true, hash: loaded.hash, error: null };
  }

  private apply(config: Config, hash: string, actor: Actor): void {
    const previous = this.runtime.current;
    if (!sameListen(previous.config, config)) {
      this.logger.warn(
        { actor, running: previous.config.listen, file: config.listen },
        "listen addresses change only on restart; the running listeners stay",
      );
    }
    const built = buildUpstreams(config, this.options.upstreamDeps, previous.upstreams);
    // New endpoints are checked before they get traffic: the checker marks them first.
    this.options.healthChecker.update(built.upstreams);
    const { kept, dropped } = reconcileOverrides(this.overrides, config);
    const overridesChanged = dropped.length > 0;
    this.overrides = kept;
    this.swapSnapshot(config, hash, built.upstreams);
    built.retire().catch((error: unknown) => {
      this.logger.warn({ err: error }, "closing retired endpoints failed");
    });
    this.loadedAtMs = this.options.clock.wallNow();
    this.lastError = null;
    for (const drop of dropped) this.reportDroppedOverride(drop.route, drop.reason, actor);
    if (overridesChanged) this.hooks.overridesChanged?.(this.overrides);
    this.logger.info({ actor, hash, file: this.options.configFile }, "config reloaded");
    this.eventLog.append("config.reloaded", { actor, hash, file: this.options.configFile });
    this.hooks.reloadFinished?.("success");
    this.hooks.configApplied?.(config);
    this.rollouts?.configApplied(config, previous.config);
  }

  private swapSnapshot(config: Config, hash: string, upstreams: Snapshot["upstreams"]): void {
    const next = buildSnapshot(config, hash, upstreams, entriesMap(this.overrides));
    const previous = this.runtime.swap(next);
    this.hooks.snapshotSwapped?.(next, previous);
  }

  private reportDroppedOverride(route: string, reason: string, actor: Actor): void {
    this.logger.info({ route, reason, actor }, "weight override dropped; the file's split applies");
    this.eventLog.append("weights.overrideDropped", { route, reason, actor });
  }

  // ---- weights -----------------------------------------------------------------------------

  setWeights(route: string, weights: unknown, actor: Actor): ControlResult<WeightsChange> {
    return this.changeSplit(route, actor, "admin", weights);
  }

  clearWeights(route: string, actor: Actor): ControlResult<WeightsChange> {
    return this.changeSplit(route, actor, "admin", undefined);
  }

  /**
   * Sets (or with `weights` undefined, drops) the override of one route. Rollouts call this
   * with source "rollout"; the admin API with "admin".
   */
  changeSplit(
    routeName: string,
    actor: Actor,
    source: "admin" | "rollout",
    weights: unknown,
  ): ControlResult<WeightsChange> {
    const snapshot = this.runtime.current;
    const routeConfig = snapshot.config.routes.find((r) => r.name === routeName);
    const compiled = snapshot.routes.get(routeName);
    if (routeConfig === undefined || compiled === undefined) {
      return refusal(404, "SWITCHYARD_UNKNOWN_ROUTE", `no route named "${routeName}"`);
    }
    if (source === "admin" && this.rollouts?.isBlockingWeights(routeName) === true) {
      return refusal(
        409,
        "SWITCHYARD_ROLLOUT_RUNNING",
        `a rollout is running on route "${routeName}"; pause it first (switchyard rollout ${routeName} pause)`,
      );
    }
    const fileSplit = splitFromConfig(routeConfig);
    let entries: readonly SplitEntry[] | undefined;
    if (weights !== undefined) {
      const parsed = parseWeightsInput(
        weights,
        new Set(Object.keys(snapshot.config.upstreams)),
        fileSplit.map((e) => e.upstream),
      );
      if (!parsed.ok) {
        return {
          ok: false,
          error: {
            status: 400,
            code: "SWITCHYARD_INVALID_WEIGHTS",
            message: "the weights are invalid",
            fields: parsed.fields,
          },
        };
      }
      entries = parsed.entries;
    }
    const before = entriesToPercent(compiled.split.entries);
    const beforeSource = this.splitSourceOf(routeName);
    if (entries === undefined) {
      if (!this.overrides.has(routeName)) {
        return {
          ok: true,
          value: { route: routeName, before, after: before, splitSource: "file" },
        };
      }
      this.overrides.delete(routeName);
    } else {
      this.overrides.set(routeName, {
        entries,
        source,
        setBy: actor,
        setAt: new Date(this.options.clock.wallNow()).toISOString(),
        fileSplit,
      });
    }
    this.swapSnapshot(snapshot.config, snapshot.configHash, snapshot.upstreams);
    const after = entriesToPercent(entries ?? fileSplit);
    const splitSource = this.splitSourceOf(routeName);
    this.logger.info(
      { route: routeName, actor, before, after, beforeSource, splitSource },
      entries === undefined ? "weight override cleared" : "weights changed",
    );
    this.eventLog.append("weights.changed", {
      route: routeName,
      actor,
      before,
      after,
      splitSource,
    });
    this.hooks.overridesChanged?.(this.overrides);
    return { ok: true, value: { route: routeName, before, after, splitSource } };
  }

  rolloutAction(route: string, action: string, actor: Actor): ControlResult<RolloutStatus> {
    const rollouts = this.rollouts;
    if (rollouts === undefined) {
      return refusal(409, "SWITCHYARD_NO_ROLLOUT", "rollouts are not running in this process");
    }
    return rollouts.act(route, action, actor, this.runtime.current.config);
  }

  splitSourceOf(route: string): SplitSource {
    return this.overrides.get(route)?.source ?? "file";
  }

  get currentOverrides(): ReadonlyMap<string, SplitOverride> {
    return this.overrides;
  }

  // ---- views -------------------------------------------------------------------------------

  status(): StatusView {
    const snapshot = this.runtime.current;
    return {
      routes: snapshot.routes.routes.map((route) => ({
        name: route.name,
        split: entriesToPercent(route.split.entries),
        splitSource: this.splitSourceOf(route.name),
        rollout: this.rollouts?.status(route.name) ?? null,
      })),
      upstreams: [...snapshot.upstreams.values()].map((upstream) => ({
        name: upstream.name,
        breaker: upstream.breaker.state,
        endpoints: upstream.endpoints.map((endpoint) => ({
          url: endpoint.url,
          healthy: endpoint.isHealthy,
          ejected: endpoint.isEjected,
        })),
      })),
      config: {
        file: this.options.configFile,
        hash: snapshot.configHash,
        loadedAt: new Date(this.loadedAtMs).toISOString(),
        lastError: this.lastError,
      },
      ready: this.isReady(),
      draining: this.isDrainingNow,
    };
  }

  effectiveConfig(): unknown {
    return redactConfig(this.runtime.current.config);
  }

  events(sinceId: number | undefined): LoggedEvent[] {
    return this.eventLog.since(sinceId);
  }

  isReady(): boolean {
    return this.options.healthChecker.isFirstRoundDone && !this.isDrainingNow;
  }

  isDraining(): boolean {
    return this.isDrainingNow;
  }

  startDraining(): void {
    this.isDrainingNow = true;
  }
}

function refusal(
  status: 400 | 404 | 409,
  code: string,
  message: string,
): { ok: false; error: { status: 400 | 404 | 409; code: string; message: string } } {
  return { ok: false, error: { status, code, message } };
}

function sameListen(a: Config, b: Config): boolean {
  const same = (x: Config["listen"]["proxy"], y: Config["listen"]["proxy"]): boolean =>
    x.host === y.host && x.port === y.port;
  return same(a.listen.proxy, b.listen.proxy) && same(a.listen.admin, b.listen.admin);
}
