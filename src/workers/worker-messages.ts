/**
 * The control channel between the primary and its workers (SPEC 11): plain versioned data over
 * node:cluster's IPC channel, with the "advanced" serialization (structured clone), so Maps
 * cross as they are. The primary sends complete snapshots: a worker that missed one is
 * current again with the next, and a worker that starts asks for the latest (`hello`).
 */
import type { MetricObjectWithValues, MetricValue } from "prom-client";
import type { Config } from "../config/schema.ts";
import type { SecondCounts } from "../rollout/second-counts.ts";
import type { EndpointStates } from "../runtime/endpoint-states.ts";
import type { SplitOverride } from "../runtime/split-overrides.ts";
import type { BreakerState } from "../upstream/breaker.ts";

/** Everything a worker serves from, as the primary holds it now. */
export interface WorkerSnapshot {
  /** Grows by one with each change; a worker applies only a newer one than it has. */
  readonly version: number;
  readonly config: Config;
  readonly configHash: string;
  readonly overrides: ReadonlyMap<string, SplitOverride>;
  readonly endpointStates: EndpointStates;
  /** Upstream -> endpoint URL -> healthy: active health checks run once, in the primary. */
  readonly health: ReadonlyMap<string, ReadonlyMap<string, boolean>>;
}

/** One closed second of a worker's window statistics, labelled with its wall second. */
export interface WorkerSecond {
  readonly wallSecond: number;
  readonly records: readonly SecondCounts[];
}

/** A worker's breaker and ejections for one upstream. */
export interface UpstreamReport {
  readonly upstream: string;
  readonly breaker: BreakerState;
  /** URLs of the endpoints this worker's outlier detection ejected. */
  readonly ejected: readonly string[];
}

export type WorkerMetrics = MetricObjectWithValues<MetricValue<string>>[];

/** Sent each second, and once more as the worker exits. */
export interface WorkerReport {
  readonly seconds: readonly WorkerSecond[];
  /** The worker's data-path metrics (prom-client's JSON form). */
  readonly metrics: WorkerMetrics;
  readonly upstreams: readonly UpstreamReport[];
}

export type ToWorker =
  | { readonly type: "snapshot"; readonly snapshot: WorkerSnapshot }
  /** SIGTERM: drain as SPEC 8 says, report once more, exit 0. */
  | { readonly type: "drain" }
  /** Stop now: close every connection, report once more, exit 0. */
  | { readonly type: "close" };

export type FromWorker =
  | { readonly type: "hello" }
  | { readonly type: "listening"; readonly port: number }
  | { readonly type: "listenFailed"; readonly message: string; readonly code: string }
  | { readonly type: "applied"; readonly version: number }
  | { readonly type: "report"; readonly report: WorkerReport }
  | { readonly type: "event"; readonly kind: string; readonly data: Record<string, unknown> };

/** Where a worker finds its slot, the worker count and the port (JSON), set by the primary. */
export const WORKER_ENV = "switchyard_worker";

export interface WorkerPlace {
  readonly slot: number;
  readonly count: number;
  readonly port: number;
  /** Other workers listen on the port already. */
  readonly isJoining: boolean;
}

export function isFromWorker(message: unknown): message is FromWorker {
  return typeof message === "object" && message !== null && "type" in message;
}

export function isToWorker(message: unknown): message is ToWorker {
  return typeof message === "object" && message !== null && "type" in message;
}
