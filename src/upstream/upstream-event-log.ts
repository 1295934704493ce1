/** Logs upstream state transitions once each: ejections and breaker state changes. */
import type { Logger } from "../log/logger.ts";
import type { BreakerState } from "./breaker.ts";
import type { OutlierEvent } from "./outlier-detector.ts";
import type { UpstreamEventListener } from "./upstream-set.ts";

export function loggingUpstreamListener(logger: Logger): UpstreamEventListener {
  return {
    onOutlierEvent(event: OutlierEvent) {
      if (event.type === "ejected") {
        logger.warn(
          {
            upstream: event.upstreamName,
            endpoint: event.endpoint.url,
            ejectionMs: event.ejectionMs,
            ejectionCount: event.ejectionCount,
          },
          "endpoint ejected after consecutive failures",
        );
      } else {
        logger.info(
          { upstream: event.upstreamName, endpoint: event.endpoint.url },
          "endpoint returned from ejection",
        );
      }
    },
    onBreakerStateChange(upstream: string, state: BreakerState, previous: BreakerState) {
      const fields = { upstream, state, previous };
      if (state === "open") logger.warn(fields, "breaker opened: upstream unavailable");
      else logger.info(fields, `breaker ${state === "closed" ? "closed" : "half-open"}`);
    },
  };
}
