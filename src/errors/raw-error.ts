/**
 * The body every error answer of ours carries, and the one writer of a whole answer straight
 * onto a socket, for requests that have no ServerResponse: those Node's parser refused
 * (client-error.ts, on both listeners) and upgrades (proxy/upgrade.ts). The same status, body
 * and headers as `sendProxyError` (proxy/errors.ts), then the connection is closed.
 */
import { STATUS_CODES } from "node:http";
import type { Duplex } from "node:stream";
import { ERROR_CODES, type ErrorCodeOf } from "./error-codes.ts";

/** The codes written on a bare socket: the proxy's, and the admin listener's parser refusals. */
export type RawErrorCode = ErrorCodeOf<"proxy">;

/** Seconds a client should wait before retrying a 503. */
export const RETRY_AFTER_SECONDS = "1";

/** The proxy's JSON content type (the admin API declares its charset). */
export const PROXY_JSON_TYPE = "application/json";

/**
 * `{"error": {"code", "message", "requestId"}}`; the message is the table's unless `detail`
 * says more, and the admin API, which names no requests, leaves the request id out.
 */
export function errorBody(
  code: RawErrorCode,
  requestId: string | undefined,
  detail?: string,
): string {
  const message = detail === undefined ? ERROR_CODES[code].message : detail;
  const error = requestId === undefined ? { code, message } : { code, message, requestId };
  return JSON.stringify({ error });
}

export function writeRawError(
  socket: Duplex,
  code: RawErrorCode,
  requestId: string | undefined,
  contentType = PROXY_JSON_TYPE,
): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  socket.end(rawErrorResponse(code, requestId, contentType));
}

/** The whole answer: status line, headers and JSON body. */
export function rawErrorResponse(
  code: RawErrorCode,
  requestId: string | undefined,
  contentType = PROXY_JSON_TYPE,
): string {
  const status = ERROR_CODES[code].status;
  const body = errorBody(code, requestId);
  const idHeader = requestId === undefined ? "" : `x-request-id: ${requestId}\r\n`;
  const retryAfter = status === 503 ? `retry-after: ${RETRY_AFTER_SECONDS}\r\n` : "";
  return (
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? "Error"}\r\n` +
    `content-type: ${contentType}\r\ncontent-length: ${Buffer.byteLength(body)}\r\n` +
    `${idHeader}cache-control: no-store\r\n${retryAfter}` +
    `connection: close\r\n\r\n${body}`
  );
}
