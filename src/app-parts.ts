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
import { HttpListener } from "./lifecycle/http-listener.ts";
import { Metrics } from "./metrics/metrics.ts";
import { ConnectionLimit } from "./net/connection-limit.ts";
import { FanOutRecorder } from "./proxy/fan-out-recorder.ts";
import { ProxyHandler } from "./proxy/handler.ts";
import {
  createAcceptSockets,
  createProxyServer,
  EXTRA_ACCEPT_SOCKETS,
} from "./proxy/proxy-server.ts";
import type { ProxyRecorder } from "./proxy/recorder.ts";
import { UpgradeHandler } from "./proxy/upgrade.ts";
import { RolloutController } from "./rollout/rollout-controller.ts";
import { WebhookNotifier } from "./rollout/webhooks.ts";
import { longestRolloutWindowMs, WindowStats } from "./rollout/window-stats.ts";
import type { EndpointStates } from "./runtime/endpoint-states.ts";
import { Runtime } from "./runtime/runtime.ts";
import type { SplitOverride } from "./runtime/split-overrides.ts";
import { resolveStateFile } from "./state/state-path.ts";
import { StateStore } from "./state/state-store.ts";
import { SYSTEM_CLOCK, type Clock } from "./time/clock.ts";
import { BucketRotations } from "./upstream/bucket-rotation.ts";
import { HealthChecker } from "./upstream/health-checker.ts";
import { UpstreamEvents } from "./upstream/upstream-events.ts";
import { buildUpstreams, type UpstreamDeps } from "./upstream/upstream-set.ts";

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
  readonly proxy: HttpListener;
  readonly upgrades: UpgradeHandler;
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
  const { proxy, upgrades } = buildProxyListener(options, observers, data.runtime);
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
  const control = buildControl(options, observers, data, rollouts, fleet, (next) => {
    applyServerSettings(proxy, next);
    built.adminServer?.updateAdminConfig(next.admin);
    fleet?.node.resize(statsWindowMs(next));
  });
  observers.metrics.syncSnapshot(data.runtime.current);
  observers.metrics.configLoaded();
  const admin = buildAdminListener(options, observers, control);
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
  return { clock, events: new EventLog(clock), metrics, windowStats, recorder };
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
  const { clock, events, metrics } = observers;
  const upstreamEvents = new UpstreamEvents(logger, events, [metrics]);
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
      },
      overridesChanged(overrides) {
        stateKeeper.setOverrides(overrides);
      },
      endpointStatesChanged(states) {
        stateKeeper.setEndpointStates(states);
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
  fleet: FleetParts | undefined,
  applyToListeners: (next: Config) => void,
): ControlPlane {
  const { metrics, windowStats } = observers;
  return new ControlPlane({
    ...(fleet === undefined ? {} : { writer: fleet.writer, fleet: fleetView(fleet) }),
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

function buildProxyListener(
  options: SwitchyardOptions,
  observers: Observers,
  runtime: Runtime,
): { proxy: HttpListener; upgrades: UpgradeHandler } {
  const { config, logger } = options;
  const { clock, metrics } = observers;
  const handlerOptions = {
    runtime,
    recorder: observers.recorder,
    logger,
    ...(options.random === undefined ? {} : { random: options.random }),
  };
  const upgrades = new UpgradeHandler(handlerOptions);
  const server = createProxyServer(config.server, new ProxyHandler(handlerOptions), upgrades);
  const acceptSockets = createAcceptSockets(server, EXTRA_ACCEPT_SOCKETS);
  // server.maxConnections follows reloads, live (applyServerSettings).
  const limit = new ConnectionLimit([server, ...acceptSockets], {
    listener: "proxy",
    maxConnections: config.server.maxConnections,
    logger,
    clock,
    onRefused: () => {
      metrics.connections.refused();
    },
  });
  metrics.connections.countConnectionsOf(limit);
  const { host, port } = config.listen.proxy;
  const proxy = new HttpListener({
    name: "proxy listener",
    server,
    host,
    port,
    key: "listen.proxy",
    acceptSockets,
    tunnels: upgrades,
    limit,
  });
  return { proxy, upgrades };
}

function buildAdminListener(
  options: SwitchyardOptions,
  observers: Observers,
  control: ControlPlane,
): AdminListener {
  const { config, logger } = options;
  const server = new AdminServer({
    control,
    adminConfig: config.admin,
    metrics: observers.metrics,
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

/** The proxy listener's reloadable settings: Node reads them at each connection or request. */
function applyServerSettings(proxy: HttpListener, next: Config): void {
  const { server } = proxy;
  server.headersTimeout = next.server.headersTimeout;
  server.requestTimeout = next.server.requestTimeout;
  server.keepAliveTimeout = next.server.keepAliveTimeout;
  // Node reads maxConnections at each accept.
  proxy.limit.setMaxConnections(next.server.maxConnections);
}

/** The longest window any rollout reads; a floor keeps a minute of history for status. */
function statsWindowMs(config: Config): number {
  return Math.max(60_000, longestRolloutWindowMs(config));
}
