/**
 * What went wrong with an outgoing HTTP request that threw, from the error's code: the one
 * reading of undici's and node's error codes. The proxy turns a kind into its answer
 * (proxy/upstream-errors.ts) and its retry rules (proxy/exchange.ts); health probes and webhook
 * deliveries turn it into a short text (request-error-text.ts).
 */
export type RequestErrorKind =
  /** Nothing listened on the port. */
  | "refused"
  /** The TCP connection was not made in time. */
  | "connect-timeout"
  /** No route to the host or its network. */
  | "unreachable"
  /** The host name did not resolve. */
  | "dns"
  /** The peer reset or closed the connection, or a write found it gone. */
  | "reset"
  /** Our own client was closed under the request (a pool shut down by a reload). */
  | "closed"
  /** The answer's head or body did not arrive in time. */
  | "timeout"
  /** The answer could not be parsed, or its body disagreed with its Content-Length. */
  | "malformed"
  /** Anything else. */
  | "other";

const KIND_BY_CODE: Readonly<Record<string, RequestErrorKind>> = {
  ECONNREFUSED: "refused",
  UND_ERR_CONNECT_TIMEOUT: "connect-timeout",
  EHOSTUNREACH: "unreachable",
  ENETUNREACH: "unreachable",
  ENOTFOUND: "dns",
  EAI_AGAIN: "dns",
  ECONNRESET: "reset",
  EPIPE: "reset",
  UND_ERR_SOCKET: "reset",
  UND_ERR_CLOSED: "closed",
  UND_ERR_HEADERS_TIMEOUT: "timeout",
  UND_ERR_BODY_TIMEOUT: "timeout",
  UND_ERR_RES_CONTENT_LENGTH_MISMATCH: "malformed",
};

/** The kind of a thrown request error; "other" for anything that is not a known failure. */
export function classifyRequestError(error: unknown): RequestErrorKind {
  if (!(error instanceof Error)) return "other";
  const code = errorCodeOf(error);
  if (code !== undefined) {
    const kind = KIND_BY_CODE[code];
    if (kind !== undefined) return kind;
    // llhttp's codes, for node's parser and undici's alike.
    if (code.startsWith("HPE_")) return "malformed";
  }
  return error.name === "HTTPParserError" ? "malformed" : "other";
}

/** The request never reached the peer: no connection was made. */
export function isConnectFailure(kind: RequestErrorKind): boolean {
  return (
    kind === "refused" || kind === "connect-timeout" || kind === "unreachable" || kind === "dns"
  );
}

/** The error's own string code, if it has one. */
export function errorCodeOf(error: Error): string | undefined {
  const code = (error as { code?: unknown }).code;
  return typeof code === "string" ? code : undefined;
}
