/**
 * Answers requests that Node's parser refused before any handler saw them (conflicting
 * Content-Length/Transfer-Encoding, obs-fold, bad chunk sizes, oversized headers, garbage):
 * 400 (431 for oversized headers, 505 for an HTTP version we do not speak) with our JSON
 * body, then the connection is closed.
 */
import { randomUUID } from "node:crypto";
import type { Socket } from "node:net";
import { errorBody, PROXY_ERRORS, type ProxyErrorCode } from "./errors.ts";

export function answerClientError(
  error: Error & { code?: string; reason?: string },
  socket: Socket,
): void {
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
  const code = clientErrorCode(error);
  const status = PROXY_ERRORS[code].status;
  const body = errorBody(code, randomUUID());
  socket.end(
    `HTTP/1.1 ${status} ${REASONS[status] ?? "Bad Request"}\r\ncontent-type: application/json\r\n` +
      `content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
  );
}

const REASONS: Record<number, string> = {
  400: "Bad Request",
  431: "Request Header Fields Too Large",
  505: "HTTP Version Not Supported",
};

function clientErrorCode(error: Error & { code?: string; reason?: string }): ProxyErrorCode {
  if (error.code === "HPE_HEADER_OVERFLOW") return "SWITCHYARD_HEADERS_TOO_LARGE";
  // llhttp says "Invalid HTTP version" for a well-formed HTTP/x.y it does not know (1.2, 3.0);
  // other HPE_INVALID_VERSION reasons are a broken request line, which is a plain 400.
  if (error.code === "HPE_INVALID_VERSION" && error.reason === "Invalid HTTP version") {
    return "SWITCHYARD_HTTP_VERSION_NOT_SUPPORTED";
  }
  return "SWITCHYARD_BAD_REQUEST";
}
