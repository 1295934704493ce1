/**
 * The parts of a switchyard, built and wired but not started: what observes the traffic, the
 * data plane (upstreams, runtime, health checks), the control plane and rollouts, the two
 * listeners and the config watcher. Nothing here listens or reads a file; app.ts starts the
 * parts in order. One exception: the health checker probes from the moment it is built.
 */
import { ADMIN_MAX_CONNECTIONS, AdminServer } from "./admin/admin-server.ts";
import type { SwitchyardOptions } from "./app.ts";
import type { Config } from "./config/schema.ts";
import { ConfigWatcher } from "./config/watch.ts";
import { ControlPlane, type FleetView } from "./control/control-plane.ts";
import { PersistedStateKeeper, type RolloutRecord } from "./control/persisted-state.ts";
import { EventLog } from "./events/event-log.ts";
import { buildFleetParts, connectFleet, type FleetParts } from "./fleet/fleet-parts.ts";
import type { FleetJoin } from "./fleet/fleet-start.ts";
import type { HttpListener } from "./lifecycle/http-listener.ts";
import { Metrics } from "./metrics/metrics.ts";
import { ConnectionLimit } from "./net/connection-limit.ts";
import { FanOutRecorder } from "./proxy/fan-out-recorder.ts";
import { applyServerSettings, buildProxyListener } from "./proxy/proxy-listener.ts";
import type { ProxyRecorder } from "./proxy/recorder.ts";
import type { UpgradeHandler } from "./proxy/upgrade.ts";
import { RolloutController } from "./rollout/rollout-controller.ts";
import { WebhookNotifier } from "./rollout/webhooks.ts";
import { statsWindowMs, WindowStats } from "./rollout/window-stats.ts";
import type { EndpointStates } from "./runtime/endpoint-states.ts";
import { Runtime } from "./runtime/runtime.ts";
import type { SplitOverride } from "./runtime/split-overrides.ts";
import { resolveStateFile } from "./state/state-path.ts";
import { StateStore } from "./state/state-store.ts";
import { SYSTEM_CLOCK, type Clock } from "./time/clock.ts";
import { BucketRotations } from "./upstream/bucket-rotation.ts";
import { HealthChecker } from "./upstream/health-checker.ts";
import { UpstreamEvents } from "./upstream/upstream-events.ts";
import {
  buildUpstreams,
  type UpstreamDeps,
  type UpstreamEventListener,
} from "./upstream/upstream-set.ts";
import type { HealthListener } from "./upstream/health-checker.ts";
import type { Logger } from "./log/logger.ts";
import type { MetricsSource } from "./admin/endpoints.ts";
import { StateChanges } from "./runtime/state-changes.ts";
import { buildWorkerParts, type WorkerParts } from "./workers/worker-parts.ts";
import { workersViewOf } from "./workers/workers-view.ts";

/** What the last run saved: the runtime and the rollouts start from it. */
export interface SavedState {
  readonly overrides: ReadonlyMap<string, SplitOverride>;
  readonly rollouts: ReadonlyMap<string, RolloutRecord>;
  readonly endpointStates: EndpointStates;
}

export interface AdminListener {
  readonly server: AdminServer;
  readonly limit: ConnectionLimit;
}

export interface Parts {
  readonly clock: Clock;
  readonly events: EventLog;
  readonly metrics: Metrics;
  readonly stateKeeper: PersistedStateKeeper;
  readonly runtime: Runtime;
  readonly healthChecker: HealthChecker;
  readonly control: ControlPlane;
  readonly notifier: WebhookNotifier;
  readonly rollouts: RolloutController;
  /** The proxy listener of a process that serves itself (`workers: 1`). */
  readonly proxy: HttpListener | undefined;
  readonly upgrades: UpgradeHandler | undefined;
  /** With `workers` above 1: the workers that serve, and what their reports feed. */
  readonly workers: WorkerParts | undefined;
  readonly admin: AdminListener;
  /** Undefined when there is no config file or it is not to be watched. */
  readonly watcher: ConfigWatcher | undefined;
  /** Fleet mode's parts; undefined without a `fleet` block. */
  readonly fleet: FleetParts | undefined;
}

/** The keeper of the state file (none without `state` in the config); not yet loaded. */
export function createStateKeeper(options: SwitchyardOptions): PersistedStateKeeper {
  const { config, logger } = options;
  const clock = options.clock ?? SYSTEM_CLOCK;
  const store =
    config.state === undefined
      ? undefined
      : new StateStore({
          file: resolveStateFile(options.configFile ?? "switchyard.yaml", config.state.file),
          logger,
          clock,
        });
  return new PersistedStateKeeper(store, logger);
}

/**
 * Everything, in dependency order; `saved` is what the state file (or, in fleet mode, the
 * fleet's shared state) gave, and `join` the fleet joined when the config has a `fleet` block.
 */
export function buildParts(
  options: SwitchyardOptions,
  stateKeeper: PersistedStateKeeper,
  saved: SavedState,
  join?: FleetJoin,
): Parts {
  const observers = buildObservers(options);
  const data = buildDataPlane(options, observers, stateKeeper, saved);
  const workers = buildWorkers(options, observers, data);
  const { proxy, upgrades } =
    workers === undefined
      ? buildProxyListener({
          config: options.config,
          runtime: data.runtime,
          recorder: observers.recorder,
          metrics: observers.metrics,
          logger: options.logger,
          clock: observers.clock,
          ...(options.random === undefined ? {} : { random: options.random }),
        })
      : { proxy: undefined, upgrades: undefined };
  const fleet = join === undefined ? undefined : buildFleet(join, options, observers, data);
  // Reloads reach the admin listener, which is built after the control plane it serves.
  const built: { adminServer?: AdminServer } = {};
  const notifier = new WebhookNotifier({ logger: options.logger, clock: observers.clock });
  const rollouts = new RolloutController({
    splits: data.runtime,
    stats: fleet?.node.rolloutStats() ?? observers.windowStats,
    notifier,
    metrics: observers.metrics,
    persistence: stateKeeper,
    events: observers.events,
    logger: options.logger,
    clock: observers.clock,
    ...(fleet === undefined
      ? {}
      : {
          writer: fleet.writer,
          isJudge: () => fleet.node.isLeader,
          holdReason: () => fleet.node.holdReason(),
        }),
  });
  if (fleet !== undefined) {
    connectFleet(fleet, {
      runtime: data.runtime,
      rollouts,
      cache: stateKeeper,
      events: observers.events,
      logger: options.logger,
    });
  }
  const control = buildControl(options, observers, data, rollouts, { fleet, workers }, (next) => {
    if (proxy !== undefined) applyServerSettings(proxy, next);
    built.adminServer?.updateAdminConfig(next.admin);
    fleet?.node.resize(statsWindowMs(next));
  });
  observers.metrics.syncSnapshot(data.runtime.current);
  observers.metrics.configLoaded();
  const admin = buildAdminListener(options, observers, control, workers?.metrics);
  built.adminServer = admin.server;
  const watcher = buildWatcher(options, observers.clock, control);
  return {
    ...observers,
    ...data,
    stateKeeper,
    control,
    notifier,
    rollouts,
    proxy,
    upgrades,
    workers,
    admin,
    watcher,
    fleet,
  };
}

function buildFleet(
  join: FleetJoin,
  options: SwitchyardOptions,
  observers: Observers,
  data: DataPlane,
): FleetParts {
  return buildFleetParts(join, {
    runtime: data.runtime,
    events: observers.events,
    windowStats: observers.windowStats,
    registry: observers.metrics.registry,
    longestWindowMs: statsWindowMs(options.config),
    logger: options.logger,
    clock: observers.clock,
  });
}

interface Observers {
  readonly clock: Clock;
  /** Runtime changes the workers follow (with `workers` above 1). */
  readonly changes: StateChanges;
  readonly events: EventLog;
  readonly metrics: Metrics;
  readonly windowStats: WindowStats;
  /** The data path's one recorder: metrics, window stats and the caller's, in that order. */
  readonly recorder: ProxyRecorder;
}

function buildObservers(options: SwitchyardOptions): Observers {
  const clock = options.clock ?? SYSTEM_CLOCK;
  const metrics = new Metrics({ clock });
  // Rollout decisions read attempts (a canary failure retried on stable still counts).
  const windowStats = new WindowStats({ clock, longestWindowMs: statsWindowMs(options.config) });
  const recorder = new FanOutRecorder(
    options.recorder === undefined
      ? [metrics, windowStats]
      : [metrics, windowStats, options.recorder],
  );
  return {
    clock,
    changes: new StateChanges(),
    events: new EventLog(clock),
    metrics,
    windowStats,
    recorder,
  };
}

interface DataPlane {
  readonly upstreamDeps: UpstreamDeps;
  readonly runtime: Runtime;
  readonly healthChecker: HealthChecker;
}

function buildDataPlane(
  options: SwitchyardOptions,
  observers: Observers,
  stateKeeper: PersistedStateKeeper,
  saved: SavedState,
): DataPlane {
  const { config, logger } = options;
  const { clock, events, metrics, changes } = observers;
  const upstreamEvents = new UpstreamEvents(logger, events, [metrics, healthFollower(changes)]);
  const upstreamDeps = { clock, rotations: new BucketRotations(), listener: upstreamEvents };
  const { upstreams } = buildUpstreams(config, upstreamDeps);
  const runtime = new Runtime({
    config,
    configHash: options.configHash,
    upstreams,
    overrides: saved.overrides,
    endpointStates: saved.endpointStates,
    events,
    logger,
    clock,
    hooks: {
      snapshotSwapped(snapshot) {
        metrics.syncSnapshot(snapshot);
        changes.changed();
      },
      overridesChanged(overrides) {
        stateKeeper.setOverrides(overrides);
      },
      endpointStatesChanged(states) {
        stateKeeper.setEndpointStates(states);
        changes.changed();
      },
      endpointStateChanged(endpoint) {
        healthChecker.followAdminState(endpoint);
      },
    },
  });
  // After the runtime: saved endpoint states are on the endpoints, so none in maintenance is probed.
  const healthChecker = new HealthChecker({
    upstreams,
    logger,
    clock,
    listener: upstreamEvents,
    ...(options.random === undefined ? {} : { random: options.random }),
  });
  return { upstreamDeps, runtime, healthChecker };
}

function buildControl(
  options: SwitchyardOptions,
  observers: Observers,
  data: DataPlane,
  rollouts: RolloutController,
  { fleet, workers }: { fleet: FleetParts | undefined; workers: WorkerParts | undefined },
  applyToListeners: (next: Config) => void,
): ControlPlane {
  const { metrics, windowStats } = observers;
  return new ControlPlane({
    ...(fleet === undefined ? {} : { writer: fleet.writer, fleet: fleetView(fleet) }),
    ...(workers === undefined
      ? {}
      : {
          workers: workersViewOf(workers, (version) => {
            lateWorkers(options.logger, version);
          }),
        }),
    configFile: options.configFile ?? "(none)",
    config: options.config,
    configHash: options.configHash,
    runtime: data.runtime,
    upstreamDeps: data.upstreamDeps,
    healthChecker: data.healthChecker,
    events: observers.events,
    logger: options.logger,
    clock: observers.clock,
    rollouts,
    ...(options.env === undefined ? {} : { env: options.env }),
    hooks: {
      reloadFinished(result) {
        metrics.configReloaded(result);
      },
      configApplied(next) {
        windowStats.resize(statsWindowMs(next));
        windowStats.retainOnly(new Set(next.routes.map((route) => route.name)));
        applyToListeners(next);
      },
    },
  });
}

function buildAdminListener(
  options: SwitchyardOptions,
  observers: Observers,
  control: ControlPlane,
  workerMetrics: MetricsSource | undefined,
): AdminListener {
  const { config, logger } = options;
  const server = new AdminServer({
    control,
    adminConfig: config.admin,
    metrics: workerMetrics ?? observers.metrics,
    logger,
  });
  const limit = new ConnectionLimit([server.server], {
    listener: "admin",
    maxConnections: ADMIN_MAX_CONNECTIONS,
    logger,
    clock: observers.clock,
  });
  return { server, limit };
}

/** With `workers` above 1, the pool that serves instead of a listener of our own. */
function buildWorkers(
  options: SwitchyardOptions,
  observers: Observers,
  data: DataPlane,
): WorkerParts | undefined {
  const count = options.workers ?? 1;
  if (count <= 1) return undefined;
  return buildWorkerParts({
    count,
    config: options.config,
    runtime: data.runtime,
    changes: observers.changes,
    metrics: observers.metrics,
    windowStats: observers.windowStats,
    events: observers.events,
    logger: options.logger,
    clock: observers.clock,
  });
}

/** Health verdicts (made here, by the primary's checks) are part of what workers follow. */
function healthFollower(changes: StateChanges): UpstreamEventListener & HealthListener {
  return {
    onTransition: () => {
      changes.changed();
    },
    onOutlierEvent: () => undefined,
    onBreakerStateChange: () => undefined,
  };
}

function lateWorkers(logger: Logger, version: number): void {
  logger.warn({ version }, "a worker has not applied the latest change within a second");
}

function buildWatcher(
  options: SwitchyardOptions,
  clock: Clock,
  control: ControlPlane,
): ConfigWatcher | undefined {
  if (options.configFile === undefined || options.isWatchingConfig === false) return undefined;
  return new ConfigWatcher({
    file: options.configFile,
    logger: options.logger,
    clock,
    // The content the watcher read is the content loaded: the file is read once.
    onContent: async (content) => {
      await control.reload("watch", content);
    },
  });
}

function fleetView(fleet: FleetParts): FleetView {
  const { node } = fleet;
  return {
    replica: node.replica,
    get isConnected() {
      return node.isConnected;
    },
    status: () => node.status(),
    events: (sinceId) => node.events(sinceId),
    noteLocalWrite: (write) => {
      node.noteLocalWrite(write);
    },
  };
}
