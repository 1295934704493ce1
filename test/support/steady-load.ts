/**
 * Steady client load for resilience tests: `concurrency` workers send requests back to back,
 * each on its own keep-alive connection, until `stop()`. The tallies are live, so a test can
 * act mid-run (kill a backend, restart it) and watch what the clients got.
 */
import type { Dispatcher } from "undici";
import type { RequestHeaders } from "./http-client.ts";
import {
  countAnswer,
  countFailure,
  emptyAnswerTally,
  loadPool,
  once,
  type AnswerTally,
} from "./load-tally.ts";

export interface SteadyLoadOptions {
  concurrency: number;
  method?: Dispatcher.HttpMethod;
  headers?: RequestHeaders;
  /** Per request, for the headers and between body chunks (default 5000). */
  timeoutMs?: number;
}

export interface SteadyLoadTally extends AnswerTally {
  /** Requests sent so far (answered, failed or in flight). */
  total: number;
}

export interface SteadyLoad {
  readonly tally: SteadyLoadTally;
  /** Lets the requests in flight finish, then resolves with the final tally; idempotent. */
  stop: () => Promise<SteadyLoadTally>;
}

export function startSteadyLoad(url: string, options: SteadyLoadOptions): SteadyLoad {
  const { concurrency, method = "GET", headers = {}, timeoutMs = 5000 } = options;
  const parsed = new URL(url);
  const path = `${parsed.pathname}${parsed.search}`;
  const pool = loadPool(parsed.origin, concurrency);
  const tally: SteadyLoadTally = { ...emptyAnswerTally(), total: 0 };
  let isStopping = false;
  const worker = async (): Promise<void> => {
    while (!isStopping) {
      tally.total++;
      try {
        const response = await pool.request({
          path,
          method,
          headers,
          headersTimeout: timeoutMs,
          bodyTimeout: timeoutMs,
        });
        countAnswer(tally, response.statusCode, await response.body.text());
      } catch (error) {
        countFailure(tally, error);
      }
    }
  };
  const running = Promise.all(Array.from({ length: concurrency }, worker));
  const stop = once(async () => {
    isStopping = true;
    try {
      await running;
    } finally {
      await pool.close();
    }
    return tally;
  });
  return { tally, stop };
}
