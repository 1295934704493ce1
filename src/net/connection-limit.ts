/**
 * Caps a listener's open client connections. Node does the refusing: with `maxConnections`
 * set, a connection accepted over it is closed at once (no byte is read or written) and the
 * server emits 'drop'. Upgraded (WebSocket) sockets count until they close, and close() and
 * drain are unaffected. We only count and log the drops.
 */
import type { Server } from "node:net";
import type { Logger } from "../log/logger.ts";
import type { Clock } from "../time/clock.ts";
import { RefusalLog } from "./refusal-log.ts";

export interface ConnectionLimitOptions {
  /** Which listener this is ("proxy", "admin"), for the log. */
  readonly listener: string;
  readonly maxConnections: number;
  readonly logger: Logger;
  readonly clock: Clock;
  /** Called once per refused connection (the proxy's counter). */
  readonly onRefused?: () => void;
}

export class ConnectionLimit {
  readonly #server: Server;
  readonly #log: RefusalLog;
  readonly #onRefused: (() => void) | undefined;

  constructor(server: Server, options: ConnectionLimitOptions) {
    this.#server = server;
    this.#log = new RefusalLog(options, options.maxConnections);
    this.#onRefused = options.onRefused;
    server.maxConnections = options.maxConnections;
    server.on("drop", this.#dropped);
  }

  /**
   * Applies at once: node compares with `maxConnections` at each accept. Lowered below what is
   * open, the open connections stay and new ones are refused until enough have closed.
   */
  setMaxConnections(maxConnections: number): void {
    this.#server.maxConnections = maxConnections;
    this.#log.maxConnections = maxConnections;
  }

  /** Stops counting and writes the last pending log line. */
  stop(): void {
    this.#server.off("drop", this.#dropped);
    this.#log.flush();
  }

  readonly #dropped = (): void => {
    this.#onRefused?.();
    this.#log.refused();
  };
}
