/**
 * A worker's life from its first snapshot to its exit: build the data plane, listen on the
 * shared port, follow snapshots, report, and end by a drain (SPEC 8) or at once. Ends with the
 * exit code: 0 after a drain or a close, 1 when it could not listen.
 */
import type { LoggedEvent } from "../events/event-log.ts";
import { Drain } from "../lifecycle/drain.ts";
import { StartError } from "../lifecycle/listen.ts";
import { closeUpstreams } from "../upstream/upstream-set.ts";
import { firstSnapshot, onPrimaryMessage, sendToPrimary } from "./worker-channel.ts";
import { WorkerDataPlane, type WorkerOptions } from "./worker-data-plane.ts";
import type { ToWorker } from "./worker-messages.ts";
import { WorkerReporter } from "./worker-reporter.ts";

export class WorkerLife {
  readonly #options: WorkerOptions;
  #plane: WorkerDataPlane | undefined;
  #drain: Drain | undefined;
  #ending: Promise<void> | undefined;
  #ended: (() => void) | undefined;

  constructor(options: WorkerOptions) {
    this.#options = options;
  }

  async run(): Promise<number> {
    const { logger, clock } = this.#options;
    const ended = new Promise<void>((resolve) => {
      this.#ended = resolve;
    });
    // The primary gone (killed): close at once, since nobody is left to follow or report to.
    process.once("disconnect", () => {
      this.#close();
    });
    const plane = new WorkerDataPlane(await firstSnapshot(), {
      ...this.#options,
      onUpstreamEvent: (event) => void sendToPrimary(upstreamEventMessage(event)),
    });
    this.#plane = plane;
    onPrimaryMessage((message) => {
      this.#handle(message);
    });
    try {
      await plane.proxy.start();
    } catch (error) {
      const { message, code } =
        error instanceof StartError ? error : new StartError(String(error), "ELISTEN");
      await sendToPrimary({ type: "listenFailed", message, code });
      return 1;
    }
    plane.runtime.phase = "serving";
    const reporter = new WorkerReporter({
      clock,
      windowStats: plane.windowStats,
      metrics: plane.metrics,
      upstreams: () => plane.runtime.current.upstreams,
      send: (report) => sendToPrimary({ type: "report", report }),
    });
    // Before "listening": status counts this worker's breakers from the start.
    await reporter.start();
    await sendToPrimary({ type: "listening", port: plane.proxy.port });
    await sendToPrimary({ type: "applied", version: plane.version });
    for (const signal of ["SIGTERM", "SIGINT"] as const) {
      process.on(signal, () => {
        this.#startDrain();
      });
    }
    logger.info({ port: plane.proxy.port, pid: process.pid }, "worker serving");
    await ended;
    await this.#ending;
    await reporter.stop();
    await closeUpstreams(plane.runtime.current.upstreams);
    plane.proxy.limit.stop();
    return 0;
  }

  #handle(message: ToWorker): void {
    const plane = this.#plane;
    if (plane === undefined) return;
    if (message.type === "snapshot") {
      plane.apply(message.snapshot);
      void sendToPrimary({ type: "applied", version: plane.version });
    } else if (message.type === "drain") {
      this.#startDrain();
    } else {
      this.#close();
    }
  }

  /** SIGTERM: SPEC 8's drain, once. */
  #startDrain(): void {
    const plane = this.#plane;
    if (plane === undefined || this.#ending !== undefined) return;
    const { clock, logger } = this.#options;
    const drain = new Drain({ target: plane.runtime, listeners: [plane.proxy], clock, logger });
    this.#drain = drain;
    this.#ending = drain.run();
    this.#ended?.();
  }

  /** Closes every connection now; cuts a drain under way short. */
  #close(): void {
    const plane = this.#plane;
    if (plane === undefined) {
      process.exit(0);
    }
    if (this.#drain !== undefined) {
      this.#drain.cutShort();
      return;
    }
    if (this.#ending !== undefined) return;
    plane.runtime.phase = "closing";
    this.#ending = plane.proxy.stop();
    this.#ended?.();
  }
}

function upstreamEventMessage(event: LoggedEvent) {
  const { id: _id, at: _at, type, ...data } = event;
  return { type: "event" as const, kind: type, data };
}
