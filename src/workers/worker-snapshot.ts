/**
 * The snapshot the primary sends its workers: the runtime's config, overrides and endpoint
 * states, and what the primary's health checks say of each endpoint.
 */
import type { Runtime } from "../runtime/runtime.ts";
import type { UpstreamMap } from "../upstream/upstream-set.ts";
import type { WorkerSnapshot } from "./worker-messages.ts";

export function workerSnapshotOf(runtime: Runtime, version: number): WorkerSnapshot {
  const current = runtime.current;
  return {
    version,
    config: current.config,
    configHash: current.configHash,
    overrides: new Map(runtime.overrides),
    endpointStates: runtime.endpointStates,
    health: healthOf(current.upstreams),
  };
}

function healthOf(upstreams: UpstreamMap): Map<string, Map<string, boolean>> {
  const health = new Map<string, Map<string, boolean>>();
  for (const upstream of upstreams.values()) {
    health.set(
      upstream.name,
      new Map(upstream.endpoints.map((endpoint) => [endpoint.url, endpoint.isHealthy])),
    );
  }
  return health;
}

/** Sets each endpoint's health as the primary's checks see it (unlisted ones keep theirs). */
export function applyHealth(
  upstreams: UpstreamMap,
  health: ReadonlyMap<string, ReadonlyMap<string, boolean>>,
): void {
  for (const upstream of upstreams.values()) {
    const byUrl = health.get(upstream.name);
    for (const endpoint of upstream.endpoints) {
      const isHealthy = byUrl?.get(endpoint.url);
      if (isHealthy !== undefined) endpoint.isHealthy = isHealthy;
    }
  }
}
