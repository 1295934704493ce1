/**
 * Composition root of a running switchyard: loads the saved state, builds the parts
 * (app-parts.ts), starts them in order and stops them in reverse (at once, or after a drain).
 * `serve` and the integration tests start it here.
 */
import { checkAdminExposure } from "./config/admin-exposure.ts";
import { buildParts, createStateKeeper, type Parts, type SavedState } from "./app-parts.ts";
import type { Config } from "./config/schema.ts";
import type { ConfigWatcher } from "./config/watch.ts";
import type { ControlPlane } from "./control/control-plane.ts";
import type { EventLog } from "./events/event-log.ts";
import type { FleetParts } from "./fleet/fleet-parts.ts";
import { joinFleet, savedStateOfJoin, type FleetJoin } from "./fleet/fleet-start.ts";
import { Lifecycle, stopOnly, type Component } from "./lifecycle/component.ts";
import { Drain } from "./lifecycle/drain.ts";
import { listenError, StartError } from "./lifecycle/listen.ts";
import type { Logger } from "./log/logger.ts";
import type { Metrics } from "./metrics/metrics.ts";
import type { ProxyRecorder } from "./proxy/recorder.ts";
import type { Runtime } from "./runtime/runtime.ts";
import { SYSTEM_CLOCK, type Clock } from "./time/clock.ts";
import type { HealthChecker } from "./upstream/health-checker.ts";
import { closeUpstreams } from "./upstream/upstream-set.ts";

export { StartError };
/** Kept for callers that branch on a listener failure. */
export { StartError as ListenError };

export interface SwitchyardOptions {
  config: Config;
  configHash: string;
  /** The file the config came from: reloads read it, and it is watched unless told not to. */
  configFile?: string;
  isWatchingConfig?: boolean;
  logger: Logger;
  /** Observes the data path next to the metrics (tests). */
  recorder?: ProxyRecorder;
  random?: () => number;
  clock?: Clock;
  /** Environment for `${VAR}` in reloaded configs (process.env by default). */
  env?: NodeJS.ProcessEnv;
  /** Processes serving listen.proxy (`workers`, resolved); above 1 this one is the primary. */
  workers?: number;
}

export interface RunningSwitchyard {
  readonly runtime: Runtime;
  readonly control: ControlPlane;
  readonly metrics: Metrics;
  readonly events: EventLog;
  /** The ports listened on (useful with port 0); with workers, the port they share. */
  readonly proxyPort: number;
  readonly adminPort: number;
  readonly healthChecker: HealthChecker;
  /** Stops everything now: listeners, open connections, checks, pools. */
  close(): Promise<void>;
  /** SIGTERM: not ready at once, serve drainDelay more, close the listener, let requests finish. */
  drain(): Promise<void>;
}

/**
 * Starts a switchyard. A part that fails to start stops the ones started before it, and its
 * error is rethrown (a StartError when the operator can fix it).
 */
export async function startSwitchyard(options: SwitchyardOptions): Promise<RunningSwitchyard> {
  refuseExposedAdmin(options.config);
  const stateKeeper = createStateKeeper(options);
  const join = await joinFleetOf(options);
  // The runtime and the rollouts are built from what the last run saved (or the fleet shares).
  const saved =
    join === undefined
      ? await stateKeeper.load()
      : await savedStateOfJoin(join, () => stateKeeper.load(), options.logger);
  const parts = buildParts(options, stateKeeper, saved, join);
  const lifecycle = new Lifecycle(options.logger);
  await lifecycle.start(componentsOf(parts, options.config, saved));
  parts.runtime.phase = "serving";
  logListening(options, parts);
  return runningSwitchyard(parts, lifecycle, options.logger);
}

/** In start order; they stop in reverse, so nothing outlives what it uses. */
function componentsOf(parts: Parts, config: Config, saved: SavedState): Component[] {
  const { runtime, rollouts, admin, watcher, fleet } = parts;
  return [
    // Opened while joining: closed last, whatever failed to start.
    ...(fleet === undefined ? [] : [stopOnly("redis link", () => fleet.join.link.close())]),
    // The current snapshot's pools: reloads may have replaced the first ones.
    stopOnly("upstream pools", () => closeUpstreams(runtime.current.upstreams)),
    stopOnly("state file", () => parts.stateKeeper.flush()),
    // Probing began when the checker was built.
    stopOnly("health checks", () => parts.healthChecker.stop()),
    stopOnly("webhooks", () => parts.notifier.close()),
    {
      name: "rollouts",
      start: () => rollouts.initialize(config, saved.rollouts),
      stop: async () => {
        rollouts.stop();
        await rollouts.idle();
      },
    },
    // After the rollouts, which it feeds; stopping it first gives the lease up at once.
    ...(fleet === undefined ? [] : [fleetComponent(fleet)]),
    servingComponent(parts),
    {
      name: "admin listener",
      start: async () => {
        const { host, port } = config.listen.admin;
        await admin.server.listen(host, port).catch((error: unknown) => {
          throw listenError(error, host, port, "listen.admin");
        });
      },
      stop: async () => {
        await admin.server.close();
        admin.limit.stop();
      },
    },
    ...(watcher === undefined ? [] : [watcherComponent(watcher)]),
  ];
}

/** What serves listen.proxy: this process's listener, or its workers. */
function servingComponent(parts: Parts): Component {
  const serving = parts.workers?.pool ?? parts.proxy;
  if (serving === undefined) throw new Error("neither a proxy listener nor workers were built");
  return serving;
}

function proxyPortOf(parts: Parts): number {
  return parts.workers?.pool.port ?? parts.proxy?.port ?? 0;
}

function watcherComponent(watcher: ConfigWatcher): Component {
  return {
    name: "config watcher",
    start: () => watcher.start(),
    stop: () => watcher.close(),
  };
}

function fleetComponent(fleet: FleetParts): Component {
  return {
    name: "fleet",
    start: () => {
      fleet.node.start();
      fleet.forwarder.start();
      return Promise.resolve();
    },
    stop: async () => {
      await fleet.forwarder.stop();
      await fleet.node.stop();
    },
  };
}

/** Fleet mode: connects to Redis and waits up to fleet.syncTimeout for the shared state. */
async function joinFleetOf(options: SwitchyardOptions): Promise<FleetJoin | undefined> {
  const fleet = options.config.fleet;
  if (fleet === undefined) return undefined;
  return joinFleet({
    fleet,
    configFile: options.configFile,
    logger: options.logger,
    clock: options.clock ?? SYSTEM_CLOCK,
  });
}

function refuseExposedAdmin(config: Config): void {
  const exposure = checkAdminExposure(config.listen.admin, config.admin.tokens);
  if (exposure !== undefined) throw new StartError(exposure, "EADMINEXPOSED");
}

function logListening(options: SwitchyardOptions, parts: Parts): void {
  const { listen } = options.config;
  options.logger.info(
    {
      address: `${listen.proxy.host}:${proxyPortOf(parts)}`,
      workers: options.workers ?? 1,
      admin: `${listen.admin.host}:${parts.admin.server.address()?.port ?? 0}`,
    },
    "proxy listening",
  );
}

function runningSwitchyard(parts: Parts, lifecycle: Lifecycle, logger: Logger): RunningSwitchyard {
  const { runtime } = parts;
  const drain = drainOf(parts, logger);
  let closing: Promise<void> | undefined;
  return {
    runtime,
    control: parts.control,
    metrics: parts.metrics,
    events: parts.events,
    proxyPort: proxyPortOf(parts),
    adminPort: parts.admin.server.address()?.port ?? 0,
    healthChecker: parts.healthChecker,
    close() {
      if (closing !== undefined) {
        // A drain is under way: stop waiting for what is still in flight.
        drain.cutShort();
        return closing;
      }
      runtime.phase = "closing";
      closing = lifecycle.stop();
      return closing;
    },
    drain() {
      // SIGTERM gives the lease up at once: another replica judges while this one drains.
      parts.fleet?.node.releaseLease().catch((error: unknown) => {
        logger.warn({ err: error }, "fleet: releasing the lease failed");
      });
      closing ??= drainThenStop(drain, lifecycle);
      return closing;
    },
  };
}

/** SPEC 8's drain: of this process's listener, or of every worker (each drains its own). */
function drainOf(parts: Parts, logger: Logger): Pick<Drain, "run" | "cutShort"> {
  const { runtime, proxy, workers } = parts;
  if (workers === undefined) {
    const listeners = proxy === undefined ? [] : [proxy];
    return new Drain({ target: runtime, listeners, clock: parts.clock, logger });
  }
  return {
    async run() {
      runtime.phase = "draining";
      logger.info("draining: /readyz now answers 503; every worker drains");
      await workers.pool.drain();
      runtime.phase = "closing";
      logger.info("drained: every worker has exited");
    },
    cutShort() {
      void workers.pool.stop();
    },
  };
}

/** The drain closes the proxy listener gently; the stop then ends everything else. */
async function drainThenStop(drain: Pick<Drain, "run">, lifecycle: Lifecycle): Promise<void> {
  try {
    await drain.run();
  } finally {
    await lifecycle.stop();
  }
}
