/** The data-plane listener: node:http with our limits, wired to the request and upgrade handlers. */
import { createServer, type Server } from "node:http";
import { createServer as createNetServer, type Server as NetServer } from "node:net";
import type { Config } from "../config/schema.ts";
import { answerClientError } from "../errors/client-error.ts";
import type { ProxyHandler } from "./handler.ts";
import type { UpgradeHandler } from "./upgrade.ts";

/**
 * Sockets listening on the proxy port besides the http server's own (they share it with
 * SO_REUSEPORT, the kernel spreading new connections over them). libuv accepts one connection
 * per listening socket each time round the event loop, and a round of a proxy busy with a
 * thousand connections takes tens of milliseconds: a burst of new clients then waited seconds
 * in the kernel's accept queue (1,000 clients at once: up to 6 s). With 32 sockets a round
 * accepts up to 32. Linux only, where sockets sharing a port split its connections.
 */
export const EXTRA_ACCEPT_SOCKETS = process.platform === "linux" ? 31 : 0;

export function createProxyServer(
  serverConfig: Config["server"],
  handler: ProxyHandler,
  upgrades: UpgradeHandler,
): Server {
  const server = createServer({
    requestTimeout: serverConfig.requestTimeout,
    headersTimeout: serverConfig.headersTimeout,
    keepAliveTimeout: serverConfig.keepAliveTimeout,
    // Read only here, once: a reload lists a change of it (config/static-keys.ts).
    maxHeaderSize: serverConfig.maxHeaderSize,
    // Node enforces headersTimeout/requestTimeout only at this interval (30 s by default).
    connectionsCheckingInterval: Math.min(1000, serverConfig.headersTimeout),
    // We check Host ourselves so the answer carries our JSON error body.
    requireHostHeader: false,
    joinDuplicateHeaders: false,
    insecureHTTPParser: false,
  });
  server.on("request", handler.handleRequest);
  server.on("checkContinue", handler.handleRequest);
  server.on("upgrade", upgrades.handleUpgrade);
  server.on("clientError", answerClientError);
  return server;
}

/**
 * `count` sockets that hand each connection they accept to `server`, which then serves it as
 * its own (node documents emitting 'connection' for this): its timeouts, closeIdleConnections
 * and closeAllConnections cover these connections too.
 */
export function createAcceptSockets(server: Server, count: number): NetServer[] {
  return Array.from({ length: count }, () =>
    // The socket options node's http server gives the connections it accepts itself.
    createNetServer({ allowHalfOpen: true, noDelay: true }, (socket) => {
      server.emit("connection", socket);
    }),
  );
}
