/** `switchyard status`: routes, splits, upstream health, breakers and rollouts (SPEC section 1). */
import type { FleetStatus } from "../fleet/fleet-node.ts";
import type { WorkerStatus } from "../workers/worker-status.ts";
import type {
  ConfigStatus,
  EndpointStatus,
  RolloutStatus,
  RouteStatus,
  StatusView,
  UpstreamStatus,
} from "../control/control-api.ts";
import { EXIT_USAGE_ERROR, resolveAdminTarget, type AdminFlags } from "./admin-client.ts";
import { runAdminCommand } from "./admin-command.ts";
import type { CliOutput } from "./output.ts";

export interface StatusFlags extends AdminFlags {
  /** Print the admin API's JSON answer as it is. */
  readonly json?: boolean;
}

export async function runStatus(
  flags: StatusFlags,
  out: CliOutput,
  env: NodeJS.ProcessEnv = process.env,
): Promise<number> {
  const resolved = resolveAdminTarget(flags, env);
  if (!resolved.ok) {
    out.stderr(`switchyard: ${resolved.message}`);
    return EXIT_USAGE_ERROR;
  }
  return runAdminCommand(
    resolved.target,
    { method: "GET", path: "/api/v1/status" },
    {
      isExpected: isStatusView,
      what: "a switchyard status",
      format: formatStatus,
      json: flags.json,
    },
    out,
  );
}

function isStatusView(body: unknown): body is StatusView {
  if (typeof body !== "object" || body === null) return false;
  const view = body as Partial<Record<keyof StatusView, unknown>>;
  return (
    Array.isArray(view.routes) &&
    Array.isArray(view.upstreams) &&
    typeof view.config === "object" &&
    view.config !== null
  );
}

/** Columns padded to their widest cell, two spaces apart, header first. */
export function formatTable(header: readonly string[], rows: readonly string[][]): string[] {
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => (row[column] ?? "").length)),
  );
  const line = (cells: readonly string[]): string =>
    cells
      .map((cell, column) => cell.padEnd(widths[column] ?? 0))
      .join("  ")
      .trimEnd();
  return [line(header), ...rows.map(line)];
}

/** `key  value` lines with the values aligned. */
export function formatPairs(pairs: readonly (readonly [string, string])[]): string[] {
  const width = Math.max(...pairs.map(([key]) => key.length));
  return pairs.map(([key, value]) => `${key.padEnd(width)}  ${value}`);
}

/** `stable 95%, canary 5%`. */
export function formatSplit(split: Readonly<Record<string, number>>): string {
  const parts = Object.entries(split).map(([upstream, percent]) => `${upstream} ${percent}%`);
  return parts.length === 0 ? "-" : parts.join(", ");
}

/** `progressing, step 2 at 10% (canary over stable)`; `none` without a rollout. */
export function formatRollout(rollout: RolloutStatus | null): string {
  if (rollout === null) return "none";
  const failures = rollout.failures > 0 ? `, ${rollout.failures} failed checks` : "";
  const held = rollout.holdReason === undefined ? "" : `; held: ${rollout.holdReason}`;
  return `${rollout.phase}, step ${rollout.stepIndex + 1} at ${rollout.stepPercent}% (${rollout.target} over ${rollout.baseline})${failures}${held}`;
}

/** `?local=true` writes that make this replica differ from the fleet, in one line. */
function localWrites(fleet: FleetStatus): (readonly [string, string])[] {
  // A server older than the lever does not send them.
  const writes = (fleet as Partial<FleetStatus>).divergent ?? [];
  if (writes.length === 0) return [];
  const listed = writes.map((write) => `${write.what} (${write.actor}, ${write.at})`).join("; ");
  return [["local writes", `${listed}; dropped when Redis is back`]];
}

/** Fleet mode: who leads, whether Redis answers, and each member (none without a fleet). */
export function formatFleet(fleet: FleetStatus | null | undefined): string[] {
  if (fleet === null || fleet === undefined) return [];
  const leader = fleet.isLeader ? "this replica" : (fleet.leader ?? "none");
  const rows = fleet.members.map((member) => [
    member.replica === fleet.replica ? `${member.replica} (this)` : member.replica,
    member.seenAt,
    member.configHash.slice(0, 12),
    member.configDiffers ? "differs from the leader's" : "-",
    String(member.stateVersion),
  ]);
  return [
    "",
    ...formatPairs([
      ["fleet", fleet.name],
      ["replica", fleet.replica],
      ["leader", leader],
      ["redis", fleet.connected ? "connected" : "unreachable (serving the last state known)"],
      ["state version", String(fleet.stateVersion)],
      ...localWrites(fleet),
    ]),
    "",
    ...formatTable(["MEMBER", "SEEN AT", "CONFIG", "CONFIG CHECK", "STATE VERSION"], rows),
  ];
}

/**
 * `1 (pid 1234, started 2025-01-01T00:00:00.000Z)`, or `3 (pids 11, 12, 13, 1 restart)`, and
 * which workers are not serving (`; worker 2 restarting`).
 */
export function formatWorkers(workers: readonly WorkerStatus[]): string {
  const restarts = workers.reduce((sum, worker) => sum + worker.restarts, 0);
  const notServing = workers
    // A server older than worker states sends none: its workers serve.
    .filter((worker) => ((worker as Partial<WorkerStatus>).state ?? "serving") !== "serving")
    .map((worker) => `; worker ${worker.id} ${worker.state}`);
  const restartText =
    (restarts === 0 ? "" : `, ${restarts} ${restarts === 1 ? "restart" : "restarts"}`) +
    notServing.join("");
  const [only] = workers;
  const detail =
    workers.length === 1 && only !== undefined
      ? `pid ${only.pid}, started ${only.startedAt}`
      : `pids ${workers.map((worker) => worker.pid).join(", ")}`;
  return `${workers.length} (${detail}${restartText})`;
}

/** The `workers` line; none from a server older than the workers list. */
function workersPair(view: StatusView): (readonly [string, string])[] {
  const workers = (view as Partial<StatusView>).workers ?? [];
  return workers.length === 0 ? [] : [["workers", formatWorkers(workers)]];
}

function routeRows(routes: readonly RouteStatus[]): string[][] {
  return routes.map((route) => [
    route.name,
    formatSplit(route.split),
    route.splitSource,
    formatRollout(route.rollout),
  ]);
}

/**
 * With several workers, a breaker not closed or an ejection names how many workers it is in
 * (`open (1/2 workers)`): each worker runs its own (SPEC 11).
 */
function inWorkers(text: string, workers: number | undefined, of: number): string {
  return of > 1 && workers !== undefined ? `${text} (${workers}/${of} workers)` : text;
}

function upstreamRows(upstreams: readonly UpstreamStatus[], workerCount: number): string[][] {
  return upstreams.flatMap((upstream) => {
    const breaker =
      upstream.breaker === "closed"
        ? upstream.breaker
        : inWorkers(upstream.breaker, upstream.breakerWorkers, workerCount);
    if (upstream.endpoints.length === 0) {
      return [[upstream.name, breaker, "-", "-", "-", "-", "-"]];
    }
    return upstream.endpoints.map((endpoint, index) => [
      index === 0 ? upstream.name : "",
      index === 0 ? breaker : "",
      String(index),
      endpoint.url,
      // An admin API from before endpoint states has none: its endpoints are all ready.
      (endpoint.state as EndpointStatus["state"] | undefined) ?? "ready",
      endpoint.healthy ? "healthy" : "unhealthy",
      endpoint.ejected ? inWorkers("ejected", endpoint.ejectedWorkers, workerCount) : "-",
    ]);
  });
}

export function formatStatus(view: StatusView): string[] {
  const { config } = view;
  const lastError =
    config.lastError === null
      ? "none"
      : `${config.lastError.message} (line ${config.lastError.line}, column ${config.lastError.column})`;
  // A server older than restartRequired does not send it.
  const restartRequired = (config as Partial<ConfigStatus>).restartRequired ?? [];
  const readiness = [
    view.ready ? "ready" : "not ready",
    ...(view.draining ? ["draining"] : []),
  ].join(", ");
  return [
    ...formatTable(["ROUTE", "SPLIT", "SOURCE", "ROLLOUT"], routeRows(view.routes)),
    "",
    ...formatTable(
      ["UPSTREAM", "BREAKER", "#", "ENDPOINT", "STATE", "HEALTH", "EJECTED"],
      upstreamRows(view.upstreams, (view as Partial<StatusView>).workers?.length ?? 1),
    ),
    "",
    ...formatPairs([
      ["config", config.file],
      ["hash", config.hash.slice(0, 12)],
      ["loaded at", config.loadedAt],
      ["last error", lastError],
      ...(restartRequired.length === 0
        ? []
        : [["restart required", restartRequired.join(", ")] as const]),
      ["state", readiness],
      ...workersPair(view),
    ]),
    ...formatFleet(view.fleet),
  ];
}
