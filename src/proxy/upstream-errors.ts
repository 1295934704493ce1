/** The answer we give for each kind of upstream failure (net/request-error-kind.ts). */
import { CODE } from "../errors/error-codes.ts";
import type { RequestErrorKind } from "../net/request-error-kind.ts";
import type { ProxyErrorCode } from "./errors.ts";

const ANSWER_BY_KIND: Readonly<Record<RequestErrorKind, ProxyErrorCode>> = {
  refused: CODE.SWITCHYARD_UPSTREAM_CONNECT_FAILED,
  "connect-timeout": CODE.SWITCHYARD_UPSTREAM_CONNECT_FAILED,
  unreachable: CODE.SWITCHYARD_UPSTREAM_CONNECT_FAILED,
  dns: CODE.SWITCHYARD_UPSTREAM_CONNECT_FAILED,
  reset: CODE.SWITCHYARD_UPSTREAM_RESET,
  closed: CODE.SWITCHYARD_UPSTREAM_RESET,
  timeout: CODE.SWITCHYARD_UPSTREAM_TIMEOUT,
  malformed: CODE.SWITCHYARD_UPSTREAM_MALFORMED,
  // An error we cannot name still ended the attempt without an answer.
  other: CODE.SWITCHYARD_UPSTREAM_RESET,
};

export function upstreamErrorCode(kind: RequestErrorKind): ProxyErrorCode {
  return ANSWER_BY_KIND[kind];
}
