/**
 * Client load at a set rate, for tests where the proxy, the backends and the clients share one
 * event loop and timers must still fire on time (rollout ticks): back-to-back load would
 * saturate the loop and push every timer late. Requests start on a 10 ms grid to keep up with
 * `ratePerSecond`, never more than `maxInFlight` at once.
 */
import { Pool } from "undici";
import { errorCode } from "./http-client.ts";

export interface PacedLoadOptions {
  ratePerSecond: number;
  /** Default 32. */
  maxInFlight?: number;
  /** Per request (default 5000). */
  timeoutMs?: number;
}

export interface PacedLoadTally {
  sent: number;
  byStatus: Record<number, number>;
  /** Requests that got no answer at all. */
  failures: number;
  /** The first few network errors. */
  problems: string[];
}

export interface PacedLoad {
  readonly tally: PacedLoadTally;
  /** Stops sending, waits for the requests in flight; idempotent. */
  stop(): Promise<PacedLoadTally>;
}

const GRID_MS = 10;
const MAX_PROBLEMS_KEPT = 10;

export function startPacedLoad(url: string, options: PacedLoadOptions): PacedLoad {
  const { ratePerSecond, maxInFlight = 32, timeoutMs = 5000 } = options;
  const parsed = new URL(url);
  const path = `${parsed.pathname}${parsed.search}`;
  const pool = new Pool(parsed.origin, { connections: maxInFlight, pipelining: 1 });
  const tally: PacedLoadTally = { sent: 0, byStatus: {}, failures: 0, problems: [] };
  const inFlight = new Set<Promise<void>>();
  const startedAt = performance.now();

  const send = (): void => {
    tally.sent++;
    const request = pool
      .request({ path, method: "GET", headersTimeout: timeoutMs, bodyTimeout: timeoutMs })
      .then(async (response) => {
        await response.body.dump();
        tally.byStatus[response.statusCode] = (tally.byStatus[response.statusCode] ?? 0) + 1;
      })
      .catch((error: unknown) => {
        tally.failures++;
        if (tally.problems.length < MAX_PROBLEMS_KEPT) tally.problems.push(errorCode(error));
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

  let stopping: Promise<PacedLoadTally> | undefined;
  const stopOnce = async (): Promise<PacedLoadTally> => {
    clearInterval(timer);
    await Promise.all([...inFlight]);
    await pool.close();
    return tally;
  };
  return {
    tally,
    stop() {
      stopping ??= stopOnce();
      return stopping;
    },
  };
}
