/**
 * Answers requests that Node's parser refused before any handler saw them (conflicting
 * Content-Length/Transfer-Encoding, obs-fold, bad chunk sizes, oversized headers, garbage):
 * 400 (431 for oversized headers) with our JSON body, then the connection is closed.
 */
import { randomUUID } from "node:crypto";
import type { Socket } from "node:net";
import { errorBody, PROXY_ERRORS, type ProxyErrorCode } from "./errors.ts";

export function answerClientError(error: Error & { code?: string }, socket: Socket): void {
  if (!socket.writable || socket.destroyed) {
    socket.destroy();
    return;
  }
  if (error.code === "ECONNRESET") {
    socket.destroy();
    return;
  }
  // headersTimeout / requestTimeout passed while a request was still arriving.
  if (error.code === "ERR_HTTP_REQUEST_TIMEOUT") {
    const body = errorBody("SWITCHYARD_REQUEST_TIMEOUT", randomUUID());
    socket.end(
      `HTTP/1.1 408 Request Timeout\r\ncontent-type: application/json\r\n` +
        `content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
    );
    return;
  }
  const code: ProxyErrorCode =
    error.code === "HPE_HEADER_OVERFLOW"
      ? "SWITCHYARD_HEADERS_TOO_LARGE"
      : "SWITCHYARD_BAD_REQUEST";
  const status = PROXY_ERRORS[code].status;
  const reason = status === 431 ? "Request Header Fields Too Large" : "Bad Request";
  const body = errorBody(code, randomUUID());
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\ncontent-type: application/json\r\n` +
      `content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
  );
}
