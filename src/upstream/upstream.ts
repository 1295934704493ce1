/**
 * A named version of the service (`stable`, `canary`, ...): its endpoints, its circuit breaker
 * and its outlier detector. The breaker and detector live as long as the upstream's name does;
 * a reload hands them to the new Upstream object.
 */
import type { UpstreamConfig } from "../config/schema.ts";
import type { UpstreamBreaker } from "./breaker.ts";
import type { Endpoint } from "./endpoint.ts";
import type { OutlierDetector } from "./outlier-detector.ts";

export class Upstream {
  readonly name: string;
  readonly config: UpstreamConfig;
  readonly endpoints: readonly Endpoint[];
  readonly breaker: UpstreamBreaker;
  readonly outlierDetector: OutlierDetector;
  private nextIndex = 0;

  constructor(
    name: string,
    config: UpstreamConfig,
    endpoints: readonly Endpoint[],
    breaker: UpstreamBreaker,
    outlierDetector: OutlierDetector,
  ) {
    this.name = name;
    this.config = config;
    this.endpoints = endpoints;
    this.breaker = breaker;
    this.outlierDetector = outlierDetector;
  }

  /**
   * Available: the breaker lets requests through and an endpoint is ready (not drained or in
   * maintenance), healthy and not ejected.
   */
  get isAvailable(): boolean {
    return this.breaker.isAllowingRequests && this.hasAvailableEndpoint;
  }

  get hasAvailableEndpoint(): boolean {
    for (const endpoint of this.endpoints) if (endpoint.isAvailable) return true;
    return false;
  }

  /**
   * Round-robin over the available endpoints, skipping `exclude` (an endpoint a retry just
   * failed on, maybe from an older snapshot: compared by URL) when another is available.
   * Undefined when none is available.
   */
  pickEndpoint(exclude?: Endpoint): Endpoint | undefined {
    const endpoints = this.endpoints;
    const count = endpoints.length;
    let fallback: Endpoint | undefined;
    for (let tried = 0; tried < count; tried++) {
      const endpoint = endpoints[this.nextIndex % count];
      this.nextIndex = (this.nextIndex + 1) % count;
      if (endpoint === undefined || !endpoint.isAvailable) continue;
      if (endpoint.url !== exclude?.url) return endpoint;
      fallback = endpoint;
    }
    return fallback;
  }

  /** Records the outcome of one attempt on one of this upstream's endpoints. */
  recordAttempt(endpoint: Endpoint, isFailure: boolean): void {
    if (isFailure) this.outlierDetector.recordFailure(endpoint);
    else this.outlierDetector.recordSuccess(endpoint);
  }
}
