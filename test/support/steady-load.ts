/**
 * Steady client load for resilience tests: `concurrency` workers send requests back to back,
 * each on its own keep-alive connection, until `stop()`. The tallies are live, so a test can
 * act mid-run (kill a backend, restart it) and watch what the clients got.
 */
import { Pool, type Dispatcher } from "undici";
import { errorCode, type RequestHeaders } from "./http-client.ts";

export interface SteadyLoadOptions {
  concurrency: number;
  method?: Dispatcher.HttpMethod;
  headers?: RequestHeaders;
  /** Per request, for the headers and between body chunks (default 5000). */
  timeoutMs?: number;
}

export interface SteadyLoadTally {
  total: number;
  byStatus: Record<number, number>;
  /** Answers by the `name` of their JSON body (echo backends), when there is one. */
  byName: Record<string, number>;
  /** Requests that got no answer at all (network errors). */
  failures: number;
  /** The first few answers that were not 200 or got none, as "STATUS CODE" or the error code. */
  problems: string[];
}

export interface SteadyLoad {
  readonly tally: SteadyLoadTally;
  /** Lets the requests in flight finish, then resolves with the final tally; idempotent. */
  stop(): Promise<SteadyLoadTally>;
}

const MAX_PROBLEMS_KEPT = 10;

export function startSteadyLoad(url: string, options: SteadyLoadOptions): SteadyLoad {
  const { concurrency, method = "GET", headers = {}, timeoutMs = 5000 } = options;
  const parsed = new URL(url);
  const path = `${parsed.pathname}${parsed.search}`;
  const pool = new Pool(parsed.origin, {
    allowH2: false,
    connections: concurrency,
    pipelining: 1,
    keepAliveTimeout: 1000,
    keepAliveMaxTimeout: 1000,
  });
  const tally: SteadyLoadTally = { total: 0, byStatus: {}, byName: {}, failures: 0, problems: [] };
  const noteProblem = (problem: string): void => {
    if (tally.problems.length < MAX_PROBLEMS_KEPT) tally.problems.push(problem);
  };
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
        const body = await response.body.text();
        const status = response.statusCode;
        tally.byStatus[status] = (tally.byStatus[status] ?? 0) + 1;
        const json = parseJson(body);
        if (typeof json?.name === "string") {
          tally.byName[json.name] = (tally.byName[json.name] ?? 0) + 1;
        }
        if (status !== 200) noteProblem(`${status} ${json?.error?.code ?? ""}`.trim());
      } catch (error) {
        tally.failures++;
        noteProblem(errorCode(error));
      }
    }
  };
  const running = Promise.all(Array.from({ length: concurrency }, worker));
  let stopping: Promise<SteadyLoadTally> | undefined;
  const stopOnce = async (): Promise<SteadyLoadTally> => {
    isStopping = true;
    try {
      await running;
    } finally {
      await pool.close();
    }
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

interface EchoOrError {
  name?: unknown;
  error?: { code?: string };
}

function parseJson(body: string): EchoOrError | undefined {
  if (!body.startsWith("{")) return undefined;
  try {
    return JSON.parse(body) as EchoOrError;
  } catch {
    return undefined;
  }
}
