/**
 * A change of one endpoint's admin state (SPEC 12: ready, drain, maintenance), as a writer (an
 * operator through the admin API) hands it to the runtime, and the result that tells the writer
 * whether it is in force. Async like a split write: in fleet mode a shared store stands behind
 * it and the write can fail.
 */
import { controlError, type Actor, type ControlError } from "../control/control-api.ts";
import { CODE } from "../errors/error-codes.ts";
import type { EndpointAdminState } from "../upstream/endpoint-admin-state.ts";

export interface EndpointStateWrite {
  upstream: string;
  /** The endpoint's index in the upstream's `endpoints` list of the running config. */
  index: number;
  state: EndpointAdminState;
  source: "admin";
  actor: Actor;
}

/** What changed; `before` equals `after` when the endpoint was already in that state. */
export interface EndpointStateChange {
  upstream: string;
  index: number;
  /** The endpoint's URL: the state is kept by it, not by the index. */
  url: string;
  before: EndpointAdminState;
  after: EndpointAdminState;
}

export type EndpointStateWriteResult =
  { ok: true; change: EndpointStateChange } | { ok: false; error: ControlError };

/** The one method that changes an endpoint's admin state. */
export interface EndpointStateWriter {
  setEndpointState(write: EndpointStateWrite): Promise<EndpointStateWriteResult>;
}

export function unknownUpstreamError(upstream: string): ControlError {
  return controlError(CODE.SWITCHYARD_UNKNOWN_UPSTREAM, `no upstream named "${upstream}"`);
}

/** `index` is out of range for an upstream with `count` endpoints. */
export function unknownEndpointError(upstream: string, index: number, count: number): ControlError {
  const known =
    count === 0
      ? "it has none"
      : count === 1
        ? "its one endpoint is 0"
        : `its endpoints are 0 to ${count - 1}`;
  return controlError(
    CODE.SWITCHYARD_UNKNOWN_ENDPOINT,
    `upstream "${upstream}" has no endpoint ${String(index)}; ${known} (in the order of its endpoints list)`,
  );
}
