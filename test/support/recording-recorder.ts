/**
 * A ProxyRecorder that keeps everything the data path reports, for tests that check attempts,
 * retries and fallbacks as the proxy saw them.
 */
import type { AttemptOutcome, ProxyRecorder, RequestOutcome } from "../../src/proxy/recorder.ts";

export interface FallbackRecord {
  route: string;
  from: string;
  to: string;
}

export interface RetryRecord {
  route: string;
  upstream: string;
}

export interface RecordingRecorder extends ProxyRecorder {
  readonly requests: RequestOutcome[];
  readonly attempts: AttemptOutcome[];
  readonly fallbacks: FallbackRecord[];
  readonly retries: RetryRecord[];
  /** Forgets everything recorded so far. */
  clear(): void;
}

export function createRecordingRecorder(): RecordingRecorder {
  const requests: RequestOutcome[] = [];
  const attempts: AttemptOutcome[] = [];
  const fallbacks: FallbackRecord[] = [];
  const retries: RetryRecord[] = [];
  return {
    requests,
    attempts,
    fallbacks,
    retries,
    requestFinished(outcome) {
      requests.push(outcome);
    },
    attemptFinished(outcome) {
      attempts.push(outcome);
    },
    fallback(route, from, to) {
      fallbacks.push({ route, from, to });
    },
    retry(route, upstream) {
      retries.push({ route, upstream });
    },
    clear() {
      requests.length = 0;
      attempts.length = 0;
      fallbacks.length = 0;
      retries.length = 0;
    },
  };
}
