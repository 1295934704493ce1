/**
 * Steady client load for resilience tests: `concurrency` workers send requests back to back,
 * each on its own keep-alive connection, until `stop()` (or `maxRequests`). The tallies are
 * live, so a test can act mid-run (kill a backend, restart it) and watch what the clients got.
 * Each request may differ (`requestFor`), and each complete body may be checked against what
 * the backend sent (`isIntact`): a body cut short but ended cleanly is what that catches.
 */
import { Pool, type Dispatcher } from "undici";
import { errorCode, type RequestHeaders } from "./http-client.ts";

export interface LoadRequest {
  /** Origin-form path and query. */
  path: string;
  method: Dispatcher.HttpMethod;
  headers: RequestHeaders;
  body?: string | Buffer;
}

/** How one request ended, as the client saw it. */
export interface LoadOutcome {
  request: LoadRequest;
  /**
   * "answered": a status and a complete body; "no-answer": the connection failed before the
   * response head; "cut": the head arrived, then the connection failed before the body's end.
   */
  kind: "answered" | "no-answer" | "cut";
  /** The status, when the head arrived. */
  status?: number;
  /** Whether the complete body was the one sent ("answered" only, with `isIntact`). */
  isBodyIntact?: boolean;
  /** The network error's code ("no-answer" and "cut"), or the code of a JSON error body. */
  error?: string;
}

export interface SteadyLoadOptions {
  concurrency: number;
  method?: Dispatcher.HttpMethod;
  headers?: RequestHeaders;
  /** Per request, for the headers and between body chunks (default 5000). */
  timeoutMs?: number;
  /** The request to send as number `index` (0-based); default: `method` and `headers` to the URL. */
  requestFor?: (index: number) => LoadRequest;
  /** Whether a complete body is the one the backend sent; false counts in `badBodies`. */
  isIntact?: (request: LoadRequest, status: number, body: Buffer) => boolean;
  /** Told how each request ended. */
  onOutcome?: (outcome: LoadOutcome) => void;
  /** Sends no more than this many requests in all (default: no limit). */
  maxRequests?: number;
}

export interface SteadyLoadTally {
  total: number;
  byStatus: Record<number, number>;
  /** Answers by the `name` of their JSON body (echo backends), when there is one. */
  byName: Record<string, number>;
  /** Requests that got no complete answer (network errors, before or during the body). */
  failures: number;
  /** Of the failures, those whose response head had arrived: dropped mid-response. */
  cutMidResponse: number;
  /** Complete bodies that `isIntact` refused: ended cleanly, yet not what was sent. */
  badBodies: number;
  /** The first few answers that were not 200 or got none, as "STATUS CODE" or the error code. */
  problems: string[];
}

export interface SteadyLoad {
  readonly tally: SteadyLoadTally;
  /** Lets the requests in flight finish, then resolves with the final tally; idempotent. */
  stop(): Promise<SteadyLoadTally>;
}

const MAX_PROBLEMS_KEPT = 10;
const OPEN_BRACE = 0x7b;

export function startSteadyLoad(url: string, options: SteadyLoadOptions): SteadyLoad {
  const { concurrency, timeoutMs = 5000, maxRequests = Infinity } = options;
  const parsed = new URL(url);
  const fixedRequest: LoadRequest = {
    path: `${parsed.pathname}${parsed.search}`,
    method: options.method ?? "GET",
    headers: options.headers ?? {},
  };
  const requestFor = options.requestFor ?? (() => fixedRequest);
  const pool = new Pool(parsed.origin, {
    allowH2: false,
    connections: concurrency,
    pipelining: 1,
    keepAliveTimeout: 1000,
    keepAliveMaxTimeout: 1000,
  });
  const tally: SteadyLoadTally = {
    total: 0,
    byStatus: {},
    byName: {},
    failures: 0,
    cutMidResponse: 0,
    badBodies: 0,
    problems: [],
  };
  const noteProblem = (problem: string): void => {
    if (tally.problems.length < MAX_PROBLEMS_KEPT) tally.problems.push(problem);
  };
  const settle = (outcome: LoadOutcome): void => {
    if (outcome.kind !== "answered") {
      tally.failures++;
      if (outcome.kind === "cut") tally.cutMidResponse++;
      noteProblem(outcome.error ?? "UNKNOWN");
    }
    if (outcome.isBodyIntact === false) tally.badBodies++;
    options.onOutcome?.(outcome);
  };
  const sendOne = async (request: LoadRequest): Promise<LoadOutcome> => {
    let status: number | undefined;
    try {
      const response = await pool.request({
        path: request.path,
        method: request.method,
        headers: request.headers,
        body: request.body ?? null,
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
      });
      status = response.statusCode;
      const body = Buffer.from(await response.body.arrayBuffer());
      tally.byStatus[status] = (tally.byStatus[status] ?? 0) + 1;
      const json = body[0] === OPEN_BRACE ? parseJson(body.toString()) : undefined;
      if (typeof json?.name === "string") {
        tally.byName[json.name] = (tally.byName[json.name] ?? 0) + 1;
      }
      if (status !== 200) noteProblem(`${status} ${json?.error?.code ?? ""}`.trim());
      const isBodyIntact = options.isIntact?.(request, status, body);
      const code = json?.error?.code;
      return {
        request,
        kind: "answered",
        status,
        ...(isBodyIntact === undefined ? {} : { isBodyIntact }),
        ...(code === undefined ? {} : { error: code }),
      };
    } catch (error) {
      const kind = status === undefined ? "no-answer" : "cut";
      return {
        request,
        kind,
        ...(status === undefined ? {} : { status }),
        error: errorCode(error),
      };
    }
  };
  let isStopping = false;
  const worker = async (): Promise<void> => {
    while (!isStopping && tally.total < maxRequests) {
      const request = requestFor(tally.total);
      tally.total++;
      settle(await sendOne(request));
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
  try {
    return JSON.parse(body) as EchoOrError;
  } catch {
    return undefined;
  }
}
