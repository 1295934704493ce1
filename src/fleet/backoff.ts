/**
 * How long to wait before reconnecting to Redis: doubling from `baseMs`, capped at `maxMs`,
 * and shortened by a random part of up to `jitter` so that replicas which lost Redis at the
 * same moment do not all knock on it again at the same moment.
 */
export interface BackoffPolicy {
  readonly baseMs: number;
  readonly maxMs: number;
  /** 0..1: the largest share of a delay that the random part may take off. */
  readonly jitter: number;
}

/** Resync "within a few seconds" of Redis coming back (SPEC 10) needs a cap of about 2 s. */
export const RECONNECT_BACKOFF: BackoffPolicy = { baseMs: 100, maxMs: 2000, jitter: 0.2 };

/** Enough doublings for any cap; more would only overflow to Infinity. */
const MAX_EXPONENT = 30;

/**
 * The delay before reconnect attempt `retries` (0 for the first), with `random` in [0, 1).
 * Never more than `maxMs`, never less than `(1 - jitter)` times the capped delay.
 */
export function backoffDelayMs(retries: number, policy: BackoffPolicy, random: number): number {
  const exponent = Math.min(Math.max(Math.floor(retries), 0), MAX_EXPONENT);
  const capped = Math.min(policy.maxMs, policy.baseMs * 2 ** exponent);
  return Math.round(capped * (1 - policy.jitter * random));
}
