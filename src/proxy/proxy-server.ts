/** The data-plane listener: node:http with our limits, wired to the request and upgrade handlers. */
import { createServer, type Server } from "node:http";
import type { Config } from "../config/schema.ts";
import { answerClientError } from "../errors/client-error.ts";
import type { ProxyHandler } from "./handler.ts";
import type { UpgradeHandler } from "./upgrade.ts";

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
