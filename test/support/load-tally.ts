/**
 * What the load helpers (hammer, steady load, paced load) share: the client pool they send on,
 * and how an answer or a failure is counted. Answers are counted by status and, for the JSON
 * bodies of the echo and demo backends, by the backend's `name`; failures by error code; the
 * first few problems are kept as text to show in a failed assertion.
 */
import { Pool } from "undici";

/** Idle client sockets are dropped well before node servers' 5 s keep-alive timeout. */
export const CLIENT_KEEP_ALIVE_MS = 1000;
const MAX_PROBLEMS_KEPT = 10;

export interface AnswerTally {
  /** Answers by status code. */
  byStatus: Record<number, number>;
  /** Answers by the `name` of their JSON body, when there is one. */
  byName: Record<string, number>;
  /** Requests that got no answer at all (network errors). */
  failures: number;
  /** Network errors by code (e.g. "ECONNRESET", "UND_ERR_SOCKET"). */
  failuresByCode: Record<string, number>;
  /** The first few answers that were not 200, as "STATUS CODE", and network error codes. */
  problems: string[];
}

export function emptyAnswerTally(): AnswerTally {
  return { byStatus: {}, byName: {}, failures: 0, failuresByCode: {}, problems: [] };
}

/** A keep-alive HTTP/1.1 pool of `connections` to `origin`, one request per connection at a time. */
export function loadPool(origin: string, connections: number): Pool {
  return new Pool(origin, {
    allowH2: false,
    connections,
    pipelining: 1,
    keepAliveTimeout: CLIENT_KEEP_ALIVE_MS,
    keepAliveMaxTimeout: CLIENT_KEEP_ALIVE_MS,
  });
}

/** Counts an answer; `body` is read for the backend's name and error code when given. */
export function countAnswer(tally: AnswerTally, status: number, body?: string): void {
  increment(tally.byStatus, status);
  const json = body === undefined ? undefined : parseJsonBody(body);
  if (typeof json?.name === "string") increment(tally.byName, json.name);
  if (status !== 200) noteProblem(tally, `${String(status)} ${json?.error?.code ?? ""}`.trim());
}

/** Counts a request that got no answer. */
export function countFailure(tally: AnswerTally, error: unknown): void {
  const code = errorCode(error);
  tally.failures++;
  increment(tally.failuresByCode, code);
  noteProblem(tally, code);
}

/** Runs `run` on the first call only; every call returns that first call's promise. */
export function once<T>(run: () => Promise<T>): () => Promise<T> {
  let started: Promise<T> | undefined;
  return () => (started ??= run());
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

function noteProblem(tally: AnswerTally, problem: string): void {
  if (tally.problems.length < MAX_PROBLEMS_KEPT) tally.problems.push(problem);
}

function increment<K extends string | number>(counts: Record<K, number>, key: K): void {
  counts[key] = ((counts[key] as number | undefined) ?? 0) + 1;
}

interface EchoOrError {
  name?: unknown;
  error?: { code?: string };
}

function parseJsonBody(body: string): EchoOrError | undefined {
  if (!body.startsWith("{")) return undefined;
  try {
    const parsed: unknown = JSON.parse(body);
    return typeof parsed === "object" && parsed !== null ? parsed : undefined;
  } catch {
    // Not JSON: counted by status only.
    return undefined;
  }
}

function causeOf(error: unknown): unknown {
  return typeof error === "object" && error !== null && "cause" in error ? error.cause : undefined;
}
