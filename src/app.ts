/**
 * Composition root of a running switchyard: builds the upstreams, health checks, metrics,
 * event log, control plane, the proxy and admin listeners and the config watcher, and tears
 * them down (at once, or by draining). `serve` and the integration tests start it here.
 */
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { ADMIN_MAX_CONNECTIONS, AdminServer } from "./admin/admin-server.ts";
import { checkAdminExposure } from "./admin/exposure.ts";
import type { Config } from "./config/schema.ts";
import { ConfigWatcher } from "./config/watch.ts";
import { ControlPlane } from "./control/control-plane.ts";
import { PersistedStateKeeper } from "./control/persisted-state.ts";
import { EventLog } from "./events/event-log.ts";
import type { Logger } from "./log/logger.ts";
import { Metrics } from "./metrics/metrics.ts";
import { ConnectionLimit } from "./net/connection-limit.ts";
import { FanOutRecorder } from "./proxy/fan-out-recorder.ts";
import { ProxyHandler } from "./proxy/handler.ts";
import { createProxyServer } from "./proxy/proxy-server.ts";
import type { ProxyRecorder } from "./proxy/recorder.ts";
import { UpgradeHandler } from "./proxy/upgrade.ts";
import { RolloutController } from "./rollout/rollout-controller.ts";
import { WebhookNotifier } from "./rollout/webhooks.ts";
import { longestRolloutWindowMs, WindowStats } from "./rollout/window-stats.ts";
import { Runtime } from "./runtime/runtime.ts";
import { resolveStateFile } from "./state/state-path.ts";
import { StateStore } from "./state/state-store.ts";
import { SYSTEM_CLOCK, type Clock } from "./time/clock.ts";
import { BucketRotations } from "./upstream/bucket-rotation.ts";
import { HealthChecker } from "./upstream/health-checker.ts";
import { UpstreamEvents } from "./upstream/upstream-events.ts";
import { buildUpstreams, closeUpstreams } from "./upstream/upstream-set.ts";

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
}

export interface RunningSwitchyard {
  readonly runtime: Runtime;
  readonly control: ControlPlane;
  readonly metrics: Metrics;
  readonly events: EventLog;
  readonly proxyServer: Server;
  /** The ports listened on (useful with port 0). */
  readonly proxyPort: number;
  readonly adminPort: number;
  readonly healthChecker: HealthChecker;
  /** Stops everything now: listeners, open connections, checks, pools. */
  close(): Promise<void>;
  /** SIGTERM: not ready at once, serve drainDelay more, close the listener, let requests finish. */
  drain(): Promise<void>;
}

export class StartError extends Error {
  readonly code: string;
  constructor(message: string, code: string) {
    super(message);
    this.code = code;
  }
}

/** Kept for callers that branch on a listener failure. */
export { StartError as ListenError };

export async function startSwitchyard(options: SwitchyardOptions): Promise<RunningSwitchyard> {
  const { config, logger } = options;
  const exposure = checkAdminExposure(config.listen.admin, config.admin.tokens);
  if (exposure !== undefined) throw new StartError(exposure, "EADMINEXPOSED");

  const clock = options.clock ?? SYSTEM_CLOCK;
  const events = new EventLog(clock);
  const metrics = new Metrics({ clock });
  // Rollout decisions read attempts (a canary failure retried on stable still counts).
  const windowStats = new WindowStats({ clock, longestWindowMs: statsWindowMs(config) });
  const recorder: ProxyRecorder = new FanOutRecorder(
    options.recorder === undefined
      ? [metrics, windowStats]
      : [metrics, windowStats, options.recorder],
  );
  const upstreamEvents = new UpstreamEvents(logger, events, [metrics]);
  const upstreamDeps = { clock, rotations: new BucketRotations(), listener: upstreamEvents };
  const { upstreams } = buildUpstreams(config, upstreamDeps);
  const stateKeeper = new PersistedStateKeeper(
    config.state === undefined
      ? undefined
      : new StateStore({
          file: resolveStateFile(options.configFile ?? "switchyard.yaml", config.state.file),
          logger,
          clock,
        }),
    logger,
  );
  const saved = await stateKeeper.load();
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
  const notifier = new WebhookNotifier({ logger, clock });
  // Listener-level settings follow reloads; the listeners are created after the control plane.
  const listeners: { admin?: AdminServer; proxy?: Server; proxyLimit?: ConnectionLimit } = {};
  const control = new ControlPlane({
    configFile: options.configFile ?? "(none)",
    config,
    configHash: options.configHash,
    runtime,
    upstreamDeps,
    healthChecker,
    events,
    logger,
    clock,
    ...(options.env === undefined ? {} : { env: options.env }),
    hooks: {
      reloadFinished(result) {
        metrics.configReloaded(result);
      },
      configApplied(next) {
        windowStats.resize(statsWindowMs(next));
        windowStats.retainOnly(new Set(next.routes.map((route) => route.name)));
        listeners.admin?.updateAdminConfig(next.admin);
        const server = listeners.proxy;
        if (server !== undefined) {
          server.headersTimeout = next.server.headersTimeout;
          server.requestTimeout = next.server.requestTimeout;
          server.keepAliveTimeout = next.server.keepAliveTimeout;
        }
        // Live, like the timeouts: node reads maxConnections at each accept.
        listeners.proxyLimit?.setMaxConnections(next.server.maxConnections);
      },
    },
  });
  const rollouts = new RolloutController({
    splits: runtime,
    stats: windowStats,
    notifier,
    metrics,
    persistence: stateKeeper,
    events,
    logger,
    clock,
  });
  control.rollouts = rollouts;
  metrics.syncSnapshot(runtime.current);
  metrics.configLoaded();
  await rollouts.initialize(config, saved.rollouts);

  const handlerOptions = {
    runtime,
    recorder,
    logger,
    ...(options.random === undefined ? {} : { random: options.random }),
  };
  const upgrades = new UpgradeHandler(handlerOptions);
  const proxyServer = createProxyServer(config.server, new ProxyHandler(handlerOptions), upgrades);
  const adminServer = new AdminServer({ control, adminConfig: config.admin, metrics, logger });
  // server.maxConnections also follows reloads, live (configApplied above).
  const proxyLimit = new ConnectionLimit(proxyServer, {
    listener: "proxy",
    maxConnections: config.server.maxConnections,
    logger,
    clock,
    onRefused: () => {
      metrics.connections.refused();
    },
  });
  const adminLimit = new ConnectionLimit(adminServer.server, {
    listener: "admin",
    maxConnections: ADMIN_MAX_CONNECTIONS,
    logger,
    clock,
  });
  metrics.connections.countConnectionsOf(proxyServer);
  listeners.proxy = proxyServer;
  listeners.proxyLimit = proxyLimit;
  listeners.admin = adminServer;
  const watcher =
    options.configFile !== undefined && options.isWatchingConfig !== false
      ? new ConfigWatcher({
          file: options.configFile,
          initialHash: options.configHash,
          logger,
          clock,
          onChange: async () => {
            await control.reload("watch");
          },
        })
      : undefined;

  const stopBackground = async (): Promise<void> => {
    rollouts.stop();
    await notifier.close();
    await watcher?.close();
    await healthChecker.stop();
  };
  try {
    await listen(proxyServer, config.listen.proxy.host, config.listen.proxy.port, "listen.proxy");
    try {
      await adminServer.listen(config.listen.admin.host, config.listen.admin.port);
    } catch (error) {
      proxyServer.close();
      throw listenError(error, config.listen.admin.host, config.listen.admin.port, "listen.admin");
    }
    await watcher?.start();
  } catch (error) {
    await stopBackground();
    await closeUpstreams(upstreams);
    throw error;
  }
  runtime.phase = "serving";
  const proxyPort = (proxyServer.address() as AddressInfo).port;
  const adminPort = adminServer.address()?.port ?? 0;
  logger.info(
    {
      address: `${config.listen.proxy.host}:${proxyPort}`,
      admin: `${config.listen.admin.host}:${adminPort}`,
    },
    "proxy listening",
  );

  const closeListenersNow = async (): Promise<void> => {
    await new Promise<void>((resolve) => {
      proxyServer.close(() => {
        resolve();
      });
      proxyServer.closeAllConnections();
      upgrades.closeAll();
    });
  };
  const finish = async (): Promise<void> => {
    await stopBackground();
    await adminServer.close();
    proxyLimit.stop();
    adminLimit.stop();
    await stateKeeper.flush();
    await closeUpstreams(runtime.current.upstreams);
  };
  let closing: Promise<void> | undefined;

  return {
    runtime,
    control,
    metrics,
    events,
    proxyServer,
    proxyPort,
    adminPort,
    healthChecker,
    close() {
      if (closing !== undefined) {
        // A drain is under way: stop waiting for what is still in flight.
        proxyServer.closeAllConnections();
        upgrades.closeAll();
        return closing;
      }
      closing = closeListenersNow().then(finish);
      return closing;
    },
    drain() {
      closing ??= drain().then(finish);
      return closing;
    },
  };

  async function drain(): Promise<void> {
    const { drainDelay, drainTimeout } = runtime.current.config.server;
    const startedAt = clock.now();
    runtime.phase = "draining";
    logger.info(
      { drainDelayMs: drainDelay, drainTimeoutMs: drainTimeout },
      "draining: /readyz now answers 503",
    );
    await sleep(clock, drainDelay);
    runtime.phase = "closing";
    const listenerClosed = new Promise<void>((resolve) => {
      proxyServer.close(() => {
        resolve();
      });
    });
    proxyServer.closeIdleConnections();
    upgrades.closeAll();
    logger.info("draining: listener closed, in-flight requests finishing");
    const remainingMs = Math.max(0, drainTimeout - (clock.now() - startedAt));
    const isFinished = await Promise.race([
      listenerClosed.then(() => true),
      sleep(clock, remainingMs).then(() => false),
    ]);
    if (!isFinished) {
      logger.warn(
        { drainTimeoutMs: drainTimeout },
        "drain timeout: closing the remaining connections",
      );
      proxyServer.closeAllConnections();
      await listenerClosed;
    }
    logger.info("drained");
  }
}

/** The longest window any rollout reads; a floor keeps a minute of history for status. */
function statsWindowMs(config: Config): number {
  return Math.max(60_000, longestRolloutWindowMs(config));
}

function sleep(clock: Clock, ms: number): Promise<void> {
  return new Promise((resolve) => {
    clock.setTimeout(resolve, ms);
  });
}

function listenError(error: unknown, host: string, port: number, key: string): StartError {
  const code = (error as NodeJS.ErrnoException).code ?? "ELISTEN";
  const where = `${host}:${port}`;
  const message =
    code === "EADDRINUSE"
      ? `cannot listen on ${where}: the port is already in use; stop the other process or change ${key}`
      : code === "EACCES"
        ? `cannot listen on ${where}: permission denied; use a port above 1023 or change ${key}`
        : code === "EADDRNOTAVAIL"
          ? `cannot listen on ${where}: no such address on this machine; change ${key}`
          : `cannot listen on ${where}: ${(error as Error).message}`;
  return new StartError(message, code);
}

function listen(server: Server, host: string, port: number, key: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error): void => {
      server.off("listening", onListening);
      reject(listenError(error, host, port, key));
    };
    const onListening = (): void => {
      server.off("error", onError);
      resolve();
    };
    server.once("error", onError);
    server.once("listening", onListening);
    server.listen(port, host);
  });
}
