/**
 * Fans upstream state transitions (health, ejection, breaker) out to the logs, the metrics and
 * the event log, once each.
 */
import type { EventLog } from "../events/event-log.ts";
import type { Logger } from "../log/logger.ts";
import type { BreakerState } from "./breaker.ts";
import type { Endpoint } from "./endpoint.ts";
import type { HealthListener } from "./health-checker.ts";
import type { OutlierEvent } from "./outlier-detector.ts";
import { loggingUpstreamListener } from "./upstream-event-log.ts";
import type { UpstreamEventListener } from "./upstream-set.ts";

export class UpstreamEvents implements UpstreamEventListener, HealthListener {
  private readonly log: UpstreamEventListener;
  private readonly events: EventLog;
  private readonly listeners: readonly (UpstreamEventListener & HealthListener)[];

  constructor(
    logger: Logger,
    events: EventLog,
    listeners: readonly (UpstreamEventListener & HealthListener)[],
  ) {
    this.log = loggingUpstreamListener(logger);
    this.events = events;
    this.listeners = listeners;
  }

  onOutlierEvent(event: OutlierEvent): void {
    this.log.onOutlierEvent(event);
    this.events.append("endpoint.ejection", {
      upstream: event.upstreamName,
      endpoint: event.endpoint.url,
      ejected: event.type === "ejected",
      ...(event.type === "ejected"
        ? { ejectionMs: event.ejectionMs, ejectionCount: event.ejectionCount }
        : {}),
    });
    for (const listener of this.listeners) listener.onOutlierEvent(event);
  }

  onBreakerStateChange(upstream: string, state: BreakerState, previous: BreakerState): void {
    this.log.onBreakerStateChange(upstream, state, previous);
    this.events.append("breaker.state", { upstream, state, previous });
    for (const listener of this.listeners) listener.onBreakerStateChange(upstream, state, previous);
  }

  /** Health transitions are logged by the checker itself. */
  onTransition(endpoint: Endpoint, isHealthy: boolean, reason: string): void {
    this.events.append("endpoint.health", {
      upstream: endpoint.upstreamName,
      endpoint: endpoint.url,
      healthy: isHealthy,
      reason,
    });
    for (const listener of this.listeners) listener.onTransition(endpoint, isHealthy, reason);
  }
}
