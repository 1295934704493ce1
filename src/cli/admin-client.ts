/**
 * The client side of the admin API for `switchyard status`, `weights`, `rollout` and `endpoint`: where to
 * call (`--admin`, `--token`, $SWITCHYARD_ADMIN_TOKEN), one call over undici, and every way it
 * can fail turned into one sentence with the fix.
 */
import { Agent } from "undici";
import { CODE } from "../errors/error-codes.ts";
import { classifyRequestError } from "../net/request-error-kind.ts";
import { describeRequestError } from "../net/request-error-text.ts";

export const DEFAULT_ADMIN_URL = "http://127.0.0.1:9901";
export const ADMIN_TOKEN_ENV = "SWITCHYARD_ADMIN_TOKEN";
/** The exit code of a usage error (bad flag or argument), as in main.ts. */
export const EXIT_USAGE_ERROR = 2;

const CONNECT_TIMEOUT_MS = 5000;
const ANSWER_TIMEOUT_MS = 10_000;

/** The flags every client command takes. */
export interface AdminFlags {
  readonly admin?: string;
  readonly token?: string;
}

/** Writes that take `--local`: fleet mode's emergency lever while Redis is away (SPEC 10). */
export interface LocalWriteFlags {
  readonly local?: boolean;
}

/** `path` with `?local=true` when `--local` was given. */
export function withWriteScope(path: string, flags: LocalWriteFlags): string {
  return flags.local === true ? `${path}?local=true` : path;
}

export interface AdminTarget {
  /** The admin API's base URL, without a trailing slash. */
  readonly baseUrl: string;
  readonly token: string | undefined;
}

export type TargetResult =
  | { readonly ok: true; readonly target: AdminTarget }
  | { readonly ok: false; readonly message: string };

/** `--admin` (default http://127.0.0.1:9901; `HOST:PORT` means http://HOST:PORT) and the token. */
export function resolveAdminTarget(flags: AdminFlags, env: NodeJS.ProcessEnv): TargetResult {
  const text = flags.admin ?? DEFAULT_ADMIN_URL;
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(text) ? text : `http://${text}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    url = new URL("invalid:");
  }
  const isHttp = url.protocol === "http:" || url.protocol === "https:";
  if (!isHttp || url.hostname === "" || url.search !== "" || url.hash !== "") {
    return {
      ok: false,
      message: `--admin "${text}" is not an http:// URL of the admin API (e.g. ${DEFAULT_ADMIN_URL})`,
    };
  }
  const envToken = env[ADMIN_TOKEN_ENV];
  const token = flags.token ?? (envToken === "" ? undefined : envToken);
  const baseUrl = `${url.origin}${url.pathname.replace(/\/+$/, "")}`;
  return { ok: true, target: { baseUrl, token } };
}

export type AdminCallResult =
  | { readonly ok: true; readonly status: number; readonly body: unknown }
  | { readonly ok: false; readonly message: string };

interface ErrorBody {
  code?: unknown;
  message?: unknown;
  fields?: unknown;
}

/** One call; a non-2xx answer or a network failure comes back as a sentence. */
export async function callAdmin(
  target: AdminTarget,
  method: "GET" | "PUT" | "POST" | "DELETE",
  path: string,
  body?: unknown,
): Promise<AdminCallResult> {
  const url = `${target.baseUrl}${path}`;
  const headers: Record<string, string> = { accept: "application/json" };
  if (target.token !== undefined) headers.authorization = `Bearer ${target.token}`;
  // The admin API takes writes declared JSON only, an empty body included (cross-site rule).
  if (method !== "GET") headers["content-type"] = "application/json";
  const agent = new Agent({
    allowH2: false,
    connect: { timeout: CONNECT_TIMEOUT_MS },
    headersTimeout: ANSWER_TIMEOUT_MS,
    bodyTimeout: ANSWER_TIMEOUT_MS,
  });
  try {
    const parsedUrl = new URL(url);
    const response = await agent.request({
      origin: parsedUrl.origin,
      path: `${parsedUrl.pathname}${parsedUrl.search}`,
      method,
      headers,
      body: body === undefined ? null : JSON.stringify(body),
    });
    const text = await response.body.text();
    const contentType = String(response.headers["content-type"] ?? "no content type");
    let parsed: unknown;
    try {
      parsed = contentType.startsWith("application/json") ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    if (parsed === undefined) {
      return {
        ok: false,
        message: `${url} answered ${response.statusCode} with ${contentType}, not the switchyard admin API; is --admin the admin address (listen.admin), not the proxy's?`,
      };
    }
    if (response.statusCode >= 200 && response.statusCode < 300) {
      return { ok: true, status: response.statusCode, body: parsed };
    }
    return { ok: false, message: refusalSentence(target, url, response.statusCode, parsed) };
  } catch (error) {
    return { ok: false, message: networkSentence(target.baseUrl, error) };
  } finally {
    await agent.close();
  }
}

function refusalSentence(target: AdminTarget, url: string, status: number, body: unknown): string {
  const error = (typeof body === "object" && body !== null && "error" in body ? body.error : {}) as
    ErrorBody | undefined;
  const code = typeof error?.code === "string" ? error.code : "";
  const message = typeof error?.message === "string" ? error.message.replace(/\.$/, "") : "";
  if (status === 401) {
    return target.token === undefined
      ? `the admin API requires a token (401); pass --token or set ${ADMIN_TOKEN_ENV}`
      : `the admin API refused the token (401); pass a valid one with --token or ${ADMIN_TOKEN_ENV}`;
  }
  if (code === CODE.SWITCHYARD_FORBIDDEN) {
    return "the admin API refused the call for a read token (403); use a token with scope write";
  }
  if (code === CODE.SWITCHYARD_NOT_FOUND || code === CODE.SWITCHYARD_METHOD_NOT_ALLOWED) {
    return `${url} does not serve this call (${status}); is --admin the switchyard admin API, and is switchyard up to date?`;
  }
  const details = fieldDetails(error?.fields, message);
  const what = message === "" ? `HTTP ${status}` : message;
  if (status >= 500) return `the admin API failed: ${what} (${status}); see the switchyard log`;
  return `the admin API refused the call: ${what}${details} (${status}${code === "" ? "" : ` ${code}`})`;
}

/** `: path problem; ...` for the fields the message does not already name. */
function fieldDetails(fields: unknown, message: string): string {
  if (typeof fields !== "object" || fields === null) return "";
  const missing = Object.entries(fields as Record<string, unknown>)
    .filter(([path]) => !message.includes(path))
    .map(([path, problem]) => `${path} ${String(problem)}`);
  return missing.length === 0 ? "" : `: ${missing.join("; ")}`;
}

function networkSentence(baseUrl: string, error: unknown): string {
  const failure = codedError(error);
  if (classifyRequestError(failure) === "timeout") {
    return `the admin API at ${baseUrl} did not answer within ${ANSWER_TIMEOUT_MS / 1000} s; is switchyard overloaded or stuck?`;
  }
  const reason = describeRequestError(failure, String(error));
  return `cannot reach the admin API at ${baseUrl} (${reason}); is switchyard running, and is --admin right?`;
}

/** The error that says what failed: the first with a code, inside undici's wrappers. */
function codedError(error: unknown): unknown {
  for (let current = error, depth = 0; depth < 4; depth++) {
    if (typeof current !== "object" || current === null) break;
    if ("code" in current && typeof current.code === "string" && current.code !== "UND_ERR") {
      return current;
    }
    if (current instanceof AggregateError) current = current.errors[0] as unknown;
    else current = "cause" in current ? current.cause : undefined;
  }
  return error;
}
