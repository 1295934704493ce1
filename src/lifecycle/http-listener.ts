/**
 * An HTTP listener (the proxy's) as a lifecycle component that takes part in the drain. Its
 * stop closes every connection at once; a drain closes it gently first, and the stop that
 * follows only ends what the drain left.
 */
import type { Server } from "node:http";
import type { AddressInfo, Server as NetServer } from "node:net";
import type { ConnectionLimit } from "../net/connection-limit.ts";
import type { Component } from "./component.ts";
import type { DrainableListener } from "./drain.ts";
import { listenSharingPort, type PortSharing } from "./listen.ts";

export interface HttpListenerOptions {
  readonly name: string;
  readonly server: Server;
  /** Sockets on the same port that hand `server` what they accept (proxy/proxy-server.ts). */
  readonly acceptSockets: readonly NetServer[];
  readonly host: string;
  readonly port: number;
  /** The config key of the address, named when it cannot be listened on. */
  readonly key: string;
  /** Upgraded sockets (tunnels): server.close() and closeAllConnections() do not end them. */
  readonly tunnels: { closeAll(): void };
  readonly limit: ConnectionLimit;
  /** A worker's listener shares the port with the other workers' (SPEC 11). */
  readonly sharing?: PortSharing;
}

export class HttpListener implements Component, DrainableListener {
  readonly name: string;
  readonly server: Server;
  /** Follows reloads of server.maxConnections. */
  readonly limit: ConnectionLimit;
  readonly #options: HttpListenerOptions;
  #closed: Promise<void> | undefined;

  constructor(options: HttpListenerOptions) {
    this.name = options.name;
    this.server = options.server;
    this.limit = options.limit;
    this.#options = options;
  }

  /** The port listened on (the OS's choice for port 0); 0 before the start. */
  get port(): number {
    const address = this.server.address() as AddressInfo | null;
    return address?.port ?? 0;
  }

  start(): Promise<void> {
    const { host, port, key, acceptSockets, sharing } = this.#options;
    return listenSharingPort([this.server, ...acceptSockets], host, port, key, sharing);
  }

  async stop(): Promise<void> {
    const closed = this.stopAccepting();
    this.closeAll();
    await closed;
    this.limit.stop();
  }

  stopAccepting(): Promise<void> {
    const servers: readonly NetServer[] = [this.server, ...this.#options.acceptSockets];
    this.#closed ??= Promise.all(servers.map(closed)).then(() => undefined);
    return this.#closed;
  }

  closeIdle(): void {
    this.server.closeIdleConnections();
    this.#options.tunnels.closeAll();
  }

  closeAll(): void {
    this.server.closeAllConnections();
    this.#options.tunnels.closeAll();
  }
}

/** Closes `server`; resolves once every connection it accepted has ended. */
function closed(server: NetServer): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => {
      resolve();
    });
  });
}
