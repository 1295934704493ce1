/**
 * The control plane: everything that changes what the data path sees goes through here, and
 * each change is built off to the side and swapped in one step (Runtime.swap). It reloads the
 * config file (watch, SIGHUP, admin API), applies and drops weight overrides, keeps the last
 * config error for status, and reports every change to the event log, the logs and its hooks
 * (metrics, state file).
 */
import { checkAdminExposure } from "../config/admin-exposure.ts";
import {
  formatProblem,
  loadConfigContent,
  loadConfigFile,
  problemInText,
  type ConfigContent,
  type LoadResult,
} from "../config/load.ts";
import type { Config } from "../config/schema.ts";
import { restartRequiredKeys } from "../config/static-keys.ts";
import { CODE } from "../errors/error-codes.ts";
import type { EventLog, LoggedEvent } from "../events/event-log.ts";
import type { Logger } from "../log/logger.ts";
import type { Runtime } from "../runtime/runtime.ts";
import type { Clock } from "../time/clock.ts";
import type { HealthChecker } from "../upstream/health-checker.ts";
import { buildUpstreams, type UpstreamDeps } from "../upstream/upstream-set.ts";
import {
  refusal,
  type Actor,
  type ConfigError,
  type ControlApi,
  type ControlResult,
  type EndpointAdminState,
  type EndpointStatus,
  type EndpointView,
  type ReloadOutcome,
  type RolloutStatus,
  type StatusView,
  type UpstreamStatus,
  type WeightsChange,
  type WriteScope,
} from "./control-api.ts";
import { redactConfig } from "./redact.ts";
import { parseWeightsInput } from "./weights-input.ts";
import { entriesToPercent } from "../routing/split-entries.ts";
import { splitFromConfig } from "../routing/route-table.ts";
import type { SplitEntry } from "../routing/split.ts";
import type { SplitWriter, SplitWriteResult } from "../runtime/split-write.ts";
import type { EndpointStateWriter } from "../runtime/endpoint-state-write.ts";
import type { FleetStatus, LocalWrite } from "../fleet/fleet-node.ts";
import type { Endpoint } from "../upstream/endpoint.ts";
import type { Upstream } from "../upstream/upstream.ts";
import { SINGLE_PROCESS_VIEW, type WorkersView } from "../workers/workers-view.ts";

/** What rollouts (a later layer) tell the control plane about a route. */
export interface RolloutView {
  status(route: string): RolloutStatus | null;
  /** progressing or waitingApproval: manual weight changes are refused (409). */
  isBlockingWeights(route: string): boolean;
  /** A new config is in force: start, restart, update or stop rollouts to match it. */
  configApplied(config: Config): Promise<void>;
  act(
    route: string,
    action: string,
    actor: Actor,
    config: Config,
  ): Promise<ControlResult<RolloutStatus>>;
}

export interface ControlPlaneHooks {
  reloadFinished?(result: "success" | "failure"): void;
  /** Settings that live on listeners (admin tokens, server timeouts) may have changed. */
  configApplied?(config: Config): void;
}

export interface ControlPlaneOptions {
  configFile: string;
  /** The config the process started with: keys read only at startup keep its values. */
  config: Config;
  configHash: string;
  runtime: Runtime;
  upstreamDeps: UpstreamDeps;
  healthChecker: HealthChecker;
  events: EventLog;
  logger: Logger;
  clock: Clock;
  hooks?: ControlPlaneHooks;
  env?: NodeJS.ProcessEnv;
  /** Absent in a process that runs no rollouts: rollout verbs then answer 409. */
  rollouts?: RolloutView;
  /** Who changes splits and endpoint states: the runtime, or in fleet mode the shared state. */
  writer?: SplitWriter & EndpointStateWriter;
  /** Fleet mode: the fleet's status and event log. */
  fleet?: FleetView;
  /** The processes that serve (SPEC 11); this one alone by default. */
  workers?: WorkersView;
}

/** What the control plane shows of the fleet (fleet mode). */
export interface FleetView {
  readonly replica: string;
  readonly isConnected: boolean;
  status(): FleetStatus;
  events(sinceId: number | undefined): Promise<LoggedEvent[] | undefined>;
  /** A `?local=true` write now in force on this replica only, dropped when Redis is back. */
  noteLocalWrite(write: LocalWrite): void;
}

export class ControlPlane implements ControlApi {
  private readonly options: ControlPlaneOptions;
  private readonly runtime: Runtime;
  private readonly logger: Logger;
  private readonly eventLog: EventLog;
  private readonly hooks: ControlPlaneHooks;
  private loadedAtMs: number;
  private lastError: ConfigError | null = null;
  private reloadChain: Promise<unknown> = Promise.resolve();
  /**
   * The hash of the content the last reload loaded (applied, unchanged or refused; undefined
   * when the file could not be read): the one memory of content seen. The watcher hands over
   * every read, and content equal to this is a no-op save or one a manual reload handled.
   */
  private handledHash: string | undefined;
  private readonly rollouts: RolloutView | undefined;
  private readonly writer: SplitWriter & EndpointStateWriter;
  private readonly workers: WorkersView;

  constructor(options: ControlPlaneOptions) {
    this.options = options;
    this.runtime = options.runtime;
    this.logger = options.logger;
    this.eventLog = options.events;
    this.hooks = options.hooks ?? {};
    this.rollouts = options.rollouts;
    this.writer = options.writer ?? options.runtime;
    this.workers = options.workers ?? SINGLE_PROCESS_VIEW;
    this.loadedAtMs = options.clock.wallNow();
    this.handledHash = options.configHash;
  }

  get config(): Config {
    return this.runtime.current.config;
  }

  // ---- reload ------------------------------------------------------------------------------

  /**
   * Reloads the config; reloads run one at a time. Without `content` the file is read (admin
   * API, SIGHUP) and always loaded. With it (the watcher's read), content equal to what the
   * last reload loaded is skipped: the check runs in turn with the other reloads, so a manual
   * reload and the watcher reading the same save load it once.
   */
  reload(actor: Actor, content?: ConfigContent): Promise<ReloadOutcome> {
    const next = this.reloadChain.then(async () => {
      const outcome = await this.reloadNow(actor, content);
      await this.workers.settled();
      return outcome;
    });
    this.reloadChain = next.catch(() => undefined);
    return next;
  }

  private async reloadNow(actor: Actor, content?: ConfigContent): Promise<ReloadOutcome> {
    const file = this.options.configFile;
    const env = this.options.env ?? process.env;
    if (content !== undefined) {
      if (content.hash === this.handledHash) {
        // So that "why did my save not reload?" has an answer in a debug log.
        this.logger.debug({ file, hash: content.hash }, "config file unchanged");
        return this.outcome(this.lastError === null, false);
      }
      this.logger.info({ file, hash: content.hash }, "config file content changed");
    }
    const loaded = this.refuseExposedAdmin(
      content === undefined
        ? await loadConfigFile(file, env)
        : loadConfigContent(content, file, env),
    );
    this.handledHash = loaded.hash;
    if (!loaded.ok) return this.refuse(loaded, actor);
    if (loaded.hash === this.runtime.current.configHash) {
      this.lastError = null;
      return this.outcome(true, false);
    }
    await this.apply(loaded.config, loaded.hash, actor);
    return this.outcome(true, true);
  }

  /**
   * The admin listener keeps the address it started on (a startup key), so a reload may not
   * drop its last write token while that address is reachable from other machines: that would
   * open the admin API to the network.
   */
  private refuseExposedAdmin(loaded: LoadResult): LoadResult {
    if (!loaded.ok) return loaded;
    const exposure = checkAdminExposure(
      this.options.config.listen.admin,
      loaded.config.admin.tokens,
    );
    if (exposure === undefined) return loaded;
    const file = this.options.configFile;
    const message = `${exposure} (the admin listener keeps its startup address until a restart)`;
    return {
      ok: false,
      hash: loaded.hash,
      problems: [problemInText(loaded.text, file, ["admin", "tokens"], message)],
    };
  }

  private refuse(loaded: LoadResult & { ok: false }, actor: Actor): ReloadOutcome {
    const file = this.options.configFile;
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
    return this.outcome(false, true);
  }

  /** What a reload answers: the config in force after it, and its last error. */
  private outcome(isApplied: boolean, isChanged: boolean): ReloadOutcome {
    const fleet = this.options.fleet;
    return {
      applied: isApplied,
      changed: isChanged,
      hash: this.runtime.current.configHash,
      error: this.lastError,
      restartRequired: this.restartRequired(),
      ...(fleet === undefined ? {} : { replica: fleet.replica }),
    };
  }

  private async apply(config: Config, hash: string, actor: Actor): Promise<void> {
    const previous = this.runtime.current;
    const built = buildUpstreams(config, this.options.upstreamDeps, previous.upstreams);
    // New endpoints are checked before they get traffic: the checker marks them first.
    this.options.healthChecker.update(built.upstreams);
    this.runtime.applyConfig(config, hash, built.upstreams, actor);
    built.retire().catch((error: unknown) => {
      this.logger.warn({ err: error }, "closing retired endpoints failed");
    });
    this.loadedAtMs = this.options.clock.wallNow();
    this.lastError = null;
    const file = this.options.configFile;
    const restartRequired = this.restartRequired();
    this.logger.info({ actor, hash, file }, "config reloaded");
    if (restartRequired.length > 0) {
      this.logger.warn(
        { actor, hash, file, restartRequired },
        `config keys read only at startup changed and take effect on restart: ${restartRequired.join(", ")}; the rest of the config is in force`,
      );
    }
    this.eventLog.append("config.reloaded", { actor, hash, file, restartRequired });
    this.hooks.reloadFinished?.("success");
    this.hooks.configApplied?.(config);
    await this.rollouts?.configApplied(config);
  }

  /** Startup-only keys whose value in the config in force differs from the one started with. */
  private restartRequired(): string[] {
    return restartRequiredKeys(this.options.config, this.runtime.current.config);
  }

  // ---- weights -----------------------------------------------------------------------------

  async setWeights(
    route: string,
    weights: unknown,
    actor: Actor,
    scope: WriteScope = "fleet",
  ): Promise<ControlResult<WeightsChange>> {
    const snapshot = this.runtime.current;
    const routeConfig = snapshot.config.routes.find((r) => r.name === route);
    if (routeConfig === undefined) return unknownRoute(route);
    const blocked = this.blockedByRollout(route);
    if (blocked !== undefined) return blocked;
    const parsed = parseWeightsInput(
      weights,
      new Set(Object.keys(snapshot.config.upstreams)),
      splitFromConfig(routeConfig).map((e) => e.upstream),
    );
    if (!parsed.ok) {
      const message = `the weights are invalid: ${Object.values(parsed.fields).join("; ")}`;
      return refusal(CODE.SWITCHYARD_INVALID_WEIGHTS, message, parsed.fields);
    }
    return this.writeAdminSplit(route, parsed.entries, actor, scope);
  }

  /** Drops the admin override: the file's split applies again. */
  async clearWeights(
    route: string,
    actor: Actor,
    scope: WriteScope = "fleet",
  ): Promise<ControlResult<WeightsChange>> {
    if (this.runtime.current.routes.get(route) === undefined) return unknownRoute(route);
    const blocked = this.blockedByRollout(route);
    if (blocked !== undefined) return blocked;
    return this.writeAdminSplit(route, null, actor, scope);
  }

  /**
   * Who applies a write: the fleet's writer, or with `?local=true` while Redis cannot be
   * reached the runtime itself (this replica only). Refused while Redis answers: a local
   * write then would go unnoticed by the fleet.
   */
  private writerFor(scope: WriteScope): ControlResult<SplitWriter & EndpointStateWriter> {
    const fleet = this.options.fleet;
    if (scope === "fleet" || fleet === undefined) return { ok: true, value: this.writer };
    if (fleet.isConnected) {
      return refusal(
        CODE.SWITCHYARD_LOCAL_WRITE_REFUSED,
        "Redis answers: write to the fleet (without ?local=true / --local); the lever is for an outage",
      );
    }
    return { ok: true, value: this.runtime };
  }

  /** A local write in force: the fleet shows it as divergent until Redis is back. */
  private noteLocal(scope: WriteScope, what: string, actor: Actor): void {
    if (scope !== "local") return;
    const at = new Date(this.options.clock.wallNow()).toISOString();
    this.options.fleet?.noteLocalWrite({ what, actor, at });
  }

  /** While a rollout is progressing or waiting for approval, it owns the split (SPEC 5). */
  private blockedByRollout(route: string): ControlResult<never> | undefined {
    if (this.rollouts?.isBlockingWeights(route) !== true) return undefined;
    return refusal(
      CODE.SWITCHYARD_ROLLOUT_RUNNING,
      `a rollout is running on route "${route}"; pause it first (switchyard rollout ${route} pause)`,
    );
  }

  private async writeAdminSplit(
    route: string,
    splitBp: readonly SplitEntry[] | null,
    actor: Actor,
    scope: WriteScope,
  ): Promise<ControlResult<WeightsChange>> {
    const writer = this.writerFor(scope);
    if (!writer.ok) return writer;
    const result = await writer.value.setSplit({ route, splitBp, source: "admin", actor });
    if (result.ok) this.noteLocal(scope, `weights of route ${route}`, actor);
    await this.workers.settled();
    return toWeightsChange(result);
  }

  // ---- endpoint states ---------------------------------------------------------------------

  async setEndpointState(
    upstream: string,
    index: number,
    state: EndpointAdminState,
    actor: Actor,
    scope: WriteScope = "fleet",
  ): Promise<ControlResult<EndpointView>> {
    const write = { upstream, index, state, source: "admin" as const, actor };
    const writer = this.writerFor(scope);
    if (!writer.ok) return writer;
    const result = await writer.value.setEndpointState(write);
    if (!result.ok) return result;
    await this.workers.settled();
    this.noteLocal(scope, `state of endpoint ${String(index)} of upstream ${upstream}`, actor);
    const { url, before } = result.change;
    const endpoint = this.runtime.current.upstreams
      .get(upstream)
      ?.endpoints.find((candidate) => candidate.url === url);
    // Gone only if a reload removed it meanwhile: then it takes nothing anyway.
    const view =
      endpoint === undefined
        ? { url, healthy: false, ejected: false, state }
        : this.endpointStatus(endpoint);
    return { ok: true, value: { upstream, index, before, ...view } };
  }

  async rolloutAction(
    route: string,
    action: string,
    actor: Actor,
  ): Promise<ControlResult<RolloutStatus>> {
    const rollouts = this.rollouts;
    if (rollouts === undefined) {
      return refusal(CODE.SWITCHYARD_NO_ROLLOUT, "rollouts are not running in this process");
    }
    const result = await rollouts.act(route, action, actor, this.runtime.current.config);
    await this.workers.settled();
    return result;
  }

  // ---- views -------------------------------------------------------------------------------

  status(): StatusView {
    const snapshot = this.runtime.current;
    return {
      routes: snapshot.routes.routes.map((route) => ({
        name: route.name,
        split: entriesToPercent(route.split.entries),
        splitSource: this.runtime.splitSourceOf(route.name),
        rollout: this.rollouts?.status(route.name) ?? null,
      })),
      upstreams: [...snapshot.upstreams.values()].map((upstream) => this.upstreamStatus(upstream)),
      config: {
        file: this.options.configFile,
        hash: snapshot.configHash,
        loadedAt: new Date(this.loadedAtMs).toISOString(),
        lastError: this.lastError,
        restartRequired: this.restartRequired(),
      },
      ready: this.isReady(),
      draining: this.isDraining(),
      fleet: this.options.fleet?.status() ?? null,
      workers: this.workers.list(),
    };
  }

  /** Worst breaker state over the workers, and how many of them have each endpoint ejected. */
  private upstreamStatus(upstream: Upstream): UpstreamStatus {
    const breaker = this.workers.breakerOf(upstream);
    return {
      name: upstream.name,
      breaker: breaker.state,
      breakerWorkers: breaker.workers,
      endpoints: upstream.endpoints.map((endpoint) => this.endpointStatus(endpoint)),
    };
  }

  /** With workers, `ejected` when any worker ejected it, and how many did. */
  private endpointStatus(endpoint: Endpoint): EndpointStatus {
    const ejectedWorkers = this.workers.ejectedIn(endpoint);
    return {
      url: endpoint.url,
      healthy: endpoint.isHealthy,
      ejected: ejectedWorkers > 0,
      ejectedWorkers,
      state: endpoint.adminState,
    };
  }

  effectiveConfig(): unknown {
    return redactConfig(this.runtime.current.config);
  }

  events(sinceId: number | undefined): LoggedEvent[] {
    return this.eventLog.since(sinceId);
  }

  async fleetEvents(sinceId: number | undefined): Promise<LoggedEvent[] | undefined> {
    return this.options.fleet?.events(sinceId);
  }

  isReady(): boolean {
    return (
      this.options.healthChecker.isFirstRoundDone &&
      this.runtime.phase === "serving" &&
      this.workers.isServing
    );
  }

  /** From SIGTERM on: /readyz answers 503 (the listener may still be open for drainDelay). */
  isDraining(): boolean {
    const phase = this.runtime.phase;
    return phase === "draining" || phase === "closing";
  }
}

function unknownRoute(route: string): ControlResult<never> {
  return refusal(CODE.SWITCHYARD_UNKNOWN_ROUTE, `no route named "${route}"`);
}

function toWeightsChange(result: SplitWriteResult): ControlResult<WeightsChange> {
  if (!result.ok) return result;
  const { route, before, after, splitSource } = result.change;
  return {
    ok: true,
    value: { route, before: entriesToPercent(before), after: entriesToPercent(after), splitSource },
  };
}
