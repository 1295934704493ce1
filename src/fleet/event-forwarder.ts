/**
 * Forwards what happens on this replica alone (health and breaker transitions, reloads, a
 * local write during an outage, losing Redis) from its own event log to the fleet's, so that
 * `GET /api/v1/events` on any replica tells the whole fleet's story, each event naming its
 * replica. Shared-state changes are not forwarded: their write already logged them once,
 * fleet-wide, and each replica's log only mirrors them. Never on the request path: events wait
 * in a bounded queue and go out in batches; while Redis is away they wait (the oldest give way
 * when the queue is full, counted), and they keep their own time when they land.
 */
import type { EventLog, LoggedEvent } from "../events/event-log.ts";
import type { Logger } from "../log/logger.ts";
import type { Clock, TimerHandle } from "../time/clock.ts";
import type { FleetEventInput } from "./fleet-event.ts";
import type { SharedStateStore } from "./shared-state-store.ts";

export interface EventForwarderOptions {
  readonly events: EventLog;
  readonly store: Pick<SharedStateStore, "appendEvents">;
  readonly replica: string;
  readonly isConnected: () => boolean;
  readonly logger: Logger;
  readonly clock: Clock;
  /** Events kept while they cannot be sent (default 1000). */
  readonly capacity?: number;
}

/** How long after an event the batch goes out: bursts (a reload's events) travel together. */
const BATCH_DELAY_MS = 200;
/** While Redis is away, how often to look again. */
const RETRY_DELAY_MS = 1000;
const DEFAULT_CAPACITY = 1000;

/**
 * A replica's own mirror of a shared-state change: the fleet's log has it already. Rollout
 * actions and decisions are committed with their event; splits applied from the fleet are
 * logged with the actor "fleet".
 */
export function isSharedMirror(event: LoggedEvent): boolean {
  if (event.type === "rollout.action" || event.type === "rollout.decision") return true;
  return event.type === "weights.changed" && event.actor === "fleet";
}

export class EventForwarder {
  readonly #o: EventForwarderOptions;
  readonly #capacity: number;
  #queue: { event: FleetEventInput; atMs: number }[] = [];
  #dropped = 0;
  #timer: TimerHandle | undefined;
  #sending: Promise<void> | undefined;
  #stopListening: (() => void) | undefined;
  #isStopped = false;

  constructor(options: EventForwarderOptions) {
    this.#o = options;
    this.#capacity = options.capacity ?? DEFAULT_CAPACITY;
  }

  /** Events given up because the queue was full while Redis was away. */
  get dropped(): number {
    return this.#dropped;
  }

  start(): void {
    this.#stopListening = this.#o.events.onEvent((event) => {
      this.#take(event);
    });
  }

  /** Sends what is queued, once, if Redis answers; stops listening. */
  async stop(): Promise<void> {
    this.#isStopped = true;
    this.#stopListening?.();
    this.#timer?.cancel();
    await this.#sending;
    if (this.#o.isConnected()) await this.#send();
  }

  #take(event: LoggedEvent): void {
    if (isSharedMirror(event)) return;
    const { id: _id, at, type, ...fields } = event;
    this.#queue.push({
      event: { type, fields: { replica: this.#o.replica, ...fields } },
      atMs: Date.parse(at),
    });
    if (this.#queue.length > this.#capacity) {
      this.#queue.shift();
      this.#dropped += 1;
    }
    this.#schedule(BATCH_DELAY_MS);
  }

  #schedule(delayMs: number): void {
    if (this.#isStopped || this.#timer !== undefined) return;
    this.#timer = this.#o.clock.setTimeout(() => {
      this.#timer = undefined;
      this.#sending = this.#send().finally(() => {
        this.#sending = undefined;
      });
    }, delayMs);
  }

  async #send(): Promise<void> {
    if (this.#queue.length === 0) return;
    if (!this.#o.isConnected()) {
      this.#schedule(RETRY_DELAY_MS);
      return;
    }
    const batch = this.#queue;
    this.#queue = [];
    const result = await this.#o.store.appendEvents(batch);
    if (result.ok) return;
    // A timeout may have landed them: sending again could log them twice, which beats losing
    // them; the reader sees two events with the same time and fields.
    this.#queue = [...batch, ...this.#queue].slice(-this.#capacity);
    this.#o.logger.debug({ err: result.error }, "fleet: forwarding events failed; retrying");
    this.#schedule(RETRY_DELAY_MS);
  }
}
