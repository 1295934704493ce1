/**
 * The fleet document and the state file's format hold the same things (SPEC 10: in fleet
 * mode the state file is a local copy of the last fleet state). These convert one to the
 * other, so a replica can keep what it follows and seed from it when it starts with Redis away.
 * The fleet version is not in the file's format: the caller keeps it next to it.
 */
import { emptyState, type PersistedState } from "../state/state-schema.ts";
import type { FleetDocumentBody } from "./fleet-document.ts";

export function documentToPersisted(body: FleetDocumentBody): PersistedState {
  const state = emptyState();
  for (const route of new Set([...Object.keys(body.overrides), ...Object.keys(body.rollouts)])) {
    state.routes[route] = {
      override: body.overrides[route] ?? null,
      rollout: body.rollouts[route] ?? null,
    };
  }
  const upstreams = Object.entries(body.endpointStates);
  if (upstreams.length > 0) {
    state.upstreams = Object.fromEntries(
      upstreams.map(([upstream, endpoints]) => [upstream, { endpoints }]),
    );
  }
  return state;
}

export function persistedToDocument(state: PersistedState): FleetDocumentBody {
  const body: FleetDocumentBody = { overrides: {}, rollouts: {}, endpointStates: {} };
  for (const [route, routeState] of Object.entries(state.routes)) {
    if (routeState.override !== null) body.overrides[route] = routeState.override;
    if (routeState.rollout !== null) body.rollouts[route] = routeState.rollout;
  }
  for (const [upstream, { endpoints }] of Object.entries(state.upstreams ?? {})) {
    body.endpointStates[upstream] = endpoints;
  }
  return body;
}
