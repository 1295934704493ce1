/**
 * A short, stable description of an outgoing request that threw (health probes, webhook
 * deliveries): what an operator reads in logs and status views, not undici's internals.
 */
import { classifyRequestError, errorCodeOf, type RequestErrorKind } from "./request-error-kind.ts";

const TEXT_BY_KIND: Readonly<Record<Exclude<RequestErrorKind, "other">, string>> = {
  refused: "connection refused",
  "connect-timeout": "connect timeout",
  unreachable: "host unreachable",
  dns: "DNS lookup failed",
  reset: "connection reset",
  closed: "connection reset",
  timeout: "timeout",
  malformed: "malformed response",
};

export function describeRequestError(error: unknown, fallback: string): string {
  if (!(error instanceof Error)) return fallback;
  const kind = classifyRequestError(error);
  if (kind !== "other") return TEXT_BY_KIND[kind];
  const code = errorCodeOf(error);
  return code === undefined ? error.message : `${code}: ${error.message}`;
}
