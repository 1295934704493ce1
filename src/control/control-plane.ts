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
import type { Runtime } from "../runtime/runtime.ts";
import type { Clock } from "../time/clock.ts";
import type { HealthChecker } from "../upstream/health-checker.ts";
import { buildUpstreams, type UpstreamDeps } from "../upstream/upstream-set.ts";
import type {
  Actor,
  ConfigError,
  ControlApi,
  ControlResult,
  EndpointAdminState,
  EndpointStatus,
  EndpointView,
  ReloadOutcome,
  RolloutStatus,
  StatusView,
  WeightsChange,
} from "./control-api.ts";
import { redactConfig } from "./redact.ts";
import { parseWeightsInput } from "./weights-input.ts";
import { entriesToPercent } from "../routing/split-entries.ts";
import { splitFromConfig } from "../routing/route-table.ts";
import type { SplitEntry } from "../routing/split.ts";
import type { SplitWriteResult } from "../runtime/split-write.ts";
import type { Endpoint } from "../upstream/endpoint.ts";

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
  /** The content last refused: the watcher seeing the same bytes again is not a new failure. */
  private refusedHash: string | undefined;
  rollouts: RolloutView | undefined;

  constructor(options: ControlPlaneOptions) {
    this.options = options;
    this.runtime = options.runtime;
    this.logger = options.logger;
    this.eventLog = options.events;
    this.hooks = options.hooks ?? {};
    this.loadedAtMs = options.clock.wallNow();
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
    await this.apply(loaded.config, loaded.hash, actor);
    return { applied: true, changed: true, hash: loaded.hash, error: null };
  }

  private async apply(config: Config, hash: string, actor: Actor): Promise<void> {
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
    this.runtime.applyConfig(config, hash, built.upstreams, actor);
    built.retire().catch((error: unknown) => {
      this.logger.warn({ err: error }, "closing retired endpoints failed");
    });
    this.loadedAtMs = this.options.clock.wallNow();
    this.lastError = null;
    this.logger.info({ actor, hash, file: this.options.configFile }, "config reloaded");
    this.eventLog.append("config.reloaded", { actor, hash, file: this.options.configFile });
    this.hooks.reloadFinished?.("success");
    this.hooks.configApplied?.(config);
    await this.rollouts?.configApplied(config);
  }

  // ---- weights -----------------------------------------------------------------------------

  async setWeights(
    route: string,
    weights: unknown,
    actor: Actor,
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
      return {
        ok: false,
        error: {
          status: 400,
          code: "SWITCHYARD_INVALID_WEIGHTS",
          message: `the weights are invalid: ${Object.values(parsed.fields).join("; ")}`,
          fields: parsed.fields,
        },
      };
    }
    return this.writeAdminSplit(route, parsed.entries, actor);
  }

  /** Drops the admin override: the file's split applies again. */
  async clearWeights(route: string, actor: Actor): Promise<ControlResult<WeightsChange>> {
    if (this.runtime.current.routes.get(route) === undefined) return unknownRoute(route);
    const blocked = this.blockedByRollout(route);
    if (blocked !== undefined) return blocked;
    return this.writeAdminSplit(route, null, actor);
  }

  /** While a rollout is progressing or waiting for approval, it owns the split (SPEC 5). */
  private blockedByRollout(route: string): ControlResult<never> | undefined {
    if (this.rollouts?.isBlockingWeights(route) !== true) return undefined;
    return refusal(
      409,
      "SWITCHYARD_ROLLOUT_RUNNING",
      `a rollout is running on route "${route}"; pause it first (switchyard rollout ${route} pause)`,
    );
  }

  private async writeAdminSplit(
    route: string,
    splitBp: readonly SplitEntry[] | null,
    actor: Actor,
  ): Promise<ControlResult<WeightsChange>> {
    const result = await this.runtime.setSplit({ route, splitBp, source: "admin", actor });
    return toWeightsChange(result);
  }

  // ---- endpoint states ---------------------------------------------------------------------

  async setEndpointState(
    upstream: string,
    index: number,
    state: EndpointAdminState,
    actor: Actor,
  ): Promise<ControlResult<EndpointView>> {
    const write = { upstream, index, state, source: "admin" as const, actor };
    const result = await this.runtime.setEndpointState(write);
    if (!result.ok) return result;
    const { url, before } = result.change;
    const endpoint = this.runtime.current.upstreams
      .get(upstream)
      ?.endpoints.find((candidate) => candidate.url === url);
    // Gone only if a reload removed it meanwhile: then it takes nothing anyway.
    const view =
      endpoint === undefined
        ? { url, healthy: false, ejected: false, state }
        : endpointStatus(endpoint);
    return { ok: true, value: { upstream, index, before, ...view } };
  }

  rolloutAction(
    route: string,
    action: string,
    actor: Actor,
  ): Promise<ControlResult<RolloutStatus>> {
    const rollouts = this.rollouts;
    if (rollouts === undefined) {
      return Promise.resolve(
        refusal(409, "SWITCHYARD_NO_ROLLOUT", "rollouts are not running in this process"),
      );
    }
    return rollouts.act(route, action, actor, this.runtime.current.config);
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
      upstreams: [...snapshot.upstreams.values()].map((upstream) => ({
        name: upstream.name,
        breaker: upstream.breaker.state,
        endpoints: upstream.endpoints.map(endpointStatus),
      })),
      config: {
        file: this.options.configFile,
        hash: snapshot.configHash,
        loadedAt: new Date(this.loadedAtMs).toISOString(),
        lastError: this.lastError,
      },
      ready: this.isReady(),
      draining: this.isDraining(),
    };
  }

  effectiveConfig(): unknown {
    return redactConfig(this.runtime.current.config);
  }

  events(sinceId: number | undefined): LoggedEvent[] {
    return this.eventLog.since(sinceId);
  }

  isReady(): boolean {
    return this.options.healthChecker.isFirstRoundDone && this.runtime.phase === "serving";
  }

  /** From SIGTERM on: /readyz answers 503 (the listener may still be open for drainDelay). */
  isDraining(): boolean {
    const phase = this.runtime.phase;
    return phase === "draining" || phase === "closing";
  }
}

function endpointStatus(endpoint: Endpoint): EndpointStatus {
  return {
    url: endpoint.url,
    healthy: endpoint.isHealthy,
    ejected: endpoint.isEjected,
    state: endpoint.adminState,
  };
}

function unknownRoute(route: string): ControlResult<never> {
  return refusal(404, "SWITCHYARD_UNKNOWN_ROUTE", `no route named "${route}"`);
}

function toWeightsChange(result: SplitWriteResult): ControlResult<WeightsChange> {
  if (!result.ok) return result;
  const { route, before, after, splitSource } = result.change;
  return {
    ok: true,
    value: { route, before: entriesToPercent(before), after: entriesToPercent(after), splitSource },
  };
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
