/**
 * Answers requests that Node's parser refused before any handler saw them (conflicting
 * Content-Length/Transfer-Encoding, obs-fold, bad chunk sizes, oversized headers, garbage),
 * on the proxy's listener and the admin API's alike: 400 (431 for oversized headers, 505 for
 * an HTTP version we do not speak, 408 when the request did not arrive in time) with our JSON
 * body, then the connection is closed. The one reading of Node's client error codes.
 */
import { randomUUID } from "node:crypto";
import type { Duplex } from "node:stream";
import { CODE } from "./error-codes.ts";
import { PROXY_JSON_TYPE, writeRawError, type RawErrorCode } from "./raw-error.ts";

type ClientError = Error & { code?: string; reason?: string };

/** How a listener's answers differ. */
export interface ClientErrorStyle {
  /** The listener's JSON content type. */
  readonly contentType: string;
  /** The proxy names each answer with a request id; the admin API names none. */
  readonly hasRequestId: boolean;
}

const PROXY_STYLE: ClientErrorStyle = { contentType: PROXY_JSON_TYPE, hasRequestId: true };

export function answerClientError(
  error: ClientError,
  socket: Duplex,
  style: ClientErrorStyle = PROXY_STYLE,
): void {
  if (socket.destroyed || error.code === "ECONNRESET") {
    socket.destroy();
    return;
  }
  const requestId = style.hasRequestId ? randomUUID() : undefined;
  writeRawError(socket, clientErrorCode(error), requestId, style.contentType);
}

function clientErrorCode(error: ClientError): RawErrorCode {
  // headersTimeout / requestTimeout passed while a request was still arriving.
  if (error.code === "ERR_HTTP_REQUEST_TIMEOUT") return CODE.SWITCHYARD_REQUEST_TIMEOUT;
  if (error.code === "HPE_HEADER_OVERFLOW") return CODE.SWITCHYARD_HEADERS_TOO_LARGE;
  // llhttp says "Invalid HTTP version" for a well-formed HTTP/x.y it does not know (1.2, 3.0);
  // other HPE_INVALID_VERSION reasons are a broken request line, which is a plain 400.
  if (error.code === "HPE_INVALID_VERSION" && error.reason === "Invalid HTTP version") {
    return CODE.SWITCHYARD_HTTP_VERSION_NOT_SUPPORTED;
  }
  return CODE.SWITCHYARD_BAD_REQUEST;
}
