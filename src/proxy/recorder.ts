/**
 * The narrow interface through which the data path reports what happened to each request.
 * Metrics, window statistics, breakers and outlier detection attach here; the hot path never
 * imports them directly.
 */
import type { Endpoint } from "../upstream/endpoint.ts";

export interface RequestOutcome {
  route: string;
  upstream: string;
  endpoint: Endpoint | undefined;
  /** The status sent to the client (ours or the upstream's); 0 when the client went away. */
  status: number;
  durationMs: number;
  /** A failure by SPEC 4: connection refused/reset, timeout, malformed response, or 5xx. */
  isFailure: boolean;
}

export interface ProxyRecorder {
  requestFinished(outcome: RequestOutcome): void;
}

export const NOOP_RECORDER: ProxyRecorder = {
  requestFinished() {
    // Nothing attached.
  },
};
