/**
 * When a leader must stop believing it leads, on its own monotonic clock. Redis expires the
 * lease `ttl` after it ran the command that set or extended it, which is no earlier than when
 * this replica sent that command; so the lease is surely ours until `sentAt + ttl`, and the
 * leader gives up at `sentAt + ttl - margin`, the margin covering clock rate differences and
 * the time a write takes to reach Redis. A command sent to a frozen Redis never answers: the
 * deadline passes whatever Redis does. Pure: times are given, nothing is scheduled here.
 */

export interface LeaseTimerOptions {
  readonly ttlMs: number;
  /** Given up this long before the lease could expire in Redis. */
  readonly marginMs: number;
}

export class LeaseTimer {
  readonly #validForMs: number;
  #validUntilMs: number | undefined;

  constructor(options: LeaseTimerOptions) {
    if (!(options.marginMs >= 0 && options.marginMs < options.ttlMs)) {
      throw new RangeError("the lease's safety margin must be at least 0 and less than its TTL");
    }
    this.#validForMs = options.ttlMs - options.marginMs;
  }

  /** How long after a successful command's send time the lease is trusted. */
  get validForMs(): number {
    return this.#validForMs;
  }

  /**
   * A command sent at `sentAtMs` set or extended the lease. An answer that comes after a later
   * one (sent earlier) does not move the deadline back.
   */
  confirmed(sentAtMs: number): void {
    const until = sentAtMs + this.#validForMs;
    this.#validUntilMs = Math.max(this.#validUntilMs ?? until, until);
  }

  /** The lease is no longer ours (lost, released, or given up). */
  reset(): void {
    this.#validUntilMs = undefined;
  }

  /** Whether the lease can still be trusted at `nowMs`. */
  isValid(nowMs: number): boolean {
    return this.#validUntilMs !== undefined && nowMs < this.#validUntilMs;
  }

  /** Time left before giving up, 0 when not valid. */
  msLeft(nowMs: number): number {
    return this.#validUntilMs === undefined ? 0 : Math.max(0, this.#validUntilMs - nowMs);
  }
}
