/**
 * What a worker tells the primary each second (SPEC 11): the window-statistics seconds that
 * closed since its last report (rollout checks count every worker's requests), its data-path
 * metrics, and the state of its breakers and outlier detection. The last report, sent as the
 * worker exits, closes the current second too: nothing it served goes uncounted.
 */
import { FleetSeconds } from "../fleet/fleet-seconds.ts";
import type { Metrics } from "../metrics/metrics.ts";
import type { WindowStats } from "../rollout/window-stats.ts";
import type { Clock, TimerHandle } from "../time/clock.ts";
import type { UpstreamMap } from "../upstream/upstream-set.ts";
import type { UpstreamReport, WorkerReport, WorkerSecond } from "./worker-messages.ts";

const REPORT_INTERVAL_MS = 1000;

export interface WorkerReporterOptions {
  readonly clock: Clock;
  readonly windowStats: WindowStats;
  readonly metrics: Metrics;
  readonly upstreams: () => UpstreamMap;
  readonly send: (report: WorkerReport) => Promise<void>;
}

export class WorkerReporter {
  readonly #options: WorkerReporterOptions;
  /** Wall-second labels, the same the primary reads them with. */
  readonly #seconds: FleetSeconds;
  /** The newest local second already reported. */
  #reportedUpTo: number;
  #timer: TimerHandle | undefined;
  #isStopped = false;

  constructor(options: WorkerReporterOptions) {
    this.#options = options;
    this.#seconds = new FleetSeconds(options.clock);
    this.#reportedUpTo = this.#seconds.currentLocal() - 1;
  }

  /** Reports at once (the primary knows this worker's state from its first moment), then each second. */
  async start(): Promise<void> {
    await this.#report(this.#reportedUpTo);
    this.#schedule();
  }

  /** Stops the timer and sends the last report, the current second included. */
  async stop(): Promise<void> {
    this.#isStopped = true;
    this.#timer?.cancel();
    await this.#report(this.#seconds.currentLocal());
  }

  #schedule(): void {
    if (this.#isStopped) return;
    this.#timer = this.#options.clock.setTimeout(() => {
      this.#report(this.#seconds.currentLocal() - 1).then(
        () => {
          this.#schedule();
        },
        () => {
          this.#schedule();
        },
      );
    }, REPORT_INTERVAL_MS);
  }

  /** Reports every second up to `lastSecond` not reported yet. */
  async #report(lastSecond: number): Promise<void> {
    const { windowStats, metrics, upstreams, send } = this.#options;
    const seconds: WorkerSecond[] = [];
    for (let second = this.#reportedUpTo + 1; second <= lastSecond; second++) {
      const records = windowStats.readSecond(second);
      if (records.length > 0) seconds.push({ wallSecond: this.#seconds.toFleet(second), records });
    }
    this.#reportedUpTo = Math.max(this.#reportedUpTo, lastSecond);
    await send({
      seconds,
      metrics: await metrics.registry.getMetricsAsJSON(),
      upstreams: upstreamReports(upstreams()),
    });
  }
}

export function upstreamReports(upstreams: UpstreamMap): UpstreamReport[] {
  return [...upstreams.values()].map((upstream) => ({
    upstream: upstream.name,
    breaker: upstream.breaker.state,
    ejected: upstream.endpoints.filter((endpoint) => endpoint.isEjected).map((e) => e.url),
  }));
}
