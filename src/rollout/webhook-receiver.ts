/**
 * Per-origin state of webhook deliveries: a small connection pool of its own (never the data
 * path's), the deliveries waiting for a slot, and how many are in flight. The pool's size is
 * the concurrency limit, so a receiver that hangs holds at most that many sockets.
 */
import { Pool } from "undici";
import type { TimerHandle } from "../time/clock.ts";
import type { WebhookEvent } from "./webhook-payload.ts";
import type { WebhookAddress } from "./webhook-url.ts";

/** Idle sockets close before a typical server's own keep-alive timeout (Node: 5 s). */
const KEEP_ALIVE_MS = 4000;

export type DeliveryState = "ready" | "backoff" | "inFlight";

/** One payload on its way to one webhook, across its attempts. */
export interface Delivery {
  readonly address: WebhookAddress;
  readonly receiver: WebhookReceiver;
  readonly event: WebhookEvent;
  readonly route: string;
  readonly body: string;
  state: DeliveryState;
  attempts: number;
  /** The attempt's deadline while in flight, the backoff timer while backing off. */
  timer: TimerHandle | undefined;
  abort: AbortController | undefined;
  isTimedOut: boolean;
  lastError: string;
}

export class WebhookReceiver {
  readonly origin: string;
  readonly pool: Pool;
  readonly maxConcurrent: number;
  /** Deliveries due now, waiting for a free slot, oldest first. */
  readonly ready: Delivery[] = [];
  inFlight = 0;
  /** Deliveries of this receiver not yet finished, in any state. */
  pending = 0;

  constructor(origin: string, maxConcurrent: number, timeoutMs: number) {
    this.origin = origin;
    this.maxConcurrent = maxConcurrent;
    this.pool = new Pool(origin, {
      allowH2: false,
      connections: maxConcurrent,
      pipelining: 1,
      connectTimeout: timeoutMs,
      // The caller's deadline aborts first; these are a backstop.
      headersTimeout: timeoutMs + 1000,
      bodyTimeout: timeoutMs + 1000,
      keepAliveTimeout: KEEP_ALIVE_MS,
      keepAliveMaxTimeout: KEEP_ALIVE_MS,
    });
  }

  get hasFreeSlot(): boolean {
    return this.inFlight < this.maxConcurrent;
  }

  /** Takes a waiting delivery out of the ready queue (it was dropped or cancelled). */
  unqueue(delivery: Delivery): void {
    const index = this.ready.indexOf(delivery);
    if (index >= 0) this.ready.splice(index, 1);
  }

  async destroy(): Promise<void> {
    this.ready.length = 0;
    await this.pool.destroy();
  }
}
