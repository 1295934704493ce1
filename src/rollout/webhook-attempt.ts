/**
 * One webhook attempt: a JSON POST on the receiver's own pool, the answer's body drained, and
 * the outcome classified. It never rejects; the caller owns the deadline (the AbortSignal) and
 * what happens next.
 */
import type { Pool } from "undici";
import { describeDeliveryError, isRetryableStatus, retryAfterMs } from "./webhook-retry.ts";
import type { WebhookAddress } from "./webhook-url.ts";

export type AttemptOutcome =
  | { readonly kind: "delivered"; readonly status: number }
  /** 5xx or 429; `waitMs` from Retry-After when the receiver sent one. */
  | { readonly kind: "retryableStatus"; readonly status: number; readonly waitMs?: number }
  | { readonly kind: "finalStatus"; readonly status: number }
  /** No answer: network error, timeout, abort. */
  | { readonly kind: "error"; readonly error: string };

export const WEBHOOK_USER_AGENT = "switchyard";
/** Answers' bodies are read and thrown away; beyond this the socket is cut instead. */
const MAX_DRAINED_BODY_BYTES = 256 * 1024;

export async function postWebhook(
  pool: Pool,
  address: WebhookAddress,
  body: string,
  signal: AbortSignal,
  wallNowMs: number,
): Promise<AttemptOutcome> {
  const headers: Record<string, string> = {
    "content-type": "application/json",
    "user-agent": WEBHOOK_USER_AGENT,
  };
  if (address.authorization !== undefined) headers.authorization = address.authorization;
  try {
    const response = await pool.request({
      method: "POST",
      path: address.path,
      headers,
      body,
      signal,
    });
    try {
      // Drained (or cut off) either way, so the socket is reused or freed.
      await response.body.dump({ limit: MAX_DRAINED_BODY_BYTES, signal });
    } catch {
      // The status is what counts; a body that fails or stalls does not change it.
    }
    const status = response.statusCode;
    if (status >= 200 && status < 300) return { kind: "delivered", status };
    if (!isRetryableStatus(status)) return { kind: "finalStatus", status };
    const waitMs = retryAfterMs(response.headers["retry-after"], wallNowMs);
    return waitMs === undefined
      ? { kind: "retryableStatus", status }
      : { kind: "retryableStatus", status, waitMs };
  } catch (error) {
    return { kind: "error", error: describeDeliveryError(error) };
  }
}

/** The failure of an attempt as the final log line shows it. */
export function describeFailure(
  outcome: Exclude<AttemptOutcome, { kind: "delivered" }>,
  isTimedOut: boolean,
  timeoutMs: number,
): string {
  if (outcome.kind !== "error") return `status ${outcome.status}`;
  return isTimedOut ? `timed out after ${timeoutMs} ms` : outcome.error;
}
