/**
 * Small HTTP client helpers for tests, over undici with explicit keep-alive dispatchers aimed
 * at loopback. Non-2xx statuses are results, not errors; network failures reject.
 */
import { Agent, type Dispatcher } from "undici";
import {
  CLIENT_KEEP_ALIVE_MS,
  countAnswer,
  countFailure,
  emptyAnswerTally,
  loadPool,
  type AnswerTally,
} from "./load-tally.ts";

export { errorCode } from "./load-tally.ts";

let sharedAgent: Agent | undefined;

/** The keep-alive agent the helpers use unless given a `dispatcher`. */
export function defaultAgent(): Agent {
  sharedAgent ??= new Agent({
    allowH2: false,
    connections: 64,
    keepAliveTimeout: CLIENT_KEEP_ALIVE_MS,
    keepAliveMaxTimeout: CLIENT_KEEP_ALIVE_MS,
  });
  return sharedAgent;
}

/** Closes the default agent's sockets (a later call creates a new agent). */
export async function closeDefaultAgent(): Promise<void> {
  const agent = sharedAgent;
  sharedAgent = undefined;
  await agent?.close();
}

export type RequestHeaders = Record<string, string | string[]>;

export interface HttpRequestOptions {
  method?: Dispatcher.HttpMethod;
  headers?: RequestHeaders;
  body?: string | Buffer | null;
  dispatcher?: Dispatcher;
  /** Applied to both the wait for headers and the wait between body chunks (default 5000). */
  timeoutMs?: number;
}

export interface HttpResult {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  trailers: Record<string, string>;
}

export async function httpRequest(
  url: string,
  options: HttpRequestOptions = {},
): Promise<HttpResult> {
  const timeoutMs = options.timeoutMs ?? 5000;
  const response = await (options.dispatcher ?? defaultAgent()).request({
    ...splitUrl(url),
    method: options.method ?? "GET",
    headers: options.headers ?? {},
    body: options.body ?? null,
    headersTimeout: timeoutMs,
    bodyTimeout: timeoutMs,
  });
  const body = await response.body.text();
  return {
    status: response.statusCode,
    headers: response.headers,
    body,
    trailers: response.trailers,
  };
}

export function get(
  url: string,
  options: Omit<HttpRequestOptions, "method" | "body"> = {},
): Promise<HttpResult> {
  return httpRequest(url, { ...options, method: "GET" });
}

function splitUrl(url: string): { origin: string; path: string } {
  const parsed = new URL(url);
  return { origin: parsed.origin, path: `${parsed.pathname}${parsed.search}` };
}

export interface HammerOptions {
  total: number;
  /** Requests in flight at once, each on its own keep-alive connection (default 32). */
  concurrency?: number;
  method?: Dispatcher.HttpMethod;
  /** Fixed headers, or a function of the request index (0-based) to vary them. */
  headers?: RequestHeaders | ((index: number) => RequestHeaders);
  timeoutMs?: number;
}

export interface HammerResult extends AnswerTally {
  durationMs: number;
}

/** Sends `total` requests to `url` over `concurrency` connections and tallies the answers. */
export async function hammer(url: string, options: HammerOptions): Promise<HammerResult> {
  const { total, concurrency = 32, method = "GET", timeoutMs = 10_000 } = options;
  const { origin, path } = splitUrl(url);
  const pool = loadPool(origin, concurrency);
  const result: HammerResult = { ...emptyAnswerTally(), durationMs: 0 };
  const headers = options.headers ?? {};
  const headersOf = typeof headers === "function" ? headers : () => headers;
  const startedAt = performance.now();
  let nextIndex = 0;
  const worker = async (): Promise<void> => {
    while (nextIndex < total) {
      const index = nextIndex++;
      try {
        const response = await pool.request({
          path,
          method,
          headers: headersOf(index),
          headersTimeout: timeoutMs,
          bodyTimeout: timeoutMs,
        });
        countAnswer(result, response.statusCode, await response.body.text());
      } catch (error) {
        countFailure(result, error);
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(concurrency, total) }, worker));
  } finally {
    await pool.destroy();
  }
  result.durationMs = performance.now() - startedAt;
  return result;
}
