/**
 * Answers requests that Node's parser refused before any handler saw them (conflicting
 * Content-Length/Transfer-Encoding, obs-fold, bad chunk sizes, oversized headers, garbage):
 * 400 (431 for oversized headers, 505 for an HTTP version we do not speak, 408 when the
 * request did not arrive in time) with our JSON body, then the connection is closed.
 */
import { randomUUID } from "node:crypto";
import type { Socket } from "node:net";
import type { ProxyErrorCode } from "./errors.ts";
import { writeRawError } from "./raw-error.ts";

type ClientError = Error & { code?: string; reason?: string };

export function answerClientError(error: ClientError, socket: Socket): void {
  if (socket.destroyed || error.code === "ECONNRESET") {
    socket.destroy();
    return;
  }
  writeRawError(socket, clientErrorCode(error), randomUUID());
}

function clientErrorCode(error: ClientError): ProxyErrorCode {
  // headersTimeout / requestTimeout passed while a request was still arriving.
  if (error.code === "ERR_HTTP_REQUEST_TIMEOUT") return "SWITCHYARD_REQUEST_TIMEOUT";
  if (error.code === "HPE_HEADER_OVERFLOW") return "SWITCHYARD_HEADERS_TOO_LARGE";
  // llhttp says "Invalid HTTP version" for a well-formed HTTP/x.y it does not know (1.2, 3.0);
  // other HPE_INVALID_VERSION reasons are a broken request line, which is a plain 400.
  if (error.code === "HPE_INVALID_VERSION" && error.reason === "Invalid HTTP version") {
    return "SWITCHYARD_HTTP_VERSION_NOT_SUPPORTED";
  }
  return "SWITCHYARD_BAD_REQUEST";
}
