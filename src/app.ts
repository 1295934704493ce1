/**
 * Composition root of a running switchyard: builds the upstreams, health checks, snapshot,
 * handlers and listener, and tears them down. `serve` and the integration tests start it here.
 */
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Config } from "./config/schema.ts";
import type { Logger } from "./log/logger.ts";
import { ProxyHandler } from "./proxy/handler.ts";
import { createProxyServer } from "./proxy/proxy-server.ts";
import { NOOP_RECORDER, type ProxyRecorder } from "./proxy/recorder.ts";
import { UpgradeHandler } from "./proxy/upgrade.ts";
import { Runtime } from "./runtime/runtime.ts";
import { buildSnapshot } from "./runtime/snapshot.ts";
import { SYSTEM_CLOCK, type Clock } from "./time/clock.ts";
import { BucketRotations } from "./upstream/bucket-rotation.ts";
import { HealthChecker } from "./upstream/health-checker.ts";
import { loggingUpstreamListener } from "./upstream/upstream-event-log.ts";
import { buildUpstreams, closeUpstreams, type UpstreamDeps } from "./upstream/upstream-set.ts";

export interface SwitchyardOptions {
  config: Config;
  configHash: string;
  logger: Logger;
  recorder?: ProxyRecorder;
  random?: () => number;
  clock?: Clock;
}

export interface RunningSwitchyard {
  readonly runtime: Runtime;
  readonly proxyServer: Server;
  /** The port the data plane listens on (useful with port 0). */
  readonly proxyPort: number;
  readonly healthChecker: HealthChecker;
  close(): Promise<void>;
}

export class ListenError extends Error {
  readonly code: string;
  constructor(message: string, code: string) {
    super(message);
    this.code = code;
  }
}

export async function startSwitchyard(options: SwitchyardOptions): Promise<RunningSwitchyard> {
  const { config, logger } = options;
  const clock = options.clock ?? SYSTEM_CLOCK;
  const recorder = options.recorder ?? NOOP_RECORDER;
  const rotations = new BucketRotations();
  const upstreamDeps: UpstreamDeps = {
    clock,
    rotations,
    listener: loggingUpstreamListener(logger),
  };
  const { upstreams } = buildUpstreams(config, upstreamDeps);
  const healthChecker = new HealthChecker({
    upstreams,
    logger,
    clock,
    ...(options.random === undefined ? {} : { random: options.random }),
  });
  const runtime = new Runtime(buildSnapshot(config, options.configHash, upstreams));
  const handlerOptions = {
    runtime,
    recorder,
    logger,
    ...(options.random === undefined ? {} : { random: options.random }),
  };
  const upgrades = new UpgradeHandler(handlerOptions);
  const proxyServer = createProxyServer(config.server, new ProxyHandler(handlerOptions), upgrades);
  const { host, port } = config.listen.proxy;
  try {
    await listen(proxyServer, host, port, "listen.proxy");
  } catch (error) {
    await healthChecker.stop();
    await closeUpstreams(upstreams);
    throw error;
  }
  const proxyPort = (proxyServer.address() as AddressInfo).port;
  logger.info({ address: `${host}:${proxyPort}` }, "proxy listening");

  return {
    runtime,
    proxyServer,
    proxyPort,
    healthChecker,
    async close() {
      await new Promise<void>((resolve) => {
        proxyServer.close(() => {
          resolve();
        });
        proxyServer.closeAllConnections();
        upgrades.closeAll();
      });
      await healthChecker.stop();
      await closeUpstreams(runtime.current.upstreams);
    },
  };
}

function listen(server: Server, host: string, port: number, key: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException): void => {
      server.off("listening", onListening);
      const where = `${host}:${port}`;
      const message =
        error.code === "EADDRINUSE"
          ? `cannot listen on ${where}: the port is already in use; stop the other process or change ${key}`
          : error.code === "EACCES"
            ? `cannot listen on ${where}: permission denied; use a port above 1023 or change ${key}`
            : error.code === "EADDRNOTAVAIL"
              ? `cannot listen on ${where}: no such address on this machine; change ${key}`
              : `cannot listen on ${where}: ${error.message}`;
      reject(new ListenError(message, error.code ?? "ELISTEN"));
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
