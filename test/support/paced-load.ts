/**
 * Client load at a set rate, for tests where the proxy, the backends and the clients share one
 * event loop and timers must still fire on time (rollout ticks): back-to-back load would
 * saturate the loop and push every timer late. Requests start on a 10 ms grid to keep up with
 * `ratePerSecond`, never more than `maxInFlight` at once. Bodies are drained unread.
 */
import {
  countAnswer,
  countFailure,
  emptyAnswerTally,
  loadPool,
  once,
  type AnswerTally,
} from "./load-tally.ts";

export interface PacedLoadOptions {
  ratePerSecond: number;
  /** Default 32. */
  maxInFlight?: number;
  /** Per request (default 5000). */
  timeoutMs?: number;
}

export interface PacedLoadTally extends AnswerTally {
  /** Requests sent so far. */
  sent: number;
}

export interface PacedLoad {
  readonly tally: PacedLoadTally;
  /** Stops sending, waits for the requests in flight; idempotent. */
  stop: () => Promise<PacedLoadTally>;
  /** stop() without the tally, so that `track()` can stop a load a test left running. */
  close: () => Promise<void>;
}

const GRID_MS = 10;

export function startPacedLoad(url: string, options: PacedLoadOptions): PacedLoad {
  const { ratePerSecond, maxInFlight = 32, timeoutMs = 5000 } = options;
  const parsed = new URL(url);
  const path = `${parsed.pathname}${parsed.search}`;
  const pool = loadPool(parsed.origin, maxInFlight);
  const tally: PacedLoadTally = { ...emptyAnswerTally(), sent: 0 };
  const inFlight = new Set<Promise<void>>();
  const startedAt = performance.now();

  const send = (): void => {
    tally.sent++;
    const request = pool
      .request({ path, method: "GET", headersTimeout: timeoutMs, bodyTimeout: timeoutMs })
      .then(async (response) => {
        await response.body.dump();
        countAnswer(tally, response.statusCode);
      })
      .catch((error: unknown) => {
        countFailure(tally, error);
      })
      .finally(() => {
        inFlight.delete(request);
      });
    inFlight.add(request);
  };

  const timer = setInterval(() => {
    const due = Math.floor(((performance.now() - startedAt) * ratePerSecond) / 1000);
    while (tally.sent < due && inFlight.size < maxInFlight) send();
  }, GRID_MS);

  const stop = once(async () => {
    clearInterval(timer);
    await Promise.all([...inFlight]);
    await pool.close();
    return tally;
  });
  return {
    tally,
    stop,
    close: async () => {
      await stop();
    },
  };
}
