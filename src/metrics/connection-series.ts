/**
 * The proxy listener's client connections (SPEC 8): how many are open, read from node at each
 * scrape (node counts them already, upgraded ones included, so the data path pays nothing),
 * and how many were refused for being over `server.maxConnections`.
 */
import { Counter, Gauge, type Registry } from "prom-client";
import { CONNECTIONS_OPEN, CONNECTIONS_REFUSED_TOTAL } from "./metric-names.ts";

/** A listener whose open connections can be counted (node's net.Server). */
export interface ConnectionCounter {
  getConnections(callback: (error: Error | null, count: number) => void): unknown;
}

export class ConnectionSeries {
  readonly #open: Gauge;
  readonly #refused: Counter;
  #listener: ConnectionCounter | undefined;

  constructor(registry: Registry) {
    const registers = [registry];
    this.#open = new Gauge({ ...CONNECTIONS_OPEN, registers, collect: () => this.#readOpen() });
    this.#refused = new Counter({ ...CONNECTIONS_REFUSED_TOTAL, registers });
  }

  /** The gauge reads this listener's count at each scrape (0 until one is given). */
  countConnectionsOf(listener: ConnectionCounter): void {
    this.#listener = listener;
  }

  /** A client connection closed at once because the listener was full. */
  refused(): void {
    this.#refused.inc();
  }

  async #readOpen(): Promise<void> {
    const listener = this.#listener;
    if (listener === undefined) return;
    const count = await new Promise<number | undefined>((resolve) => {
      listener.getConnections((error, open) => {
        resolve(error === null ? open : undefined);
      });
    });
    if (count !== undefined) this.#open.set(count);
  }
}
