/**
 * The parts of a running process that start and stop: listeners, watchers, background work.
 * They start in order and stop in reverse, so a part never outlives what it depends on; a
 * failed start stops what had started before the error is passed on.
 */
import type { Logger } from "../log/logger.ts";

export interface Component {
  /** Named in logs ("proxy listener", "config watcher"). */
  readonly name: string;
  start(): Promise<void>;
  /** Resolves once the part has let go of everything it held (sockets, timers, files). */
  stop(): Promise<void>;
}

/** A part that is running once built (its constructor started it): only its stop is left. */
export function stopOnly(name: string, stop: () => Promise<void> | void): Component {
  return {
    name,
    start: () => Promise.resolve(),
    stop: async () => {
      await stop();
    },
  };
}

/** Some components failed to stop; every other one was stopped all the same. */
export class StopError extends AggregateError {
  constructor(errors: readonly unknown[], names: readonly string[]) {
    super(errors, `cannot stop ${names.join(", ")}`);
    this.name = "StopError";
  }
}

/**
 * The components started so far, in order. `start` may be called more than once (parts that
 * are built from what earlier parts loaded); a failure stops everything this lifecycle started.
 */
export class Lifecycle {
  readonly #logger: Logger;
  readonly #started: Component[] = [];
  #stopping: Promise<void> | undefined;

  constructor(logger: Logger) {
    this.#logger = logger;
  }

  /**
   * Starts the components one after the other. When one fails, the ones already started are
   * stopped in reverse (a stop that fails is logged) and the start's own error is rethrown.
   */
  async start(components: readonly Component[]): Promise<void> {
    if (this.#stopping !== undefined) throw new Error("the lifecycle is stopped");
    for (const component of components) {
      try {
        await component.start();
      } catch (error) {
        this.#logger.info(
          { component: component.name },
          "a component failed to start: stopping the ones started before it",
        );
        await this.stop().catch(() => {
          // Each failed stop has been logged; the start's error says what went wrong.
        });
        throw error;
      }
      this.#started.push(component);
    }
  }

  /**
   * Stops every started component in reverse order, each awaited before the next. A stop that
   * fails is logged and the rest still stop; then this rejects with a StopError. Calling it
   * again returns the same promise.
   */
  stop(): Promise<void> {
    this.#stopping ??= this.#stopAll();
    return this.#stopping;
  }

  async #stopAll(): Promise<void> {
    const errors: unknown[] = [];
    const names: string[] = [];
    for (const component of this.#started.splice(0).reverse()) {
      try {
        await component.stop();
      } catch (error) {
        this.#logger.error({ err: error, component: component.name }, "cannot stop a component");
        errors.push(error);
        names.push(component.name);
      }
    }
    if (errors.length > 0) throw new StopError(errors, names);
  }
}
