/**
 * Builds the upstreams of a config snapshot, reusing the Endpoint (pool, health, ejection) of
 * any endpoint whose upstream name and URL did not change, and closing the ones that are gone.
 */
import type { Config } from "../config/schema.ts";
import { Endpoint } from "./endpoint.ts";
import { Upstream } from "./upstream.ts";

export type UpstreamMap = ReadonlyMap<string, Upstream>;

function endpointKey(upstreamName: string, url: string): string {
  return `${upstreamName} ${url}`;
}

export interface UpstreamSetBuild {
  upstreams: UpstreamMap;
  /** Endpoints of the previous set that the new config no longer has: close after the swap. */
  retired: Endpoint[];
  /** Endpoints the new config adds (health-check them before they get traffic). */
  added: Endpoint[];
}

export function buildUpstreams(config: Config, previous?: UpstreamMap): UpstreamSetBuild {
  const reusable = new Map<string, Endpoint>();
  for (const upstream of previous?.values() ?? []) {
    for (const endpoint of upstream.endpoints) {
      reusable.set(endpointKey(upstream.name, endpoint.url), endpoint);
    }
  }
  const upstreams = new Map<string, Upstream>();
  const added: Endpoint[] = [];
  for (const [name, upstreamConfig] of Object.entries(config.upstreams)) {
    const endpoints = upstreamConfig.endpoints.map((url) => {
      const key = endpointKey(name, url);
      const existing = reusable.get(key);
      if (existing !== undefined && sameConnectionSettings(existing, upstreamConfig)) {
        reusable.delete(key);
        return existing;
      }
      const created = new Endpoint(name, url, upstreamConfig);
      added.push(created);
      return created;
    });
    upstreams.set(name, new Upstream(name, upstreamConfig, endpoints));
  }
  return { upstreams, retired: [...reusable.values()], added };
}

/** Pool options are fixed at creation; a change of them needs a new pool. */
function sameConnectionSettings(endpoint: Endpoint, config: Config["upstreams"][string]): boolean {
  const old = endpoint.config;
  return (
    old.maxConnections === config.maxConnections &&
    old.timeouts.connect === config.timeouts.connect &&
    old.timeouts.response === config.timeouts.response &&
    old.timeouts.idle === config.timeouts.idle
  );
}
