/**
 * A worker's data plane (SPEC 11): its own runtime, upstream pools, breakers and outlier
 * detection, metrics and window statistics, and its own listener on the shared port; no health
 * checks, rollouts, admin API or state file (the primary has those). It is built from the
 * primary's first snapshot and follows each later one in one synchronous step, so a request
 * sees the old state or the new, never a mix.
 */
import type { Config } from "../config/schema.ts";
import { EventLog, type LoggedEvent } from "../events/event-log.ts";
import type { HttpListener } from "../lifecycle/http-listener.ts";
import type { Logger } from "../log/logger.ts";
import { Metrics } from "../metrics/metrics.ts";
import { FanOutRecorder } from "../proxy/fan-out-recorder.ts";
import { applyServerSettings, buildProxyListener } from "../proxy/proxy-listener.ts";
import type { UpgradeHandler } from "../proxy/upgrade.ts";
import { statsWindowMs, WindowStats } from "../rollout/window-stats.ts";
import { Runtime } from "../runtime/runtime.ts";
import type { Clock } from "../time/clock.ts";
import { BucketRotations } from "../upstream/bucket-rotation.ts";
import { UpstreamEvents } from "../upstream/upstream-events.ts";
import { buildUpstreams, type UpstreamDeps } from "../upstream/upstream-set.ts";
import { workerConfig } from "./connection-shares.ts";
import type { WorkerPlace, WorkerSnapshot } from "./worker-messages.ts";
import { applyHealth } from "./worker-snapshot.ts";

/** Who a worker's runtime names as the author of what it follows. */
const PRIMARY = "primary";

/** Where the worker serves (its slot, the count, the shared port), what it logs with. */
export interface WorkerOptions extends WorkerPlace {
  readonly logger: Logger;
  readonly clock: Clock;
}

export interface WorkerDataPlaneOptions extends WorkerOptions {
  /** Breaker and ejection transitions, for the primary's event log. */
  readonly onUpstreamEvent: (event: LoggedEvent) => void;
}

export class WorkerDataPlane {
  readonly runtime: Runtime;
  readonly metrics: Metrics;
  readonly windowStats: WindowStats;
  readonly proxy: HttpListener;
  readonly upgrades: UpgradeHandler;
  readonly #options: WorkerDataPlaneOptions;
  readonly #upstreamDeps: UpstreamDeps;
  #version: number;

  constructor(first: WorkerSnapshot, options: WorkerDataPlaneOptions) {
    this.#options = options;
    const { logger, clock } = options;
    const config = this.#configOf(first);
    this.metrics = new Metrics({ clock, hasProcessMetrics: false });
    this.windowStats = new WindowStats({ clock, longestWindowMs: statsWindowMs(config) });
    const upstreamLog = new EventLog(clock);
    upstreamLog.onEvent(options.onUpstreamEvent);
    const listener = new UpstreamEvents(logger, upstreamLog, [this.metrics]);
    this.#upstreamDeps = { clock, rotations: new BucketRotations(), listener };
    const { upstreams } = buildUpstreams(config, this.#upstreamDeps);
    applyHealth(upstreams, first.health);
    this.runtime = new Runtime({
      config,
      configHash: first.configHash,
      upstreams,
      overrides: first.overrides,
      endpointStates: first.endpointStates,
      // The primary reports splits and endpoint states once; a worker only follows them.
      events: new EventLog(clock, 1),
      logger: logger.child({}, { level: "warn" }),
      clock,
      hooks: {
        snapshotSwapped: (snapshot) => {
          this.metrics.syncSnapshot(snapshot);
        },
      },
    });
    this.metrics.syncSnapshot(this.runtime.current);
    ({ proxy: this.proxy, upgrades: this.upgrades } = buildProxyListener({
      config,
      runtime: this.runtime,
      recorder: new FanOutRecorder([this.metrics, this.windowStats]),
      metrics: this.metrics,
      logger,
      clock,
      port: options.port,
      // Linux shares the port in the kernel; elsewhere node:cluster's primary hands out connections.
      ...(process.platform === "linux"
        ? { sharing: { withOtherProcesses: true, isJoining: options.isJoining } }
        : {}),
    }));
    this.#version = first.version;
  }

  get version(): number {
    return this.#version;
  }

  /** Applies a newer snapshot; an older or equal one is ignored (false). */
  apply(snapshot: WorkerSnapshot): boolean {
    if (snapshot.version <= this.#version) return false;
    const runtime = this.runtime;
    const config = this.#configOf(snapshot);
    if (snapshot.configHash !== runtime.current.configHash) {
      const built = buildUpstreams(config, this.#upstreamDeps, runtime.current.upstreams);
      applyHealth(built.upstreams, snapshot.health);
      runtime.applyConfig(config, snapshot.configHash, built.upstreams, PRIMARY);
      built.retire().catch((error: unknown) => {
        this.#options.logger.warn({ err: error }, "closing retired endpoints failed");
      });
      this.windowStats.resize(statsWindowMs(config));
      applyServerSettings(this.proxy, config);
    }
    applyHealth(runtime.current.upstreams, snapshot.health);
    runtime.applyShared(snapshot.overrides, snapshot.endpointStates, PRIMARY);
    this.#version = snapshot.version;
    return true;
  }

  #configOf(snapshot: WorkerSnapshot): Config {
    return workerConfig(snapshot.config, this.#options.slot, this.#options.count);
  }
}
