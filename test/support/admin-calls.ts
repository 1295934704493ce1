/**
 * Calls to a running switchyard's admin API for tests: JSON in and out, an optional bearer
 * token, and the answers typed as the API documents them.
 */
import type { Dispatcher } from "undici";
import type {
  EndpointAdminState,
  EndpointView,
  StatusView,
  WeightsChange,
} from "../../src/control/control-api.ts";
import type { LoggedEvent } from "../../src/events/event-log.ts";
import { httpRequest, type HttpResult, type RequestHeaders } from "./http-client.ts";
import { waitFor } from "./ports.ts";

export interface AdminCallOptions {
  token?: string;
  /** Sent as JSON with `Content-Type: application/json`. */
  json?: unknown;
  /** Sent as is (with `headers` choosing the content type). */
  rawBody?: string | Buffer;
  /** Added last: they replace the token's and the content type's. */
  headers?: RequestHeaders;
}

export interface AdminAnswer extends HttpResult {
  /** The parsed JSON body, or undefined when it is not JSON. */
  readonly json: unknown;
}

/** The `error` object of an admin API error answer. */
export interface AdminErrorBody {
  code: string;
  message: string;
  fields?: Record<string, string>;
  [extra: string]: unknown;
}

/**
 * One call. Writes (any method but GET and HEAD) are declared JSON, as the admin API requires
 * even of an empty body, unless `headers` say otherwise.
 */
export async function adminCall(
  adminUrl: string,
  method: Dispatcher.HttpMethod,
  path: string,
  options: AdminCallOptions = {},
): Promise<AdminAnswer> {
  const isJson = options.json !== undefined || (method !== "GET" && method !== "HEAD");
  const headers: RequestHeaders = {
    ...(options.token === undefined ? {} : { authorization: `Bearer ${options.token}` }),
    ...(isJson ? { "content-type": "application/json" } : {}),
    ...options.headers,
  };
  const body =
    options.json === undefined ? (options.rawBody ?? null) : JSON.stringify(options.json);
  const result = await httpRequest(`${adminUrl}${path}`, { method, headers, body });
  return { ...result, json: parseJson(result.body) };
}

/** The `error` object of an answer (throws when the answer has none). */
export function errorOf(answer: AdminAnswer): AdminErrorBody {
  const body = answer.json as { error?: AdminErrorBody } | undefined;
  if (body?.error === undefined) {
    throw new Error(`not an error answer: ${String(answer.status)} ${answer.body}`);
  }
  return body.error;
}

export async function getStatus(adminUrl: string, token?: string): Promise<StatusView> {
  const answer = await adminCall(adminUrl, "GET", "/api/v1/status", tokenOption(token));
  if (answer.status !== 200) {
    throw new Error(`GET /api/v1/status answered ${String(answer.status)}: ${answer.body}`);
  }
  return answer.json as StatusView;
}

/** Polls GET /api/v1/status until `check` holds; resolves with the status that passed. */
export async function waitForStatusOf(
  adminUrl: string,
  check: (status: StatusView) => boolean,
  options: { description: string; timeoutMs: number; intervalMs: number },
): Promise<StatusView> {
  let last: StatusView | undefined;
  await waitFor(async () => {
    last = await getStatus(adminUrl);
    return check(last);
  }, options);
  if (last === undefined) throw new Error(`no status while waiting for ${options.description}`);
  return last;
}

/** `PUT /api/v1/routes/ROUTE/weights`; throws unless it answers 200. */
export async function setWeights(
  adminUrl: string,
  route: string,
  weights: Record<string, number>,
  token?: string,
): Promise<WeightsChange> {
  const answer = await adminCall(adminUrl, "PUT", `/api/v1/routes/${route}/weights`, {
    ...tokenOption(token),
    json: { weights },
  });
  if (answer.status !== 200) {
    throw new Error(`PUT weights answered ${String(answer.status)}: ${answer.body}`);
  }
  return answer.json as WeightsChange;
}

/** `PUT /api/v1/upstreams/UPSTREAM/endpoints/INDEX/state`; throws unless it answers 200. */
export async function setEndpointState(
  adminUrl: string,
  upstream: string,
  index: number,
  state: EndpointAdminState,
  token?: string,
): Promise<EndpointView> {
  const path = `/api/v1/upstreams/${upstream}/endpoints/${String(index)}/state`;
  const answer = await adminCall(adminUrl, "PUT", path, { ...tokenOption(token), json: { state } });
  if (answer.status !== 200) {
    throw new Error(`PUT ${path} answered ${String(answer.status)}: ${answer.body}`);
  }
  return answer.json as EndpointView;
}

export async function getEvents(
  adminUrl: string,
  sinceId?: number,
  token?: string,
): Promise<LoggedEvent[]> {
  const query = sinceId === undefined ? "" : `?since=${String(sinceId)}`;
  const answer = await adminCall(adminUrl, "GET", `/api/v1/events${query}`, tokenOption(token));
  if (answer.status !== 200) {
    throw new Error(`GET /api/v1/events answered ${String(answer.status)}: ${answer.body}`);
  }
  return (answer.json as { events: LoggedEvent[] }).events;
}

/** The split of `route` as status shows it, with its source. */
export async function routeSplit(
  adminUrl: string,
  route: string,
  token?: string,
): Promise<{ split: Record<string, number>; splitSource: string }> {
  const status = await getStatus(adminUrl, token);
  const found = status.routes.find((r) => r.name === route);
  if (found === undefined) throw new Error(`no route ${route} in status`);
  return { split: found.split, splitSource: found.splitSource };
}

function tokenOption(token: string | undefined): AdminCallOptions {
  return token === undefined ? {} : { token };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
