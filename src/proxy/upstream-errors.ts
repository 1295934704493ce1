/** Maps an error from the upstream side (undici or the socket) to the answer we give. */
import type { ProxyErrorCode } from "./errors.ts";

export function classifyUpstreamError(error: Error): ProxyErrorCode {
  const code = (error as { code?: unknown }).code;
  switch (code) {
    case "UND_ERR_HEADERS_TIMEOUT":
    case "UND_ERR_BODY_TIMEOUT":
      return "SWITCHYARD_UPSTREAM_TIMEOUT";
    case "ECONNREFUSED":
    case "UND_ERR_CONNECT_TIMEOUT":
    case "EHOSTUNREACH":
    case "ENETUNREACH":
    case "ENOTFOUND":
    case "EAI_AGAIN":
      return "SWITCHYARD_UPSTREAM_CONNECT_FAILED";
    case "ECONNRESET":
    case "EPIPE":
    case "UND_ERR_SOCKET":
    case "UND_ERR_CLOSED":
      return "SWITCHYARD_UPSTREAM_RESET";
    default:
      if (typeof code === "string" && code.startsWith("HPE_")) {
        return "SWITCHYARD_UPSTREAM_MALFORMED";
      }
      if (error.name === "HTTPParserError" || code === "UND_ERR_RES_CONTENT_LENGTH_MISMATCH") {
        return "SWITCHYARD_UPSTREAM_MALFORMED";
      }
      return "SWITCHYARD_UPSTREAM_RESET";
  }
}
