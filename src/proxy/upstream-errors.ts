/** The answer we give for each kind of upstream failure (net/request-error-kind.ts). */
import type { RequestErrorKind } from "../net/request-error-kind.ts";
import type { ProxyErrorCode } from "./errors.ts";

const ANSWER_BY_KIND: Readonly<Record<RequestErrorKind, ProxyErrorCode>> = {
  refused: "SWITCHYARD_UPSTREAM_CONNECT_FAILED",
  "connect-timeout": "SWITCHYARD_UPSTREAM_CONNECT_FAILED",
  unreachable: "SWITCHYARD_UPSTREAM_CONNECT_FAILED",
  dns: "SWITCHYARD_UPSTREAM_CONNECT_FAILED",
  reset: "SWITCHYARD_UPSTREAM_RESET",
  closed: "SWITCHYARD_UPSTREAM_RESET",
  timeout: "SWITCHYARD_UPSTREAM_TIMEOUT",
  malformed: "SWITCHYARD_UPSTREAM_MALFORMED",
  // An error we cannot name still ended the attempt without an answer.
  other: "SWITCHYARD_UPSTREAM_RESET",
};

export function upstreamErrorCode(kind: RequestErrorKind): ProxyErrorCode {
  return ANSWER_BY_KIND[kind];
}
