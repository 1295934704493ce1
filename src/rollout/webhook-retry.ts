/**
 * Pure retry rules for webhook deliveries: which answers are worth another attempt, how long to
 * wait before it, and how a failed attempt is described in logs.
 */
import { describeRequestError } from "../net/request-error-text.ts";

/** 5xx and 429 may succeed later; any other non-2xx answer will not. */
export function isRetryableStatus(status: number): boolean {
  return status === 429 || status >= 500;
}

/**
 * The wait after `failedAttempts` failures (1 or more): exponential from `baseMs`, capped at
 * `maxMs`, with "equal jitter" (half fixed, half random) so retries from many rollouts spread
 * out but never come back sooner than half the nominal delay. `randomValue` is in [0, 1).
 */
export function backoffDelayMs(
  failedAttempts: number,
  baseMs: number,
  maxMs: number,
  randomValue: number,
): number {
  const exponent = Math.max(0, failedAttempts - 1);
  const nominalMs = Math.min(maxMs, baseMs * 2 ** Math.min(exponent, 30));
  return Math.round(nominalMs / 2 + (nominalMs / 2) * randomValue);
}

/**
 * A Retry-After header (seconds or an HTTP date) in milliseconds from `wallNowMs`, or
 * undefined when absent or unreadable.
 */
export function retryAfterMs(
  header: string | string[] | undefined,
  wallNowMs: number,
): number | undefined {
  const text = (Array.isArray(header) ? header[0] : header)?.trim();
  if (text === undefined || text === "") return undefined;
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  // An HTTP date names its month; Date.parse alone would read "-5" as a year.
  if (!/[a-z]/i.test(text)) return undefined;
  const dateMs = Date.parse(text);
  if (Number.isNaN(dateMs)) return undefined;
  return Math.max(0, dateMs - wallNowMs);
}

/** A short, stable description of a request that threw, for the final-failure log line. */
export function describeDeliveryError(error: unknown): string {
  return describeRequestError(error, "request failed");
}
