/**
 * Every metric switchyard exports (SPEC 9): name, help, label names and histogram buckets, in
 * one place. Label values are config names only (route, upstream, endpoint URL) or values from
 * the small fixed sets below, never request paths or headers, so cardinality stays bounded.
 */
import { ROLLOUT_PHASES } from "../rollout/rollout-types.ts";

export const PREFIX = "switchyard_";

export interface MetricDefinition<L extends string> {
  readonly name: string;
  readonly help: string;
  readonly labelNames: readonly L[];
}

export interface HistogramDefinition<L extends string> extends MetricDefinition<L> {
  readonly buckets: readonly number[];
}

/**
 * Request durations in seconds, 1 ms to 30 s: a proxy's answers range from sub-millisecond
 * local errors to long upstream responses; the 2.5x steps keep the quantile error small.
 */
export const REQUEST_DURATION_BUCKETS_SECONDS = [
  0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30,
] as const;

// The `code` label is the status sent to the client as a decimal string ("200", "503"); "0"
// means no status was sent: the client went away before the response started.

export const BREAKER_STATE_VALUES = { closed: 0, halfOpen: 1, open: 2 } as const;

/** A route with no rollout running is `idle`. */
export const ROLLOUT_PHASE_LABELS = ["idle", ...ROLLOUT_PHASES] as const;
export type RolloutPhaseLabel = (typeof ROLLOUT_PHASE_LABELS)[number];

export const RELOAD_RESULTS = ["success", "failure"] as const;
export type ReloadResult = (typeof RELOAD_RESULTS)[number];

export const REQUESTS_TOTAL = {
  name: `${PREFIX}requests_total`,
  help: "Requests answered, by route, the upstream that answered and the status sent to the client (0: the client went away first).",
  labelNames: ["route", "upstream", "code"],
} as const satisfies MetricDefinition<string>;

export const REQUEST_DURATION_SECONDS = {
  name: `${PREFIX}request_duration_seconds`,
  help: "Time from the request's arrival to the end of the response, by route and upstream.",
  labelNames: ["route", "upstream"],
  buckets: REQUEST_DURATION_BUCKETS_SECONDS,
} as const satisfies HistogramDefinition<string>;

export const UPSTREAM_WEIGHT_PERCENT = {
  name: `${PREFIX}upstream_weight_percent`,
  help: "The share of a route's split traffic each upstream gets, in percent.",
  labelNames: ["route", "upstream"],
} as const satisfies MetricDefinition<string>;

export const ENDPOINT_HEALTHY = {
  name: `${PREFIX}endpoint_healthy`,
  help: "1 when the endpoint passes its active health checks (or has none), 0 otherwise.",
  labelNames: ["upstream", "endpoint"],
} as const satisfies MetricDefinition<string>;

export const ENDPOINT_EJECTED = {
  name: `${PREFIX}endpoint_ejected`,
  help: "1 while outlier detection keeps the endpoint out of traffic, 0 otherwise.",
  labelNames: ["upstream", "endpoint"],
} as const satisfies MetricDefinition<string>;

export const BREAKER_STATE = {
  name: `${PREFIX}breaker_state`,
  help: "The upstream's circuit breaker: 0 closed, 1 half-open, 2 open.",
  labelNames: ["upstream"],
} as const satisfies MetricDefinition<string>;

export const FALLBACKS_TOTAL = {
  name: `${PREFIX}fallbacks_total`,
  help: "Requests whose picked upstream was unavailable and that another upstream took.",
  labelNames: ["route", "from", "to"],
} as const satisfies MetricDefinition<string>;

export const RETRIES_TOTAL = {
  name: `${PREFIX}retries_total`,
  help: "Failed attempts tried again, by route and the upstream of the new attempt.",
  labelNames: ["route", "upstream"],
} as const satisfies MetricDefinition<string>;

export const ROLLOUT_STEP_PERCENT = {
  name: `${PREFIX}rollout_step_percent`,
  help: "The rollout target's share of the route's traffic at the current step, in percent.",
  labelNames: ["route", "target"],
} as const satisfies MetricDefinition<string>;

export const ROLLOUT_PHASE = {
  name: `${PREFIX}rollout_phase`,
  help: "1 for the route's current rollout phase, 0 for the others.",
  labelNames: ["route", "phase"],
} as const satisfies MetricDefinition<string>;

export const ROLLOUT_DECISIONS_TOTAL = {
  name: `${PREFIX}rollout_decisions_total`,
  help: "Rollout evaluations, by route and verdict.",
  labelNames: ["route", "verdict"],
} as const satisfies MetricDefinition<string>;

export const CONFIG_RELOADS_TOTAL = {
  name: `${PREFIX}config_reloads_total`,
  help: "Configuration reloads, by result (success, failure).",
  labelNames: ["result"],
} as const satisfies MetricDefinition<string>;

export const CONFIG_LAST_RELOAD_SUCCESS_TIMESTAMP_SECONDS = {
  name: `${PREFIX}config_last_reload_success_timestamp_seconds`,
  help: "When the configuration in force was loaded, in seconds since the epoch.",
  labelNames: [],
} as const satisfies MetricDefinition<string>;

export const CONNECTIONS_OPEN = {
  name: `${PREFIX}connections_open`,
  help: "Client connections open on the proxy listener, WebSocket and other upgraded ones included.",
  labelNames: [],
} as const satisfies MetricDefinition<string>;

export const CONNECTIONS_REFUSED_TOTAL = {
  name: `${PREFIX}connections_refused_total`,
  help: "Client connections to the proxy listener closed at once because server.maxConnections were open.",
  labelNames: [],
} as const satisfies MetricDefinition<string>;

/** Every switchyard metric name: SPEC 9's table in its order, then SPEC 8's connection metrics (the default process metrics come on top). */
export const METRIC_NAMES = [
  REQUESTS_TOTAL.name,
  REQUEST_DURATION_SECONDS.name,
  UPSTREAM_WEIGHT_PERCENT.name,
  ENDPOINT_HEALTHY.name,
  ENDPOINT_EJECTED.name,
  BREAKER_STATE.name,
  FALLBACKS_TOTAL.name,
  RETRIES_TOTAL.name,
  ROLLOUT_STEP_PERCENT.name,
  ROLLOUT_PHASE.name,
  ROLLOUT_DECISIONS_TOTAL.name,
  CONFIG_RELOADS_TOTAL.name,
  CONFIG_LAST_RELOAD_SUCCESS_TIMESTAMP_SECONDS.name,
  CONNECTIONS_OPEN.name,
  CONNECTIONS_REFUSED_TOTAL.name,
] as const;

// ---- fleet mode (SPEC 10): registered only when the config has a `fleet` block ----

export const FLEET_CONNECTED = {
  name: `${PREFIX}fleet_connected`,
  help: "Fleet mode: 1 while this replica reaches Redis, 0 while it serves on the last state it knew.",
  labelNames: [],
} as const satisfies MetricDefinition<string>;

export const FLEET_LEADER = {
  name: `${PREFIX}fleet_leader`,
  help: "Fleet mode: 1 while this replica holds the lease and judges the fleet's rollouts.",
  labelNames: [],
} as const satisfies MetricDefinition<string>;

export const FLEET_MEMBERS = {
  name: `${PREFIX}fleet_members`,
  help: "Fleet mode: the replicas heard from within fleet.leaseTtl, this one included, as last read.",
  labelNames: [],
} as const satisfies MetricDefinition<string>;

export const FLEET_STATE_VERSION = {
  name: `${PREFIX}fleet_state_version`,
  help: "Fleet mode: the version of the shared state this replica has applied.",
  labelNames: [],
} as const satisfies MetricDefinition<string>;

export const FLEET_FENCED_WRITES_TOTAL = {
  name: `${PREFIX}fleet_fenced_writes_total`,
  help: "Fleet mode: rollout decisions of this replica that Redis refused because it no longer held the lease.",
  labelNames: [],
} as const satisfies MetricDefinition<string>;

export const FLEET_STATS_MISSING_SECONDS_TOTAL = {
  name: `${PREFIX}fleet_stats_missing_seconds_total`,
  help: "Fleet mode, on the leader: seconds of a member's statistics that were not in Redis when judged.",
  labelNames: [],
} as const satisfies MetricDefinition<string>;

export const FLEET_REDIS_ERRORS_TOTAL = {
  name: `${PREFIX}fleet_redis_errors_total`,
  help: "Fleet mode: failed Redis connection attempts, dropped connections and failed or timed-out commands.",
  labelNames: [],
} as const satisfies MetricDefinition<string>;

/** SPEC 10's fleet metrics, in its order. */
export const FLEET_METRIC_NAMES = [
  FLEET_CONNECTED.name,
  FLEET_LEADER.name,
  FLEET_MEMBERS.name,
  FLEET_STATE_VERSION.name,
  FLEET_FENCED_WRITES_TOTAL.name,
  FLEET_STATS_MISSING_SECONDS_TOTAL.name,
  FLEET_REDIS_ERRORS_TOTAL.name,
] as const;

export const WORKER_RESTARTS_TOTAL = {
  name: `${PREFIX}worker_restarts_total`,
  help: "Worker processes replaced after they died (workers above 1).",
  labelNames: [],
} as const satisfies MetricDefinition<string>;

/**
 * With workers (SPEC 11), the series the workers' data paths keep: summed over the workers
 * (counters and histograms, with what exited workers counted kept), the two state gauges as
 * their worst value. Everything else is the primary's own.
 */
export const WORKER_METRIC_AGGREGATION: Readonly<Record<string, "sum" | "max">> = {
  [REQUESTS_TOTAL.name]: "sum",
  [REQUEST_DURATION_SECONDS.name]: "sum",
  [FALLBACKS_TOTAL.name]: "sum",
  [RETRIES_TOTAL.name]: "sum",
  [CONNECTIONS_OPEN.name]: "sum",
  [CONNECTIONS_REFUSED_TOTAL.name]: "sum",
  [BREAKER_STATE.name]: "max",
  [ENDPOINT_EJECTED.name]: "max",
};
