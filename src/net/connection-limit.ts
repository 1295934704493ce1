/**
 * Caps a listener's open client connections. Node does the refusing: with `maxConnections`
 * set, a connection accepted over it is closed at once (no byte is read or written) and the
 * server emits 'drop'. Upgraded (WebSocket) sockets count until they close, and close() and
 * drain are unaffected. We only count and log the drops.
 *
 * A listener may accept on several sockets sharing its port (the proxy's, see
 * proxy/proxy-server.ts): the first server is the http server, which every connection reaches,
 * and the others hand it what they accept. Node caps each socket on its own, so each gets the
 * limit minus what the others hold, updated as connections open and close: together they never
 * hold more than the limit.
 */
import type { Server, Socket } from "node:net";
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
  readonly #servers: readonly Server[];
  readonly #log: RefusalLog;
  readonly #onRefused: (() => void) | undefined;
  #maxConnections: number;
  /** Every open connection (the first server sees each one). */
  #open = 0;
  /** Open connections per server that hands over what it accepts (index 0 unused). */
  readonly #handedOver: number[];

  /** `servers`: the http server first, then the sockets that hand it their connections. */
  constructor(servers: readonly Server[], options: ConnectionLimitOptions) {
    this.#servers = servers;
    this.#log = new RefusalLog(options, options.maxConnections);
    this.#onRefused = options.onRefused;
    this.#maxConnections = options.maxConnections;
    this.#handedOver = servers.map(() => 0);
    for (const server of servers) server.on("drop", this.#dropped);
    if (servers.length > 1) this.#countConnections();
    this.#applyCaps();
  }

  /**
   * Applies at once: node compares with `maxConnections` at each accept. Lowered below what is
   * open, the open connections stay and new ones are refused until enough have closed.
   */
  setMaxConnections(maxConnections: number): void {
    this.#maxConnections = maxConnections;
    this.#log.maxConnections = maxConnections;
    this.#applyCaps();
  }

  /** Open connections on all of the listener's sockets, as node counts them (for metrics). */
  getConnections(callback: (error: Error | null, count: number) => void): void {
    let pending = this.#servers.length;
    let total = 0;
    let failure: Error | null = null;
    for (const server of this.#servers) {
      server.getConnections((error, count) => {
        if (error === null) total += count;
        else failure = error;
        pending -= 1;
        if (pending === 0) callback(failure, total);
      });
    }
  }

  /** Stops counting and writes the last pending log line. */
  stop(): void {
    for (const server of this.#servers) server.off("drop", this.#dropped);
    this.#log.flush();
  }

  #countConnections(): void {
    this.#servers.forEach((server, index) => {
      server.on("connection", (socket: Socket) => {
        this.#changeOpen(index, 1);
        socket.once("close", () => {
          this.#changeOpen(index, -1);
        });
      });
    });
  }

  #changeOpen(index: number, delta: number): void {
    if (index === 0) this.#open += delta;
    else this.#handedOver[index] = (this.#handedOver[index] ?? 0) + delta;
    this.#applyCaps();
  }

  #applyCaps(): void {
    let handedOver = 0;
    for (const count of this.#handedOver) handedOver += count;
    this.#servers.forEach((server, index) => {
      const own = index === 0 ? this.#open - handedOver : (this.#handedOver[index] ?? 0);
      server.maxConnections = Math.max(0, this.#maxConnections - (this.#open - own));
    });
  }

  readonly #dropped = (): void => {
    this.#onRefused?.();
    this.#log.refused();
  };
}
