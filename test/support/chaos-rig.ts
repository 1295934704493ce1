/**
 * The stage of a fault-under-load scenario: echo backends in child processes (so they can be
 * killed and frozen), a real switchyard in this process serving a config file (so reloads and
 * the admin API are the real ones, and undici's diagnostics channel shows where each attempt
 * went), and what the proxy and the backends can be asked about it.
 */
import { adminCall } from "./admin-calls.ts";
import {
  startBackendProcess,
  type BackendProcess,
  type BackendProcessOptions,
} from "./backend-process.ts";
import { startFileSwitchyard, type FileSwitchyard } from "./file-switchyard.ts";
import { waitFor } from "./ports.ts";
import { parsePrometheusText } from "./prometheus-text.ts";

/** Per-endpoint pool size of every upstream in a chaos config: small, so a leak shows. */
export const CHAOS_POOL_SIZE = 3;
/** Longer than any scenario: a backend's idle connections stay until the proxy closes them. */
const BACKEND_KEEP_ALIVE_MS = 120_000;

export interface ChaosStage {
  /** Endpoints of each upstream, by backend name. */
  upstreams: Record<string, BackendProcessOptions[]>;
  /** Added to every upstream's config (timeouts, outlier detection...). */
  upstream?: Record<string, unknown>;
  /** The route's split, by upstream. */
  split: Record<string, number>;
  /** Added to the route's config. */
  route?: Record<string, unknown>;
}

/**
 * The stage every chaos scenario plays on: stable on two endpoints, canary on one, 70/30.
 * `upstream` is added to every upstream's config; `stableA` replaces the first endpoint's options.
 */
export function threeEndpointStage(
  upstream: Record<string, unknown>,
  stableA: BackendProcessOptions = { name: "stable-a" },
): ChaosStage {
  return {
    upstreams: { stable: [stableA, { name: "stable-b" }], canary: [{ name: "canary-a" }] },
    upstream,
    split: { stable: 70, canary: 30 },
  };
}

export interface ChaosRig {
  readonly proxy: FileSwitchyard;
  /** The running backend of each name (a restart replaces it). */
  readonly backends: Map<string, BackendProcess>;
  /** The config object for `stage` with the backends' URLs, as written to the file. */
  configFor(stage: ChaosStage): Record<string, unknown>;
  /** Starts a new backend `name` on the port of the old one (which must be gone). */
  restart(name: string): Promise<BackendProcess>;
  /** Stops the proxy, then every backend. */
  close(): Promise<void>;
}

export async function startChaosRig(stage: ChaosStage): Promise<ChaosRig> {
  // Backends never close idle connections themselves: whatever closes them is the proxy.
  const specs = Object.values(stage.upstreams)
    .flat()
    .map((spec) => ({ keepAliveTimeoutMs: BACKEND_KEEP_ALIVE_MS, ...spec }));
  const started = await Promise.all(specs.map((spec) => startBackendProcess(spec)));
  const backends = new Map(started.map((backend) => [backend.name, backend]));
  const optionsByName = new Map(specs.map((spec) => [spec.name ?? "echo", spec]));
  const configFor = (next: ChaosStage): Record<string, unknown> => chaosConfig(next, backends);
  let proxy: FileSwitchyard;
  try {
    proxy = await startFileSwitchyard(configFor(stage));
  } catch (error) {
    await Promise.all(started.map((backend) => backend.close()));
    throw error;
  }
  return {
    proxy,
    backends,
    configFor,
    async restart(name) {
      const old = backends.get(name);
      if (old === undefined) throw new Error(`no backend ${name}`);
      const fresh = await startBackendProcess({ ...optionsByName.get(name), port: old.port });
      backends.set(name, fresh);
      return fresh;
    },
    async close() {
      await proxy.close();
      await Promise.all([...backends.values()].map((backend) => backend.close()));
    },
  };
}

function chaosConfig(
  stage: ChaosStage,
  backends: ReadonlyMap<string, BackendProcess>,
): Record<string, unknown> {
  const upstreams: Record<string, unknown> = {};
  for (const [name, specs] of Object.entries(stage.upstreams)) {
    upstreams[name] = {
      endpoints: specs.map((spec) => backends.get(spec.name ?? "echo")?.url),
      maxConnections: CHAOS_POOL_SIZE,
      ...stage.upstream,
    };
  }
  return {
    upstreams,
    routes: [{ name: "web", split: stage.split, fallback: true, ...stage.route }],
  };
}

/** The sum of every sample of counter `name` on the admin listener's /metrics. */
export async function counterTotal(adminUrl: string, name: string): Promise<number> {
  const answer = await adminCall(adminUrl, "GET", "/metrics");
  const family = parsePrometheusText(answer.body).get(name);
  return (family?.samples ?? []).reduce((sum, sample) => sum + sample.value, 0);
}

/** Whether the admin API shows the endpoint at `url` ejected by outlier detection. */
export async function isEndpointEjected(adminUrl: string, url: string): Promise<boolean> {
  const answer = await adminCall(adminUrl, "GET", "/api/v1/status");
  const status = answer.json as { upstreams: { endpoints: { url: string; ejected: boolean }[] }[] };
  return status.upstreams.some((u) => u.endpoints.some((e) => e.url === url && e.ejected));
}

/**
 * Waits until every running backend holds at most `limit` connections (the pool's size) and
 * returns the counts by backend name; the deadline is generous, the wait ends at the event.
 */
export async function connectionsAfterSettling(
  backends: ReadonlyMap<string, BackendProcess>,
  limit = CHAOS_POOL_SIZE,
): Promise<Record<string, number>> {
  const counts = (): Record<string, number> =>
    Object.fromEntries([...backends].map(([name, b]) => [name, b.openConnections]));
  try {
    await waitFor(() => Object.values(counts()).every((open) => open <= limit), {
      timeoutMs: 15_000,
      intervalMs: 50,
    });
  } catch {
    // The caller's expectation shows the counts that did not settle.
  }
  return counts();
}
