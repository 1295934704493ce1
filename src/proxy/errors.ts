/**
 * Every error switchyard itself answers, in one table: a stable code, the HTTP status and the
 * sentence a client sees. Upstream answers are passed through untouched; these are only ours.
 */
import type { ServerResponse } from "node:http";

export const PROXY_ERRORS = {
  SWITCHYARD_BAD_REQUEST: { status: 400, message: "The request is malformed or ambiguous." },
  SWITCHYARD_UPGRADE_REFUSED: { status: 400, message: "This upgrade is not supported." },
  SWITCHYARD_NO_ROUTE: { status: 404, message: "No route matches this request." },
  SWITCHYARD_REQUEST_TIMEOUT: {
    status: 408,
    message: "The request did not arrive within the server's time limits.",
  },
  SWITCHYARD_HEADERS_TOO_LARGE: {
    status: 431,
    message: "The request headers are larger than the server accepts.",
  },
  SWITCHYARD_UPSTREAM_CONNECT_FAILED: {
    status: 502,
    message: "The upstream could not be reached.",
  },
  SWITCHYARD_UPSTREAM_RESET: {
    status: 502,
    message: "The upstream closed the connection before answering.",
  },
  SWITCHYARD_UPSTREAM_MALFORMED: {
    status: 502,
    message: "The upstream sent a malformed response.",
  },
  SWITCHYARD_UPSTREAM_UNAVAILABLE: {
    status: 503,
    message: "No upstream is available for this route.",
  },
  SWITCHYARD_UPSTREAM_TIMEOUT: {
    status: 504,
    message: "The upstream did not answer in time.",
  },
  SWITCHYARD_HTTP_VERSION_NOT_SUPPORTED: {
    status: 505,
    message: "Only HTTP/1.0 and HTTP/1.1 are spoken on this connection.",
  },
  SWITCHYARD_LOOP_DETECTED: {
    status: 508,
    message: "The request has already passed through switchyard (Via loop).",
  },
} as const satisfies Record<string, { status: number; message: string }>;

export type ProxyErrorCode = keyof typeof PROXY_ERRORS;

/** Seconds a client should wait before retrying a 503. */
export const RETRY_AFTER_SECONDS = "1";

export function errorBody(code: ProxyErrorCode, requestId: string, detail?: string): string {
  const message = detail === undefined ? PROXY_ERRORS[code].message : detail;
  return JSON.stringify({ error: { code, message, requestId } });
}

/** Answers one of our own errors, unless the response has already started. */
export function sendProxyError(
  res: ServerResponse,
  code: ProxyErrorCode,
  requestId: string,
  closeConnection = false,
): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = errorBody(code, requestId);
  const status = PROXY_ERRORS[code].status;
  const headers: Record<string, string | number> = {
    "content-type": "application/json",
    "content-length": Buffer.byteLength(body),
    "x-request-id": requestId,
    "cache-control": "no-store",
  };
  if (status === 503) headers["retry-after"] = RETRY_AFTER_SECONDS;
  if (closeConnection) {
    headers.connection = "close";
    res.shouldKeepAlive = false;
  }
  res.writeHead(status, headers);
  res.end(res.req.method === "HEAD" ? undefined : body);
}
