/**
 * Sends rollout decisions to the webhooks that subscribe to them (SPEC 5, 7). `notify` only
 * queues and returns; deliveries run later on their own connection pools, so a slow or hanging
 * receiver never holds up the caller or the data path. Each attempt is a JSON POST with a
 * deadline; network errors, timeouts, 5xx and 429 are retried with exponential backoff and
 * jitter, other answers are final. Memory is bounded: at most `maxQueue` deliveries pending in
 * all, at most `maxConcurrentPerReceiver` in flight to one origin.
 *
 * Order is not kept: deliveries to one receiver run concurrently and retries come back later,
 * so receivers order events by their `at` field.
 */
import type { Logger } from "../log/logger.ts";
import { SYSTEM_CLOCK, type Clock } from "../time/clock.ts";
import type { WebhookPayload, WebhookTarget } from "./webhook-payload.ts";
import { WebhookReceiver, type Delivery } from "./webhook-receiver.ts";
import { describeFailure, postWebhook, type AttemptOutcome } from "./webhook-attempt.ts";
import { backoffDelayMs, describeDeliveryError } from "./webhook-retry.ts";
import { parseWebhookUrl, type WebhookAddress } from "./webhook-url.ts";

export type { WebhookEvent, WebhookPayload, WebhookTarget } from "./webhook-payload.ts";

export interface WebhookNotifierOptions {
  logger: Logger;
  clock?: Clock;
  /** Deadline of one attempt, connect to last body byte (SPEC: 5 s). */
  timeoutMs?: number;
  /** Attempts per delivery, the first included. */
  maxAttempts?: number;
  baseBackoffMs?: number;
  maxBackoffMs?: number;
  /** Deliveries pending at once, in all states; the oldest waiting one gives way when full. */
  maxQueue?: number;
  maxConcurrentPerReceiver?: number;
  /** A value in [0, 1), for backoff jitter. */
  random?: () => number;
}

export interface WebhookStats {
  /** Deliveries not yet finished: waiting, backing off or in flight. */
  pending: number;
  inFlight: number;
  /** Requests started so far, retries included. */
  attempts: number;
  delivered: number;
  /** Deliveries that ended without a 2xx: attempts used up or a final answer. */
  failed: number;
  /** Deliveries dropped because the queue was full. */
  dropped: number;
}

/** Receivers with nothing pending are let go once there are more than this. */
const MAX_IDLE_RECEIVERS = 32;
const MAX_CACHED_ADDRESSES = 64;

export class WebhookNotifier {
  readonly #logger: Logger;
  readonly #clock: Clock;
  readonly #timeoutMs: number;
  readonly #maxAttempts: number;
  readonly #baseBackoffMs: number;
  readonly #maxBackoffMs: number;
  readonly #maxQueue: number;
  readonly #maxConcurrent: number;
  readonly #random: () => number;
  readonly #receivers = new Map<string, WebhookReceiver>();
  /** Parsed webhook URLs: the same few are notified over and over. */
  readonly #addresses = new Map<string, WebhookAddress | undefined>();
  /** Every unfinished delivery, oldest first (insertion order). */
  readonly #pending = new Set<Delivery>();
  readonly #toPump = new Set<WebhookReceiver>();
  #isPumpScheduled = false;
  #closing: Promise<void> | undefined;
  #attempts = 0;
  #delivered = 0;
  #failed = 0;
  #dropped = 0;

  constructor(options: WebhookNotifierOptions) {
    this.#logger = options.logger;
    this.#clock = options.clock ?? SYSTEM_CLOCK;
    this.#timeoutMs = options.timeoutMs ?? 5000;
    this.#maxAttempts = Math.max(1, options.maxAttempts ?? 5);
    this.#baseBackoffMs = options.baseBackoffMs ?? 500;
    this.#maxBackoffMs = options.maxBackoffMs ?? 30_000;
    this.#maxQueue = Math.max(1, options.maxQueue ?? 1000);
    this.#maxConcurrent = Math.max(1, options.maxConcurrentPerReceiver ?? 4);
    this.#random = options.random ?? Math.random;
  }

  /**
   * Queues `payload` for every webhook subscribed to its event and returns at once. Never
   * throws: an unusable URL or payload is logged and skipped.
   */
  notify(webhooks: readonly WebhookTarget[], payload: WebhookPayload): void {
    if (this.#closing !== undefined) return;
    try {
      let body: string | undefined;
      for (const webhook of webhooks) {
        if (!webhook.events.includes(payload.event)) continue;
        body ??= JSON.stringify(payload);
        this.#admit(webhook.url, payload, body);
      }
    } catch (error) {
      this.#logger.warn(
        { event: payload.event, route: payload.route, error: describeDeliveryError(error) },
        "webhook notification skipped",
      );
    }
  }

  stats(): WebhookStats {
    let inFlight = 0;
    for (const receiver of this.#receivers.values()) inFlight += receiver.inFlight;
    return {
      pending: this.#pending.size,
      inFlight,
      attempts: this.#attempts,
      delivered: this.#delivered,
      failed: this.#failed,
      dropped: this.#dropped,
    };
  }

  /** Cancels every pending retry and aborts the requests in flight; idempotent. */
  close(): Promise<void> {
    this.#closing ??= this.#closeNow();
    return this.#closing;
  }

  async #closeNow(): Promise<void> {
    for (const delivery of this.#pending) {
      delivery.timer?.cancel();
      delivery.abort?.abort(new Error("webhook notifier closed"));
    }
    this.#pending.clear();
    this.#toPump.clear();
    const receivers = [...this.#receivers.values()];
    this.#receivers.clear();
    await Promise.all(receivers.map((receiver) => receiver.destroy()));
  }

  #admit(url: string, payload: WebhookPayload, body: string): void {
    const address = this.#addressOf(url);
    if (address === undefined) {
      this.#logger.warn({ event: payload.event }, "webhook URL is not an http(s) URL; skipped");
      return;
    }
    if (this.#pending.size >= this.#maxQueue && !this.#dropOldestWaiting()) {
      this.#dropped++;
      this.#logger.warn(
        { url: address.masked, event: payload.event, route: payload.route, attempts: 0 },
        "webhook queue full; delivery dropped",
      );
      return;
    }
    const receiver = this.#receiverFor(address.origin);
    const delivery: Delivery = {
      address,
      receiver,
      event: payload.event,
      route: payload.route,
      body,
      state: "ready",
      attempts: 0,
      timer: undefined,
      abort: undefined,
      isTimedOut: false,
      lastError: "",
    };
    this.#pending.add(delivery);
    receiver.pending++;
    receiver.ready.push(delivery);
    this.#schedulePump(receiver);
  }

  #addressOf(url: string): WebhookAddress | undefined {
    if (this.#addresses.has(url)) return this.#addresses.get(url);
    if (this.#addresses.size >= MAX_CACHED_ADDRESSES) this.#addresses.clear();
    const address = parseWebhookUrl(url);
    this.#addresses.set(url, address);
    return address;
  }

  /** Makes room by dropping the oldest delivery not in flight; false when all are in flight. */
  #dropOldestWaiting(): boolean {
    for (const delivery of this.#pending) {
      if (delivery.state === "inFlight") continue;
      delivery.timer?.cancel();
      delivery.timer = undefined;
      delivery.receiver.unqueue(delivery);
      this.#finish(delivery);
      this.#dropped++;
      this.#logger.warn(logFields(delivery), "webhook queue full; oldest pending delivery dropped");
      return true;
    }
    return false;
  }

  #receiverFor(origin: string): WebhookReceiver {
    let receiver = this.#receivers.get(origin);
    if (receiver !== undefined) return receiver;
    if (this.#receivers.size >= MAX_IDLE_RECEIVERS) this.#releaseIdleReceivers();
    receiver = new WebhookReceiver(origin, this.#maxConcurrent, this.#timeoutMs);
    this.#receivers.set(origin, receiver);
    return receiver;
  }

  #releaseIdleReceivers(): void {
    for (const [origin, receiver] of this.#receivers) {
      if (receiver.pending > 0) continue;
      this.#receivers.delete(origin);
      receiver.destroy().catch(() => undefined);
    }
  }

  /** Starts deliveries on a later turn of the event loop, never inside the caller's. */
  #schedulePump(receiver: WebhookReceiver): void {
    this.#toPump.add(receiver);
    if (this.#isPumpScheduled) return;
    this.#isPumpScheduled = true;
    setImmediate(() => {
      this.#isPumpScheduled = false;
      const receivers = [...this.#toPump];
      this.#toPump.clear();
      for (const each of receivers) this.#pump(each);
    });
  }

  #pump(receiver: WebhookReceiver): void {
    while (this.#closing === undefined && receiver.hasFreeSlot) {
      const delivery = receiver.ready.shift();
      if (delivery === undefined) return;
      this.#start(delivery);
    }
  }

  #start(delivery: Delivery): void {
    const controller = new AbortController();
    delivery.state = "inFlight";
    delivery.attempts++;
    this.#attempts++;
    delivery.isTimedOut = false;
    delivery.abort = controller;
    delivery.timer = this.#clock.setTimeout(() => {
      delivery.isTimedOut = true;
      controller.abort(new Error(`timed out after ${this.#timeoutMs} ms`));
    }, this.#timeoutMs);
    delivery.receiver.inFlight++;
    const { receiver, address, body } = delivery;
    void postWebhook(receiver.pool, address, body, controller.signal, this.#clock.wallNow()).then(
      (outcome) => {
        this.#settle(delivery, outcome);
      },
    );
  }

  #settle(delivery: Delivery, outcome: AttemptOutcome): void {
    delivery.timer?.cancel();
    delivery.timer = undefined;
    delivery.abort = undefined;
    delivery.receiver.inFlight--;
    if (this.#closing !== undefined) return;
    if (outcome.kind === "delivered") {
      this.#finish(delivery);
      this.#delivered++;
      this.#logger.debug(logFields(delivery), "webhook delivered");
    } else {
      delivery.lastError = describeFailure(outcome, delivery.isTimedOut, this.#timeoutMs);
      if (outcome.kind !== "finalStatus" && delivery.attempts < this.#maxAttempts) {
        this.#retryLater(delivery, outcome.kind === "retryableStatus" ? outcome.waitMs : undefined);
      } else {
        this.#finish(delivery);
        this.#failed++;
        this.#logger.warn(logFields(delivery), "webhook delivery failed");
      }
    }
    this.#pump(delivery.receiver);
  }

  #retryLater(delivery: Delivery, retryAfter: number | undefined): void {
    const backoffMs = backoffDelayMs(
      delivery.attempts,
      this.#baseBackoffMs,
      this.#maxBackoffMs,
      this.#random(),
    );
    const delayMs = Math.min(this.#maxBackoffMs, Math.max(backoffMs, retryAfter ?? 0));
    delivery.state = "backoff";
    delivery.timer = this.#clock.setTimeout(() => {
      delivery.timer = undefined;
      delivery.state = "ready";
      delivery.receiver.ready.push(delivery);
      this.#pump(delivery.receiver);
    }, delayMs);
  }

  #finish(delivery: Delivery): void {
    this.#pending.delete(delivery);
    delivery.receiver.pending--;
  }
}

/** What a log line says about a delivery: never the URL's secrets, never the payload. */
function logFields(delivery: Delivery) {
  return {
    url: delivery.address.masked,
    event: delivery.event,
    route: delivery.route,
    attempts: delivery.attempts,
    lastError: delivery.lastError === "" ? undefined : delivery.lastError,
  };
}
