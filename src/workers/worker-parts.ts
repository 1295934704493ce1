/**
 * The primary's side of `workers` above 1 (SPEC 11), built next to the rest of the parts: the
 * pool of workers, fed the runtime's state at each change, and what their reports feed: the
 * window statistics rollouts judge, `/metrics` and the breaker view in status.
 */
import { Counter } from "prom-client";
import type { Config } from "../config/schema.ts";
import type { EventLog } from "../events/event-log.ts";
import { FleetSeconds } from "../fleet/fleet-seconds.ts";
import type { Logger } from "../log/logger.ts";
import { WORKER_RESTARTS_TOTAL } from "../metrics/metric-names.ts";
import type { Metrics } from "../metrics/metrics.ts";
import type { WindowStats } from "../rollout/window-stats.ts";
import type { Runtime } from "../runtime/runtime.ts";
import type { StateChanges } from "../runtime/state-changes.ts";
import type { Clock } from "../time/clock.ts";
import type { BreakerState } from "../upstream/breaker.ts";
import { ClusterMetrics } from "./cluster-metrics.ts";
import type { WorkerReport } from "./worker-messages.ts";
import { WorkerPool } from "./worker-pool.ts";
import { WorkerResilience } from "./worker-resilience.ts";
import { workerSnapshotOf } from "./worker-snapshot.ts";

export interface WorkerParts {
  readonly pool: WorkerPool;
  readonly metrics: ClusterMetrics;
  readonly resilience: WorkerResilience;
}

export interface WorkerPartsOptions {
  readonly count: number;
  readonly config: Config;
  readonly runtime: Runtime;
  readonly changes: StateChanges;
  readonly metrics: Metrics;
  readonly windowStats: WindowStats;
  readonly events: EventLog;
  readonly logger: Logger;
  readonly clock: Clock;
}

export function buildWorkerParts(options: WorkerPartsOptions): WorkerParts {
  const { runtime, events } = options;
  const metrics = new ClusterMetrics(options.metrics.registry);
  const resilience = new WorkerResilience();
  const restarts = new Counter({ ...WORKER_RESTARTS_TOTAL, registers: [options.metrics.registry] });
  const seconds = new FleetSeconds(options.clock);
  const pool = new WorkerPool({
    count: options.count,
    port: options.config.listen.proxy.port,
    logger: options.logger,
    clock: options.clock,
    snapshotOf: (version) => workerSnapshotOf(runtime, version),
    onReport: (slot, report) => {
      mergeSeconds(options.windowStats, seconds, report);
      metrics.update(slot, report.metrics);
      resilience.report(slot, report.upstreams);
    },
    onEvent: (slot, kind, data) => {
      followEvent(resilience, slot, kind, data);
      events.append(kind, { ...data, worker: slot });
    },
    onExit: (slot) => {
      metrics.retire(slot);
      resilience.forget(slot);
    },
    onRestart: () => {
      restarts.inc();
    },
    drainTimeoutMs: () => runtime.current.config.server.drainTimeout,
  });
  options.changes.follow(() => {
    const { config } = runtime.current;
    metrics.retainNames(
      new Set(config.routes.map((route) => route.name)),
      new Set(Object.keys(config.upstreams)),
    );
    pool.publish();
  });
  return { pool, metrics, resilience };
}

/** Each worker second counts in the primary's window, from when it was recorded. */
function mergeSeconds(windowStats: WindowStats, seconds: FleetSeconds, report: WorkerReport): void {
  for (const second of report.seconds) {
    windowStats.mergeSecond(second.records, seconds.toLocal(second.wallSecond));
  }
}

/** Breaker and ejection transitions update the view at once, before the next report. */
function followEvent(
  resilience: WorkerResilience,
  slot: number,
  kind: string,
  data: Record<string, unknown>,
): void {
  const upstream = String(data.upstream);
  if (kind === "breaker.state") {
    resilience.breakerChanged(slot, upstream, data.state as BreakerState);
  } else if (kind === "endpoint.ejection") {
    resilience.ejectionChanged(slot, upstream, String(data.endpoint), data.ejected === true);
  }
}
