/**
 * The primary's workers (SPEC 11): it forks `count` of them on the proxy port (SO_REUSEPORT:
 * the kernel shares out new connections, and the primary's `listening` event never fires, so
 * each worker says it listens over IPC), sends each the latest snapshot and every change, and
 * replaces one that dies (after a backoff that grows while it keeps dying young) without
 * touching the others. A slot keeps its id across replacements; status lists the slots.
 */
import cluster, { type Worker } from "node:cluster";
import { extname } from "node:path";
import { fileURLToPath } from "node:url";
import { backoffDelayMs, type BackoffPolicy } from "../fleet/backoff.ts";
import type { Component } from "../lifecycle/component.ts";
import { StartError } from "../lifecycle/listen.ts";
import type { Logger } from "../log/logger.ts";
import type { Clock, TimerHandle } from "../time/clock.ts";
import {
  isFromWorker,
  WORKER_ENV,
  type FromWorker,
  type ToWorker,
  type WorkerReport,
  type WorkerPlace,
  type WorkerSnapshot,
} from "./worker-messages.ts";
import type { WorkerStatus } from "./worker-status.ts";

/** A worker that dies within this long of its start counts as dying young (a crash loop). */
const YOUNG_MS = 10_000;
const RESTART_BACKOFF: BackoffPolicy = { baseMs: 100, maxMs: 10_000, jitter: 0 };
/** Young deaths in a row from which a slot is reported as crash-looping. */
const CRASH_LOOP_DEATHS = 3;
/** How long `stop` waits for workers told to close before it kills them. */
const CLOSE_GRACE_MS = 5000;

export interface WorkerPoolOptions {
  readonly count: number;
  /** listen.proxy's port; 0 lets the first worker's listener choose, the others then share it. */
  readonly port: number;
  readonly logger: Logger;
  readonly clock: Clock;
  /** The current state, as the snapshot a worker follows. */
  readonly snapshotOf: (version: number) => WorkerSnapshot;
  readonly onReport: (slot: number, report: WorkerReport) => void;
  readonly onEvent: (slot: number, kind: string, data: Record<string, unknown>) => void;
  /** A worker exited (its reports end). */
  readonly onExit: (slot: number) => void;
  /** A dead worker's replacement was started. */
  readonly onRestart: (slot: number) => void;
  /** How long a drain may last (server.drainTimeout): workers still alive after it are killed. */
  readonly drainTimeoutMs: () => number;
}

type SlotState = WorkerStatus["state"];

interface Slot {
  readonly id: number;
  worker: Worker | undefined;
  state: SlotState;
  startedAtMs: number;
  startedAt: string;
  restarts: number;
  youngDeaths: number;
  applied: number;
  restartTimer: TimerHandle | undefined;
  /** Resolves when the current process has exited. */
  exited: Promise<void>;
}

export class WorkerPool implements Component {
  readonly name = "workers";
  readonly #options: WorkerPoolOptions;
  readonly #slots: Slot[];
  #port: number;
  #version = 0;
  #latest: WorkerSnapshot;
  #isStopping = false;
  /** The start under way: settles when every worker listens, or one fails. */
  #startup: { resolve: () => void; reject: (error: Error) => void } | undefined;
  readonly #appliedWaiters = new Set<() => void>();

  constructor(options: WorkerPoolOptions) {
    this.#options = options;
    this.#port = options.port;
    this.#latest = options.snapshotOf(0);
    this.#slots = Array.from({ length: options.count }, (_, index) => newSlot(index + 1));
    cluster.setupPrimary({ exec: workerEntry(), serialization: "advanced" });
  }

  /** The port the workers share (the one chosen for port 0 once the first one listens). */
  get port(): number {
    return this.#port;
  }

  get version(): number {
    return this.#version;
  }

  /** At least one worker serves. */
  get isServing(): boolean {
    return this.#slots.some((slot) => slot.state === "serving");
  }

  /** The first worker first (it resolves port 0), then the others together. */
  async start(): Promise<void> {
    try {
      const [first, ...others] = this.#slots;
      if (first !== undefined) await this.#startAll([first]);
      await this.#startAll(others);
    } catch (error) {
      await this.stop();
      throw error;
    }
  }

  /** Sends the current state to every worker, as the next version. */
  publish(): void {
    this.#version++;
    this.#latest = this.#options.snapshotOf(this.#version);
    for (const slot of this.#slots) this.#send(slot, { type: "snapshot", snapshot: this.#latest });
  }

  /**
   * Resolves true once every serving worker applied the latest version, false after
   * `timeoutMs` (a worker stuck or dying: it gets the latest when it is replaced).
   */
  settled(timeoutMs: number): Promise<boolean> {
    return new Promise((resolve) => {
      const check = (): void => {
        if (!this.#isSettled()) return;
        finish(true);
      };
      const timer = this.#options.clock.setTimeout(() => {
        finish(false);
      }, timeoutMs);
      const finish = (isSettled: boolean): void => {
        timer.cancel();
        this.#appliedWaiters.delete(check);
        resolve(isSettled);
      };
      this.#appliedWaiters.add(check);
      check();
    });
  }

  status(): WorkerStatus[] {
    return this.#slots.map((slot) => ({
      id: slot.id,
      pid: slot.worker?.process.pid ?? 0,
      startedAt: slot.startedAt,
      restarts: slot.restarts,
      state: slot.state,
    }));
  }

  /** SIGTERM: every worker drains (SPEC 8); resolves when all have exited. */
  async drain(): Promise<void> {
    this.#isStopping = true;
    for (const slot of this.#slots) {
      slot.restartTimer?.cancel();
      this.#send(slot, { type: "drain" });
    }
    const deadline = this.#options.drainTimeoutMs() + CLOSE_GRACE_MS;
    await this.#exitedWithin(deadline);
  }

  /** Tells every worker to close now; kills those still alive after a grace period. */
  async stop(): Promise<void> {
    this.#isStopping = true;
    for (const slot of this.#slots) {
      slot.restartTimer?.cancel();
      this.#send(slot, { type: "close" });
    }
    await this.#exitedWithin(CLOSE_GRACE_MS);
  }

  async #exitedWithin(ms: number): Promise<void> {
    const all = Promise.all(this.#slots.map((slot) => slot.exited));
    let timer: TimerHandle | undefined;
    const isDone = await Promise.race([
      all.then(() => true),
      new Promise<boolean>((resolve) => {
        timer = this.#options.clock.setTimeout(() => {
          resolve(false);
        }, ms);
      }),
    ]);
    timer?.cancel();
    if (isDone) return;
    for (const slot of this.#slots) {
      if (slot.worker === undefined) continue;
      this.#options.logger.warn({ worker: slot.id }, "worker did not exit in time: killing it");
      slot.worker.process.kill("SIGKILL");
    }
    await all;
  }

  #startAll(slots: readonly Slot[]): Promise<void> {
    if (slots.length === 0) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      this.#startup = {
        resolve: () => {
          if (slots.every((slot) => slot.state === "serving")) resolve();
        },
        reject,
      };
      for (const slot of slots) this.#fork(slot);
    }).finally(() => {
      this.#startup = undefined;
    });
  }

  #fork(slot: Slot): void {
    const place: WorkerPlace = {
      slot: slot.id,
      count: this.#options.count,
      port: this.#port,
      isJoining: this.#slots.some((other) => other !== slot && other.state === "serving"),
    };
    const worker = cluster.fork({ [WORKER_ENV]: JSON.stringify(place) });
    slot.worker = worker;
    slot.state = "starting";
    slot.applied = 0;
    slot.startedAtMs = this.#options.clock.now();
    slot.startedAt = new Date(this.#options.clock.wallNow()).toISOString();
    // Its last messages (the final report) are read by the time the channel is closed.
    const disconnected = new Promise<void>((resolve) => worker.once("disconnect", resolve));
    slot.exited = new Promise((resolve) => {
      worker.once("exit", (code: number | null, signal: string | null) => {
        void disconnected.then(() => {
          this.#exited(slot, worker, code, signal);
          resolve();
        });
      });
    });
    worker.on("message", (message: unknown) => {
      if (isFromWorker(message)) this.#receive(slot, message);
    });
  }

  #receive(slot: Slot, message: FromWorker): void {
    switch (message.type) {
      case "hello":
        this.#send(slot, { type: "snapshot", snapshot: this.#latest });
        return;
      case "listening":
        this.#listening(slot, message.port);
        return;
      case "listenFailed":
        this.#listenFailed(slot, message.message, message.code);
        return;
      case "applied":
        slot.applied = Math.max(slot.applied, message.version);
        this.#recheckSettled();
        return;
      case "report":
        this.#options.onReport(slot.id, message.report);
        return;
      case "event":
        this.#options.onEvent(slot.id, message.kind, message.data);
        return;
    }
  }

  #listening(slot: Slot, port: number): void {
    slot.state = "serving";
    if (this.#port === 0) this.#port = port;
    this.#options.logger.info(
      { worker: slot.id, pid: slot.worker?.process.pid },
      "worker listening",
    );
    this.#startup?.resolve();
  }

  #listenFailed(slot: Slot, message: string, code: string): void {
    this.#options.logger.error({ worker: slot.id, code }, `worker cannot listen: ${message}`);
    this.#startup?.reject(new StartError(message, code));
  }

  #exited(slot: Slot, worker: Worker, code: number | null, signal: string | null): void {
    this.#settleExit(slot, worker, code, signal);
    // A write waiting for every worker no longer waits for this one.
    this.#recheckSettled();
  }

  #settleExit(slot: Slot, worker: Worker, code: number | null, signal: string | null): void {
    if (slot.worker !== worker) return;
    slot.worker = undefined;
    this.#options.onExit(slot.id);
    const wasStarting = slot.state === "starting";
    if (this.#isStopping) {
      slot.state = "stopped";
      return;
    }
    if (wasStarting && this.#startup !== undefined) {
      slot.state = "stopped";
      this.#startup.reject(
        new StartError(
          `worker ${String(slot.id)} exited while starting (${exitText(code, signal)})`,
          "EWORKER",
        ),
      );
      return;
    }
    this.#scheduleRestart(slot, code, signal);
  }

  #scheduleRestart(slot: Slot, code: number | null, signal: string | null): void {
    const { clock, logger } = this.#options;
    const isYoung = clock.now() - slot.startedAtMs < YOUNG_MS;
    slot.youngDeaths = isYoung ? slot.youngDeaths + 1 : 0;
    const delayMs = backoffDelayMs(slot.youngDeaths, RESTART_BACKOFF, 0);
    slot.state = "restarting";
    const fields = { worker: slot.id, exit: exitText(code, signal), restartInMs: delayMs };
    if (slot.youngDeaths >= CRASH_LOOP_DEATHS) {
      logger.error(
        { ...fields, youngDeaths: slot.youngDeaths },
        "worker crash loop: it keeps dying soon after it starts",
      );
    } else {
      logger.warn(fields, "worker exited: replacing it");
    }
    this.#options.onEvent(slot.id, "worker.exited", { ...fields, youngDeaths: slot.youngDeaths });
    slot.restartTimer = clock.setTimeout(() => {
      slot.restartTimer = undefined;
      if (this.#isStopping) return;
      slot.restarts++;
      this.#options.onRestart(slot.id);
      this.#fork(slot);
    }, delayMs);
  }

  #recheckSettled(): void {
    for (const check of [...this.#appliedWaiters]) check();
  }

  #isSettled(): boolean {
    return this.#slots.every((slot) => slot.state !== "serving" || slot.applied >= this.#version);
  }

  #send(slot: Slot, message: ToWorker): void {
    const worker = slot.worker;
    if (worker === undefined || !worker.isConnected()) return;
    worker.send(message, undefined, (error: Error | null) => {
      // A worker that just died: its replacement asks for the latest snapshot itself.
      if (error !== null)
        this.#options.logger.debug({ err: error, worker: slot.id }, "send to worker failed");
    });
  }
}

function newSlot(id: number): Slot {
  return {
    id,
    worker: undefined,
    state: "stopped",
    startedAtMs: 0,
    startedAt: new Date(0).toISOString(),
    restarts: 0,
    youngDeaths: 0,
    applied: 0,
    restartTimer: undefined,
    exited: Promise.resolve(),
  };
}

function exitText(code: number | null, signal: string | null): string {
  return signal === null ? `code ${String(code)}` : `signal ${signal}`;
}

/** worker-main next to this module: .ts from the sources, .js once built. */
function workerEntry(): string {
  const here = fileURLToPath(import.meta.url);
  return fileURLToPath(new URL(`./worker-main${extname(here)}`, import.meta.url));
}
