/**
 * Refused connections come in floods: one warn line at most per interval, saying how many were
 * refused since the previous line, so a flood of connections is not also a flood of log lines.
 * The first refusal after a quiet interval is logged at once; later ones wait for the interval.
 */
import type { Logger } from "../log/logger.ts";
import type { Clock, TimerHandle } from "../time/clock.ts";

export const REFUSAL_LOG_INTERVAL_MS = 1000;

export interface RefusalLogOptions {
  /** Which listener refused ("proxy", "admin"), logged with each line. */
  readonly listener: string;
  readonly logger: Logger;
  readonly clock: Clock;
}

export class RefusalLog {
  readonly #options: RefusalLogOptions;
  #pending = 0;
  #lastLineAt = -Infinity;
  #timer: TimerHandle | undefined;
  /** The limit in force, logged with each line. */
  maxConnections: number;

  constructor(options: RefusalLogOptions, maxConnections: number) {
    this.#options = options;
    this.maxConnections = maxConnections;
  }

  refused(): void {
    this.#pending += 1;
    if (this.#timer !== undefined) return;
    const waitMs = this.#lastLineAt + REFUSAL_LOG_INTERVAL_MS - this.#options.clock.now();
    if (waitMs <= 0) {
      this.#writeLine();
      return;
    }
    this.#timer = this.#options.clock.setTimeout(() => {
      this.#timer = undefined;
      this.#writeLine();
    }, waitMs);
  }

  /** Writes what is still pending now and stops the timer (the listener is closing). */
  flush(): void {
    this.#timer?.cancel();
    this.#timer = undefined;
    if (this.#pending > 0) this.#writeLine();
  }

  #writeLine(): void {
    const { listener, logger, clock } = this.#options;
    logger.warn(
      { listener, refused: this.#pending, maxConnections: this.maxConnections },
      "connections refused: the listener already holds its maximum of open connections",
    );
    this.#pending = 0;
    this.#lastLineAt = clock.now();
  }
}
