/**
 * The operators' endpoint states in the state file's form (`upstreams.NAME.endpoints.URL`) and
 * back. A file without them, or with none left, has no `upstreams` at all, so files of
 * installations that never drain an endpoint keep their earlier shape.
 */
import type { EndpointStateRecord, EndpointStates } from "../runtime/endpoint-states.ts";
import type { PersistedState, PersistedUpstreamState } from "../state/state-schema.ts";

export function endpointStatesFromPersisted(
  upstreams: PersistedState["upstreams"],
): Map<string, Map<string, EndpointStateRecord>> {
  const states = new Map<string, Map<string, EndpointStateRecord>>();
  for (const [upstream, saved] of Object.entries(upstreams ?? {})) {
    const records = new Map<string, EndpointStateRecord>();
    for (const [url, { state, setBy, setAt }] of Object.entries(saved.endpoints)) {
      // A saved `ready` is the default: nothing to keep.
      if (state !== "ready") records.set(url, { state, setBy, setAt });
    }
    if (records.size > 0) states.set(upstream, records);
  }
  return states;
}

/** A copy taken now: the runtime goes on changing its own table. */
export function endpointStatesToPersisted(states: EndpointStates): PersistedState["upstreams"] {
  const upstreams: Record<string, PersistedUpstreamState> = {};
  for (const [upstream, records] of states) {
    if (records.size === 0) continue;
    const endpoints: PersistedUpstreamState["endpoints"] = {};
    for (const [url, { state, setBy, setAt }] of records) endpoints[url] = { state, setBy, setAt };
    upstreams[upstream] = { endpoints };
  }
  return Object.keys(upstreams).length === 0 ? undefined : upstreams;
}
