/**
 * Builds the upstreams of a config snapshot. What has state is reused across reloads: an
 * Endpoint (pool, health, ejection) whose upstream name and URL did not change, and an
 * upstream's breaker and outlier detector while its name stays. What the new config no longer
 * has is returned as `retired`, to close once the new snapshot is in place.
 */
import type { Config, UpstreamConfig } from "../config/schema.ts";
import type { Clock } from "../time/clock.ts";
import { UpstreamBreaker, type BreakerState } from "./breaker.ts";
import type { BucketRotations } from "./bucket-rotation.ts";
import { Endpoint } from "./endpoint.ts";
import { OutlierDetector, type OutlierEvent } from "./outlier-detector.ts";
import { Upstream } from "./upstream.ts";

export type UpstreamMap = ReadonlyMap<string, Upstream>;

/** Where upstream state changes are reported (logs, metrics, the event log). */
export interface UpstreamEventListener {
  onOutlierEvent(event: OutlierEvent): void;
  onBreakerStateChange(upstream: string, state: BreakerState, previous: BreakerState): void;
}

export interface UpstreamDeps {
  clock: Clock;
  rotations: BucketRotations;
  listener: UpstreamEventListener;
}

export interface UpstreamSetBuild {
  upstreams: UpstreamMap;
  /** Endpoints the new config adds (health-check them before they get traffic). */
  added: Endpoint[];
  /** Call once the new snapshot is swapped in: closes what the new config no longer has. */
  retire(): Promise<void>;
}

function endpointKey(upstreamName: string, url: string): string {
  return `${upstreamName} ${url}`;
}

export function buildUpstreams(
  config: Config,
  deps: UpstreamDeps,
  previous?: UpstreamMap,
): UpstreamSetBuild {
  const reusableEndpoints = new Map<string, Endpoint>();
  for (const upstream of previous?.values() ?? []) {
    for (const endpoint of upstream.endpoints) {
      reusableEndpoints.set(endpointKey(upstream.name, endpoint.url), endpoint);
    }
  }
  const upstreams = new Map<string, Upstream>();
  const added: Endpoint[] = [];
  for (const [name, upstreamConfig] of Object.entries(config.upstreams)) {
    const endpoints = upstreamConfig.endpoints.map((url) => {
      const key = endpointKey(name, url);
      const existing = reusableEndpoints.get(key);
      if (existing !== undefined && sameConnectionSettings(existing.config, upstreamConfig)) {
        reusableEndpoints.delete(key);
        return existing;
      }
      const created = new Endpoint(name, url, upstreamConfig);
      if (existing !== undefined) {
        // Same endpoint, new pool settings: keep what health checks, ejection and the
        // operator (drain, maintenance) say of it.
        created.isHealthy = existing.isHealthy;
        created.isEjected = existing.isEjected;
        created.adminState = existing.adminState;
      }
      added.push(created);
      return created;
    });
    const old = previous?.get(name);
    let breaker: UpstreamBreaker;
    let outlierDetector: OutlierDetector;
    if (old === undefined) {
      breaker = new UpstreamBreaker(name, upstreamConfig.breaker, deps.rotations);
      breaker.onStateChange((state, before) => {
        deps.listener.onBreakerStateChange(name, state, before);
      });
      outlierDetector = new OutlierDetector(
        name,
        endpoints,
        upstreamConfig.outlierDetection,
        deps.clock,
        (event) => {
          deps.listener.onOutlierEvent(event);
        },
      );
    } else {
      breaker = old.breaker;
      breaker.update(upstreamConfig.breaker);
      outlierDetector = old.outlierDetector;
      outlierDetector.update(endpoints, upstreamConfig.outlierDetection);
    }
    upstreams.set(name, new Upstream(name, upstreamConfig, endpoints, breaker, outlierDetector));
  }
  const retiredUpstreams = [...(previous?.values() ?? [])].filter((u) => !upstreams.has(u.name));
  const retiredEndpoints = [...reusableEndpoints.values()];
  return {
    upstreams,
    added,
    async retire() {
      for (const upstream of retiredUpstreams) {
        upstream.breaker.shutdown();
        upstream.outlierDetector.stop();
      }
      // Requests in flight on a retired endpoint finish first: close() waits for them.
      await Promise.all(retiredEndpoints.map((endpoint) => endpoint.close()));
    },
  };
}

/** Stops every upstream's breaker and detector and closes every pool. */
export async function closeUpstreams(upstreams: UpstreamMap): Promise<void> {
  for (const upstream of upstreams.values()) {
    upstream.breaker.shutdown();
    upstream.outlierDetector.stop();
  }
  await Promise.all(
    [...upstreams.values()].flatMap((upstream) => upstream.endpoints.map((e) => e.close())),
  );
}

/** Pool options are fixed at creation; a change of them needs a new pool. */
function sameConnectionSettings(old: UpstreamConfig, next: UpstreamConfig): boolean {
  return (
    old.maxConnections === next.maxConnections &&
    old.timeouts.connect === next.timeouts.connect &&
    old.timeouts.response === next.timeouts.response &&
    old.timeouts.idle === next.timeouts.idle
  );
}
