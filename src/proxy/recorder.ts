/**
 * The narrow interface through which the data path reports what happened. Metrics, window
 * statistics for rollouts and the event log attach here; the hot path never imports them.
 */
import type { Endpoint } from "../upstream/endpoint.ts";

/** What the client got. */
export interface RequestOutcome {
  route: string;
  /** The upstream that answered (after fallback and retries), or the one picked when none did. */
  upstream: string;
  /** The status sent to the client (ours or the upstream's); 0 when the client went away. */
  status: number;
  durationMs: number;
}

/** One try on one endpoint: a request that was retried has several. */
export interface AttemptOutcome {
  route: string;
  upstream: string;
  endpoint: Endpoint;
  /** The upstream's status, or 0 when it gave none (refused, reset, timeout, malformed). */
  status: number;
  durationMs: number;
  /** A failure by SPEC 4: connection refused/reset, timeout, malformed response, or 5xx. */
  isFailure: boolean;
}

export interface ProxyRecorder {
  requestFinished(outcome: RequestOutcome): void;
  attemptFinished(outcome: AttemptOutcome): void;
  /** The picked upstream was unavailable and `to` took the request. */
  fallback(route: string, from: string, to: string): void;
  /** A failed attempt is tried again on `upstream`. */
  retry(route: string, upstream: string): void;
}
