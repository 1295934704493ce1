/**
 * Our error answer written straight onto a socket, for requests that have no ServerResponse:
 * those Node's parser refused (client-error.ts) and upgrades (upgrade.ts). The same status,
 * body and headers as `sendProxyError`, then the connection is closed.
 */
import { STATUS_CODES } from "node:http";
import type { Duplex } from "node:stream";
import { errorBody, PROXY_ERRORS, RETRY_AFTER_SECONDS, type ProxyErrorCode } from "./errors.ts";

export function writeRawError(socket: Duplex, code: ProxyErrorCode, requestId: string): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  socket.end(rawErrorResponse(code, requestId));
}

/** The whole answer: status line, headers and JSON body. */
export function rawErrorResponse(code: ProxyErrorCode, requestId: string): string {
  const status = PROXY_ERRORS[code].status;
  const body = errorBody(code, requestId);
  const retryAfter = status === 503 ? `retry-after: ${RETRY_AFTER_SECONDS}\r\n` : "";
  return (
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? "Error"}\r\n` +
    `content-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n` +
    `x-request-id: ${requestId}\r\ncache-control: no-store\r\n${retryAfter}` +
    `connection: close\r\n\r\n${body}`
  );
}
