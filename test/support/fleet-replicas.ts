/**
 * Fleet replicas for the fleet-mode tests: real `switchyard serve` processes on loopback, each
 * with its own config file (the user's config plus a `fleet` block naming the test's Redis),
 * as a Deployment's pods would run. Leases are a few seconds long: two cores with three
 * proxies, Redis and load would miss a one-second renewal.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { StatusView } from "../../src/control/control-api.ts";
import type { LoggedEvent } from "../../src/events/event-log.ts";
import { adminCall, getStatus, waitForStatusOf } from "./admin-calls.ts";
import type { Cleanups } from "./cleanups.ts";
import { configText } from "./file-switchyard.ts";
import { waitFor } from "./ports.ts";
import type { RedisServer } from "./redis-server.ts";
import {
  spawnSwitchyard,
  startSwitchyardProcess,
  type ServingSwitchyard,
  type SwitchyardProcess,
} from "./switchyard-process.ts";

/** Generous: two cores shared by several proxies, Redis and the test's load. */
export const FLEET_TEST_DEADLINE_MS = 40_000;

/** A lease short enough for takeovers within a test, long enough not to flap under load. */
export const TEST_LEASE_TTL = "4s";

/** How often a wait polls a replica's admin API. */
export const POLL_MS = 200;

export interface ReplicaOptions {
  readonly redis: RedisServer;
  /** The fleet's name: replicas with the same one share state. */
  readonly fleetName: string;
  readonly replica: string;
  /** The config as a user writes it, without `fleet` and `listen`. */
  readonly raw: Record<string, unknown>;
  /** Merged into the fleet block (e.g. `syncTimeout`). */
  readonly fleet?: Record<string, unknown>;
  /** The config file's directory: a restart passes the same one. */
  readonly dir?: string;
}

export interface FleetReplica extends ServingSwitchyard {
  readonly replica: string;
  readonly dir: string;
  readonly configFile: string;
  status(): Promise<StatusView>;
  /** The fleet's events as this replica's admin API shows them. */
  events(): Promise<{ events: LoggedEvent[]; source: string | undefined }>;
}

/** Writes the replica's config and returns its file; the directory is removed after the test. */
export async function writeReplicaConfig(
  cleanups: Cleanups,
  options: ReplicaOptions,
): Promise<{ dir: string; configFile: string }> {
  const dir = options.dir ?? (await mkdtemp(join(tmpdir(), `switchyard-${options.replica}-`)));
  if (options.dir === undefined) {
    cleanups.defer(() => rm(dir, { recursive: true, force: true }));
  }
  const configFile = join(dir, "switchyard.yaml");
  const fleet = {
    redis: options.redis.url,
    name: options.fleetName,
    replica: options.replica,
    leaseTtl: TEST_LEASE_TTL,
    syncTimeout: "10s",
    ...options.fleet,
  };
  await writeFile(configFile, configText({ ...options.raw, fleet }));
  return { dir, configFile };
}

/** Starts a replica and resolves once it serves (after it synced with the fleet, or gave up). */
export async function startReplica(
  cleanups: Cleanups,
  options: ReplicaOptions,
): Promise<FleetReplica> {
  const { dir, configFile } = await writeReplicaConfig(cleanups, options);
  const serving = await startSwitchyardProcess(configFile, {
    startTimeoutMs: FLEET_TEST_DEADLINE_MS,
    lifetimeMs: 4 * FLEET_TEST_DEADLINE_MS,
  });
  cleanups.defer(() => stopProcess(serving));
  return Object.assign(serving, {
    replica: options.replica,
    dir,
    configFile,
    status: () => getStatus(serving.adminUrl),
    events: async () => {
      const answer = await adminCall(serving.adminUrl, "GET", "/api/v1/events");
      const body = answer.json as { events: LoggedEvent[]; source?: string };
      return { events: body.events, source: body.source };
    },
  });
}

/** Spawns a replica without waiting for it to serve (a start that waits for Redis). */
export async function spawnReplica(
  cleanups: Cleanups,
  options: ReplicaOptions,
): Promise<SwitchyardProcess & { configFile: string }> {
  const { configFile } = await writeReplicaConfig(cleanups, options);
  const child = spawnSwitchyard(configFile, { lifetimeMs: 4 * FLEET_TEST_DEADLINE_MS });
  cleanups.defer(() => stopProcess(child));
  return Object.assign(child, { configFile });
}

/** Waits until `check` holds for the replica's status (polled). */
export function waitForStatus(
  replica: FleetReplica,
  check: (status: StatusView) => boolean,
  description: string,
): Promise<StatusView> {
  return waitForStatusOf(replica.adminUrl, check, {
    timeoutMs: FLEET_TEST_DEADLINE_MS,
    intervalMs: POLL_MS,
    description,
  });
}

/** The replica that leads, once exactly one of `replicas` says it does. */
export async function waitForLeader(replicas: readonly FleetReplica[]): Promise<FleetReplica> {
  let leader: FleetReplica | undefined;
  await waitFor(
    async () => {
      const statuses = await Promise.all(replicas.map((replica) => replica.status()));
      const leading = replicas.filter((_, i) => statuses[i]?.fleet?.isLeader === true);
      leader = leading.length === 1 ? leading[0] : undefined;
      return leader !== undefined;
    },
    { timeoutMs: FLEET_TEST_DEADLINE_MS, intervalMs: POLL_MS, description: "exactly one leader" },
  );
  if (leader === undefined) throw new Error("no leader");
  return leader;
}

async function stopProcess(child: SwitchyardProcess): Promise<void> {
  if (child.child.exitCode !== null || child.child.signalCode !== null) return;
  // A frozen process ignores SIGTERM until thawed.
  child.child.kill("SIGCONT");
  child.child.kill("SIGKILL");
  await child.exited;
}
