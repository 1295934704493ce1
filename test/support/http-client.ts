/**
 * Small HTTP client helpers for tests, over undici with explicit keep-alive dispatchers aimed
 * at loopback. Non-2xx statuses are results, not errors; network failures reject.
 */
import { Agent, Pool, type Dispatcher } from "undici";

/** Idle client sockets are dropped well before node servers' 5 s keep-alive timeout. */
const CLIENT_KEEP_ALIVE_MS = 1000;

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

export interface HammerResult {
  /** Responses by status code. */
  byStatus: Record<number, number>;
  /** Responses by the `name` of their JSON body (echo and demo backends), when there is one. */
  byName: Record<string, number>;
  /** Requests that got no response (network errors). */
  failures: number;
  /** Network errors by code (e.g. "ECONNRESET", "UND_ERR_SOCKET"). */
  failuresByCode: Record<string, number>;
  durationMs: number;
}

/** Sends `total` requests to `url` over `concurrency` connections and tallies the answers. */
export async function hammer(url: string, options: HammerOptions): Promise<HammerResult> {
  const { total, concurrency = 32, method = "GET", timeoutMs = 10_000 } = options;
  const { origin, path } = splitUrl(url);
  const pool = new Pool(origin, {
    allowH2: false,
    connections: concurrency,
    pipelining: 1,
    keepAliveTimeout: CLIENT_KEEP_ALIVE_MS,
    keepAliveMaxTimeout: CLIENT_KEEP_ALIVE_MS,
  });
  const result: HammerResult = {
    byStatus: {},
    byName: {},
    failures: 0,
    failuresByCode: {},
    durationMs: 0,
  };
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
        const body = await response.body.text();
        increment(result.byStatus, response.statusCode);
        const name = nameOf(body);
        if (name !== undefined) increment(result.byName, name);
      } catch (error) {
        result.failures++;
        increment(result.failuresByCode, errorCode(error));
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

function increment<K extends string | number>(counts: Record<K, number>, key: K): void {
  counts[key] = ((counts[key] as number | undefined) ?? 0) + 1;
}

function nameOf(body: string): string | undefined {
  if (!body.startsWith("{")) return undefined;
  try {
    const parsed: unknown = JSON.parse(body);
    if (typeof parsed === "object" && parsed !== null && "name" in parsed) {
      return typeof parsed.name === "string" ? parsed.name : undefined;
    }
  } catch {
    // Not JSON: counted by status only.
  }
  return undefined;
}

/** A short code for a network error: its own code, its cause's, or its class name. */
export function errorCode(error: unknown): string {
  for (const candidate of [error, causeOf(error)]) {
    if (typeof candidate === "object" && candidate !== null && "code" in candidate) {
      if (typeof candidate.code === "string") return candidate.code;
    }
  }
  return error instanceof Error ? error.name : "UNKNOWN";
}

function causeOf(error: unknown): unknown {
  return typeof error === "object" && error !== null && "cause" in error ? error.cause : undefined;
}
