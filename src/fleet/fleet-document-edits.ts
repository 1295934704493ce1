/**
 * Pure changes of the shared state document, the building blocks of `update` mutations: each
 * returns a new body and leaves the one given untouched (it may be the store's last known
 * state). The SPEC's refusals (409 with a running rollout) are the caller's, checked on the
 * state read before one of these is applied.
 */
import type {
  FleetDocumentBody,
  FleetEndpointState,
  FleetOverride,
  FleetRolloutRecord,
} from "./fleet-document.ts";

/** Sets (or, with null, drops) a route's weight override. */
export function withOverride(
  body: FleetDocumentBody,
  route: string,
  override: FleetOverride | null,
): FleetDocumentBody {
  return { ...body, overrides: withEntry(body.overrides, route, override) };
}

/** Sets (or, with null, drops) a route's rollout record. */
export function withRollout(
  body: FleetDocumentBody,
  route: string,
  record: FleetRolloutRecord | null,
): FleetDocumentBody {
  return { ...body, rollouts: withEntry(body.rollouts, route, record) };
}

/** Sets an endpoint's state; `ready` (the default) or null removes it, as the state file does. */
export function withEndpointState(
  body: FleetDocumentBody,
  upstream: string,
  url: string,
  state: FleetEndpointState | null,
): FleetDocumentBody {
  const kept = state === null || state.state === "ready" ? null : state;
  const endpoints = withEntry(body.endpointStates[upstream] ?? {}, url, kept);
  const hasAny = Object.keys(endpoints).length > 0;
  return {
    ...body,
    endpointStates: withEntry(body.endpointStates, upstream, hasAny ? endpoints : null),
  };
}

function withEntry<T>(
  record: Readonly<Record<string, T>>,
  key: string,
  value: T | null,
): Record<string, T> {
  const next = Object.fromEntries(Object.entries(record).filter(([name]) => name !== key));
  if (value !== null) next[key] = value;
  return next;
}
