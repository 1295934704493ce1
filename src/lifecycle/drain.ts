/**
 * Graceful drain (SPEC 8, SIGTERM): /readyz turns 503 at once, new connections are served for
 * `drainDelay` more so load balancers notice, then the listeners close, idle connections and
 * tunnels close, requests in flight finish (with `Connection: close`), and whatever is still
 * open at `drainTimeout` (counted from the start) is destroyed. `cutShort` ends the waiting:
 * a second signal, or close() during a drain.
 */
import type { Logger } from "../log/logger.ts";
import type { LifecyclePhase } from "../runtime/runtime.ts";
import type { Clock, TimerHandle } from "../time/clock.ts";

/** A listener that takes part in the drain. */
export interface DrainableListener {
  /** Stops accepting connections; resolves once every connection has ended. Idempotent. */
  stopAccepting(): Promise<void>;
  /** Closes idle keep-alive connections and open tunnels; requests in flight go on. */
  closeIdle(): void;
  /** Closes every connection now. */
  closeAll(): void;
}

/** What the drain moves through its phases, and where it reads the live drain settings. */
export interface DrainTarget {
  phase: LifecyclePhase;
  readonly current: {
    readonly config: {
      readonly server: { readonly drainDelay: number; readonly drainTimeout: number };
    };
  };
}

export interface DrainOptions {
  readonly target: DrainTarget;
  readonly listeners: readonly DrainableListener[];
  readonly clock: Clock;
  readonly logger: Logger;
}

export class Drain {
  readonly #options: DrainOptions;
  #isCutShort = false;
  #timer: TimerHandle | undefined;
  #wake: (() => void) | undefined;

  constructor(options: DrainOptions) {
    this.#options = options;
  }

  /** Runs the drain once; resolves when every listener is closed and every connection ended. */
  async run(): Promise<void> {
    const { target, listeners, clock, logger } = this.#options;
    // Settings as of now: a reload during the drain does not move its deadlines.
    const { drainDelay, drainTimeout } = target.current.config.server;
    const startedAt = clock.now();
    target.phase = "draining";
    logger.info(
      { drainDelayMs: drainDelay, drainTimeoutMs: drainTimeout },
      "draining: /readyz now answers 503",
    );
    await this.#wait(drainDelay);
    target.phase = "closing";
    const closed = Promise.all(listeners.map((listener) => listener.stopAccepting()));
    for (const listener of listeners) listener.closeIdle();
    logger.info("draining: listener closed, in-flight requests finishing");
    const remainingMs = Math.max(0, drainTimeout - (clock.now() - startedAt));
    const isFinished = await Promise.race([
      closed.then(() => true),
      this.#wait(remainingMs).then(() => false),
    ]);
    this.#stopWaiting();
    if (!isFinished) {
      if (!this.#isCutShort) {
        logger.warn(
          { drainTimeoutMs: drainTimeout },
          "drain timeout: closing the remaining connections",
        );
      }
      for (const listener of listeners) listener.closeAll();
      await closed;
    }
    logger.info("drained");
  }

  /** Stops waiting: the delay and the timeout end now, and every connection closes. */
  cutShort(): void {
    this.#isCutShort = true;
    for (const listener of this.#options.listeners) listener.closeAll();
    this.#wake?.();
  }

  /** Sleeps `ms`, or not at all once cut short. */
  #wait(ms: number): Promise<void> {
    if (this.#isCutShort) return Promise.resolve();
    return new Promise((resolve) => {
      this.#wake = resolve;
      this.#timer = this.#options.clock.setTimeout(resolve, ms);
    });
  }

  #stopWaiting(): void {
    this.#timer?.cancel();
    this.#timer = undefined;
    this.#wake = undefined;
  }
}
