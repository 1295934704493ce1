/**
 * What the admin API (and the CLI through it) can see and change. The admin server depends on
 * this interface only; the control plane implements it.
 */
import { ERROR_CODES, type ErrorCodeOf } from "../errors/error-codes.ts";
import type { LoggedEvent } from "../events/event-log.ts";
import type { FleetStatus } from "../fleet/fleet-node.ts";
import type { RolloutPhase } from "../rollout/rollout-types.ts";
import type { WorkerStatus } from "../workers/worker-status.ts";

export type { SplitSource } from "../runtime/split-write.ts";
import type { SplitSource } from "../runtime/split-write.ts";
export {
  ENDPOINT_ADMIN_STATES,
  isEndpointAdminState,
  type EndpointAdminState,
} from "../upstream/endpoint-admin-state.ts";
import type { EndpointAdminState } from "../upstream/endpoint-admin-state.ts";

export interface RolloutStatus {
  phase: RolloutPhase;
  target: string;
  baseline: string;
  stepIndex: number;
  stepPercent: number;
  failures: number;
  lastDecision: Readonly<Record<string, unknown>> | null;
  /** Fleet mode: why no decision is being taken now (Redis away, no leader); absent otherwise. */
  holdReason?: string;
}

export interface RouteStatus {
  name: string;
  /** Percentages, in the split's order. */
  split: Record<string, number>;
  splitSource: SplitSource;
  rollout: RolloutStatus | null;
}

export interface EndpointStatus {
  url: string;
  healthy: boolean;
  /** With workers (SPEC 11): ejected by at least one worker's outlier detection. */
  ejected: boolean;
  /** How many workers have it ejected (0 or 1 with `workers: 1`). */
  ejectedWorkers?: number;
  /** The operator's say (SPEC 12): only `ready` endpoints take new requests. */
  state: EndpointAdminState;
}

/** An endpoint as a state change left it: which one, its state before, and its view now. */
export interface EndpointView extends EndpointStatus {
  upstream: string;
  /** Its index in the upstream's `endpoints` list. */
  index: number;
  /** Equal to `state` when the endpoint was already in it (nothing changed). */
  before: EndpointAdminState;
}

export interface UpstreamStatus {
  name: string;
  /** With workers (SPEC 11), the worst state among them. */
  breaker: "closed" | "halfOpen" | "open";
  /** How many workers are in `breaker`'s state (1 with `workers: 1`). */
  breakerWorkers: number;
  endpoints: EndpointStatus[];
}

export interface ConfigError {
  message: string;
  line: number;
  column: number;
  /** Every problem of the refused config, `FILE:LINE:COL: PATH: MESSAGE`. */
  problems: string[];
}

export interface ConfigStatus {
  file: string;
  hash: string;
  /** ISO 8601. */
  loadedAt: string;
  lastError: ConfigError | null;
  /**
   * Keys read only at startup (listen.*, state.file, server.maxHeaderSize, ...) whose value in
   * the config in force differs from the one the process started with: they take effect on
   * restart. Empty when none; a key leaves the list when the file has its startup value again.
   */
  restartRequired: string[];
}

export interface StatusView {
  routes: RouteStatus[];
  upstreams: UpstreamStatus[];
  config: ConfigStatus;
  ready: boolean;
  draining: boolean;
  /** Fleet mode (SPEC 10): the fleet as this replica sees it; null without a `fleet` block. */
  fleet: FleetStatus | null;
  /** The processes serving listen.proxy (SPEC 11): with `workers: 1`, this process alone. */
  workers: WorkerStatus[];
}

export type ControlErrorCode = ErrorCodeOf<"control">;

/** A refusal the admin API turns into its HTTP status and JSON error body. */
export interface ControlError {
  /** The code's status in the table (errors/error-codes.ts). */
  status: (typeof ERROR_CODES)[ControlErrorCode]["status"];
  code: ControlErrorCode;
  message: string;
  /** Field path -> what is wrong with it (400 only). */
  fields?: Record<string, string>;
}

export type ControlResult<T> = { ok: true; value: T } | { ok: false; error: ControlError };

/** A refusal with its code's status. */
export function controlError(
  code: ControlErrorCode,
  message: string,
  fields?: Record<string, string>,
): ControlError {
  const status = ERROR_CODES[code].status;
  return fields === undefined ? { status, code, message } : { status, code, message, fields };
}

/** The failed result of a control call. */
export function refusal(
  code: ControlErrorCode,
  message: string,
  fields?: Record<string, string>,
): { ok: false; error: ControlError } {
  return { ok: false, error: controlError(code, message, fields) };
}

export interface WeightsChange {
  route: string;
  before: Record<string, number>;
  after: Record<string, number>;
  splitSource: SplitSource;
}

export interface ReloadOutcome {
  /** false: the file was refused; the running config stays. */
  applied: boolean;
  /** false when the content hash had not changed (nothing to do). */
  changed: boolean;
  hash: string;
  error: ConfigError | null;
  /** As in status: the startup-only keys that take effect on restart. */
  restartRequired: string[];
  /** Fleet mode: the replica that reloaded (each replica reads its own file). */
  replica?: string;
}

/**
 * Where a write applies: the fleet (every replica; a process on its own is its own fleet), or,
 * in fleet mode while Redis cannot be reached, this replica only (`?local=true`, SPEC 10).
 */
export type WriteScope = "fleet" | "local";

/** Who asked: the admin token's name, or "file" / "signal" / "watch" for the control plane itself. */
export type Actor = string;

export interface ControlApi {
  status(): StatusView;
  /** The effective config with secrets (admin tokens) redacted. */
  effectiveConfig(): unknown;
  events(sinceId: number | undefined): LoggedEvent[];
  /** Fleet mode: the fleet's event log; undefined without a fleet or while Redis is away. */
  fleetEvents?(sinceId: number | undefined): Promise<LoggedEvent[] | undefined>;
  /** Weights as percentages; 400 with per-field problems, 404 unknown route, 409 rollout running. */
  setWeights(
    route: string,
    weights: unknown,
    actor: Actor,
    scope?: WriteScope,
  ): Promise<ControlResult<WeightsChange>>;
  /** Drops the admin override: the file's split applies again. */
  clearWeights(
    route: string,
    actor: Actor,
    scope?: WriteScope,
  ): Promise<ControlResult<WeightsChange>>;
  reload(actor: Actor): Promise<ReloadOutcome>;
  /**
   * ready, drain or maintenance for endpoint `index` of `upstream`; 404 unknown upstream or an
   * index out of range. Kept by the endpoint's URL.
   */
  setEndpointState(
    upstream: string,
    index: number,
    state: EndpointAdminState,
    actor: Actor,
    scope?: WriteScope,
  ): Promise<ControlResult<EndpointView>>;
  /** start, pause, resume, approve, promote, abort; 404 unknown route or action, 409 wrong phase. */
  rolloutAction(route: string, action: string, actor: Actor): Promise<ControlResult<RolloutStatus>>;
  isReady(): boolean;
  isDraining(): boolean;
}
