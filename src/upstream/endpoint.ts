/**
 * One origin URL of an upstream and its keep-alive connection pool. Endpoints outlive config
 * snapshots: a reload that keeps the same upstream name and URL keeps the same Endpoint, so its
 * pool, health, ejection and admin state carry over.
 */
import { Pool } from "undici";
import type { UpstreamConfig } from "../config/schema.ts";
import type { EndpointAdminState } from "./endpoint-admin-state.ts";

export class Endpoint {
  readonly upstreamName: string;
  readonly url: string;
  readonly pool: Pool;
  /** The settings the pool was built with (a change of them needs a new Endpoint). */
  readonly config: UpstreamConfig;
  /** Set by active health checks; true until a check says otherwise. */
  isHealthy = true;
  /** Set by passive outlier detection. */
  isEjected = false;
  /**
   * Set by the runtime from the operator's endpoint states: only `ready` takes new requests.
   * A field on the endpoint, so that a pick reads it instead of looking it up.
   */
  adminState: EndpointAdminState = "ready";

  constructor(upstreamName: string, url: string, config: UpstreamConfig) {
    this.upstreamName = upstreamName;
    this.url = url;
    this.config = config;
    this.pool = new Pool(url, {
      // Upstreams speak HTTP/1.1; undici 8 would otherwise negotiate h2 on TLS origins.
      allowH2: false,
      connections: config.maxConnections,
      connectTimeout: config.timeouts.connect,
      // Time to the response headers: the `response` timeout (504 when it passes).
      headersTimeout: config.timeouts.response,
      // Longest silence inside a response body: the `idle` timeout.
      bodyTimeout: config.timeouts.idle,
      // Idle pooled sockets close before a typical upstream's own keep-alive timeout (Node: 5s),
      // which keeps the "upstream closed the idle socket" race rare; undici also honours the
      // upstream's Keep-Alive: timeout= hint.
      keepAliveTimeout: 4000,
      keepAliveMaxTimeout: 60_000,
      pipelining: 1,
    });
  }

  /** Takes new requests: ready, healthy and not ejected. */
  get isAvailable(): boolean {
    return this.adminState === "ready" && this.isHealthy && !this.isEjected;
  }

  async close(): Promise<void> {
    await this.pool.close();
  }

  destroy(): void {
    this.pool.destroy().catch(() => undefined);
  }
}
