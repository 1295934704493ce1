/**
 * The event log behind `GET /api/v1/events`: weight changes, reloads, health and breaker
 * transitions, rollout decisions. A bounded ring of the most recent events with increasing
 * ids, so a client polls with `?since=ID` and never misses an event it has not seen yet,
 * unless it fell more than the capacity behind.
 */
import type { Clock } from "../time/clock.ts";

export interface LoggedEvent {
  readonly id: number;
  /** ISO 8601 wall time. */
  readonly at: string;
  readonly type: string;
  readonly [field: string]: unknown;
}

export type EventListener = (event: LoggedEvent) => void;

export const DEFAULT_EVENT_CAPACITY = 1000;

export class EventLog {
  private readonly clock: Clock;
  private readonly capacity: number;
  private readonly ring: LoggedEvent[] = [];
  private nextId = 1;
  private readonly listeners: EventListener[] = [];

  constructor(clock: Clock, capacity = DEFAULT_EVENT_CAPACITY) {
    this.clock = clock;
    this.capacity = capacity;
  }

  /** Appends an event; `fields` must not use the names id, at or type. */
  append(type: string, fields: Readonly<Record<string, unknown>>): LoggedEvent {
    const event: LoggedEvent = {
      ...fields,
      id: this.nextId++,
      at: new Date(this.clock.wallNow()).toISOString(),
      type,
    };
    this.ring.push(event);
    if (this.ring.length > this.capacity) this.ring.shift();
    for (const listener of this.listeners) listener(event);
    return event;
  }

  /** Events with an id above `sinceId` (all kept events when undefined), oldest first. */
  since(sinceId: number | undefined, limit = this.capacity): LoggedEvent[] {
    const from = sinceId ?? 0;
    const out: LoggedEvent[] = [];
    for (const event of this.ring) {
      if (event.id > from) out.push(event);
      if (out.length >= limit) break;
    }
    return out;
  }

  get lastId(): number {
    return this.nextId - 1;
  }

  /** Calls `listener` for every event appended from now on; returns the unsubscribe. */
  onEvent(listener: EventListener): () => void {
    this.listeners.push(listener);
    return () => {
      const at = this.listeners.indexOf(listener);
      if (at !== -1) this.listeners.splice(at, 1);
    };
  }
}
