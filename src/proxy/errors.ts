/**
 * The proxy's own answers, through a ServerResponse: the codes, statuses and sentences are
 * those of the one table (errors/error-codes.ts). Upstream answers are passed through
 * untouched; these are only ours.
 */
import type { ServerResponse } from "node:http";
import { ERROR_CODES, type ErrorCodeOf } from "../errors/error-codes.ts";
import { errorBody, PROXY_JSON_TYPE, RETRY_AFTER_SECONDS } from "../errors/raw-error.ts";

export type ProxyErrorCode = ErrorCodeOf<"proxy">;

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
  const status = ERROR_CODES[code].status;
  const headers: Record<string, string | number> = {
    "content-type": PROXY_JSON_TYPE,
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
