/**
 * The proxy listener, built and wired but not listening: the node:http server with the request
 * and upgrade handlers, its connection limit, and its reloadable settings. A single process
 * builds one; with `workers` above 1 each worker builds its own on the shared port.
 */
import type { Config } from "../config/schema.ts";
import { HttpListener } from "../lifecycle/http-listener.ts";
import type { PortSharing } from "../lifecycle/listen.ts";
import type { Logger } from "../log/logger.ts";
import type { Metrics } from "../metrics/metrics.ts";
import { ConnectionLimit } from "../net/connection-limit.ts";
import type { Runtime } from "../runtime/runtime.ts";
import type { Clock } from "../time/clock.ts";
import { ProxyHandler } from "./handler.ts";
import { createAcceptSockets, createProxyServer, EXTRA_ACCEPT_SOCKETS } from "./proxy-server.ts";
import type { ProxyRecorder } from "./recorder.ts";
import { UpgradeHandler } from "./upgrade.ts";

export interface ProxyListenerOptions {
  readonly config: Config;
  readonly runtime: Runtime;
  /** Everything the data path reports to (metrics first). */
  readonly recorder: ProxyRecorder;
  readonly metrics: Metrics;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly random?: () => number;
  /** The port to listen on, when not the config's (a worker's, resolved from port 0). */
  readonly port?: number;
  /** A worker's: the port is shared with the other workers. */
  readonly sharing?: PortSharing;
}

export interface ProxyListener {
  readonly proxy: HttpListener;
  readonly upgrades: UpgradeHandler;
}

export function buildProxyListener(options: ProxyListenerOptions): ProxyListener {
  const { config, runtime, metrics, logger, clock } = options;
  const handlerOptions = {
    runtime,
    recorder: options.recorder,
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
    port: options.port ?? port,
    key: "listen.proxy",
    acceptSockets,
    tunnels: upgrades,
    limit,
    ...(options.sharing === undefined ? {} : { sharing: options.sharing }),
  });
  return { proxy, upgrades };
}

/** The proxy listener's reloadable settings: Node reads them at each connection or request. */
export function applyServerSettings(proxy: HttpListener, next: Config): void {
  const { server } = proxy;
  server.headersTimeout = next.server.headersTimeout;
  server.requestTimeout = next.server.requestTimeout;
  server.keepAliveTimeout = next.server.keepAliveTimeout;
  // Node reads maxConnections at each accept.
  proxy.limit.setMaxConnections(next.server.maxConnections);
}
