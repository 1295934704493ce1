/**
 * A short, stable description of an outgoing request that threw (health probes, webhook
 * deliveries): what an operator reads in logs and status views, not undici's internals.
 */
export function describeRequestError(error: unknown, fallback: string): string {
  if (!(error instanceof Error)) return fallback;
  const code = (error as { code?: unknown }).code;
  switch (code) {
    case "ECONNREFUSED":
      return "connection refused";
    case "ECONNRESET":
    case "EPIPE":
    case "UND_ERR_SOCKET":
    case "UND_ERR_CLOSED":
      return "connection reset";
    case "UND_ERR_CONNECT_TIMEOUT":
      return "connect timeout";
    case "UND_ERR_HEADERS_TIMEOUT":
    case "UND_ERR_BODY_TIMEOUT":
      return "timeout";
    case "EHOSTUNREACH":
    case "ENETUNREACH":
      return "host unreachable";
    case "ENOTFOUND":
    case "EAI_AGAIN":
      return "DNS lookup failed";
    default:
      if (
        (typeof code === "string" && code.startsWith("HPE_")) ||
        error.name === "HTTPParserError" ||
        code === "UND_ERR_RES_CONTENT_LENGTH_MISMATCH"
      ) {
        return "malformed response";
      }
      return typeof code === "string" ? `${code}: ${error.message}` : error.message;
  }
}
