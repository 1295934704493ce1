/** A named version of the service (`stable`, `canary`, ...) and its endpoints. */
import type { UpstreamConfig } from "../config/schema.ts";
import type { Endpoint } from "./endpoint.ts";

export class Upstream {
  readonly name: string;
  readonly config: UpstreamConfig;
  readonly endpoints: readonly Endpoint[];
  private nextIndex = 0;

  constructor(name: string, config: UpstreamConfig, endpoints: readonly Endpoint[]) {
    this.name = name;
    this.config = config;
    this.endpoints = endpoints;
  }

  /** True while at least one endpoint is healthy and not ejected. */
  get isAvailable(): boolean {
    for (const endpoint of this.endpoints) if (endpoint.isAvailable) return true;
    return false;
  }

  /**
   * Round-robin over the available endpoints, skipping `exclude` (an endpoint a retry just
   * failed on) when another is available. Undefined when none is available.
   */
  pickEndpoint(exclude?: Endpoint): Endpoint | undefined {
    const endpoints = this.endpoints;
    const count = endpoints.length;
    let fallback: Endpoint | undefined;
    for (let tried = 0; tried < count; tried++) {
      const endpoint = endpoints[this.nextIndex % count];
      this.nextIndex = (this.nextIndex + 1) % count;
      if (endpoint === undefined || !endpoint.isAvailable) continue;
      if (endpoint !== exclude) return endpoint;
      fallback = endpoint;
    }
    return fallback;
  }
}
