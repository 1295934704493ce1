/**
 * How a replica joins its fleet at startup (SPEC 10): it connects to Redis and waits up to
 * `fleet.syncTimeout` for the shared state, so it serves the fleet's split from its first
 * request (and /readyz stays unanswered meanwhile). When Redis cannot be read in time, it
 * starts from the state file (the last fleet state it kept) or the config file's split, warns,
 * and keeps trying: the follower applies the fleet's state as soon as Redis answers.
 */
import { hostname } from "node:os";
import { dirname, isAbsolute, resolve } from "node:path";
import type { FleetConfig } from "../config/schema.ts";
import { savedStateOf, type SavedRuntimeState } from "../control/persisted-state.ts";
import type { Logger } from "../log/logger.ts";
import type { Clock } from "../time/clock.ts";
import type { FleetDocument } from "./fleet-document.ts";
import { fleetKeys, type FleetKeys } from "./fleet-keys.ts";
import { documentToPersisted } from "./fleet-state-file.ts";
import { RedisLink } from "./redis-link.ts";
import { replicaIdOf } from "./replica-id.ts";
import { SharedStateStore, type StateRead } from "./shared-state-store.ts";

/** A fleet joined (or tried): what the rest of the process is built with. */
export interface FleetJoin {
  readonly fleet: FleetConfig;
  readonly replica: string;
  readonly keys: FleetKeys;
  readonly link: RedisLink;
  readonly store: SharedStateStore;
  /** The fleet's state read at startup; undefined when Redis did not answer in time. */
  readonly document: FleetDocument | undefined;
  /** True once Redis answered (with a state, or none for a new fleet). */
  readonly isSynced: boolean;
}

export interface FleetJoinOptions {
  readonly fleet: FleetConfig;
  readonly configFile: string | undefined;
  readonly logger: Logger;
  readonly clock: Clock;
}

/** How often a start looks again for the link, or for Redis's answer. */
const SYNC_RETRY_MS = 50;

export async function joinFleet(options: FleetJoinOptions): Promise<FleetJoin> {
  const { fleet, logger, clock } = options;
  const replica = replicaIdOf(fleet, { hostname: hostname(), pid: process.pid });
  const keys = fleetKeys(fleet.name);
  const link = await RedisLink.open({
    url: fleet.redis,
    ...(fleet.tls === undefined ? {} : { tlsCaFile: pathNear(options.configFile, fleet.tls.ca) }),
    clientName: `switchyard:${fleet.name}:${replica}`,
    logger,
    clock,
  });
  const store = new SharedStateStore({ link, keys, logger, clock });
  const read = await readWithin(store, link, fleet.syncTimeout, clock);
  if (read?.kind === "corrupt") {
    logger.error({ reason: read.reason }, "fleet: the shared state in Redis is corrupt");
  }
  const document = read?.kind === "found" ? read.document : undefined;
  const isSynced = read?.kind === "found" || read?.kind === "empty";
  if (!isSynced) {
    logger.warn(
      { syncTimeoutMs: fleet.syncTimeout, replica },
      "fleet: no shared state within fleet.syncTimeout; serving the last state kept in the state file (or the config file's split) and retrying",
    );
  }
  logger.info({ fleet: fleet.name, replica, version: document?.version ?? 0 }, "fleet: joined");
  return { fleet, replica, keys, link, store, document, isSynced };
}

/** What the runtime and the rollouts start from: the fleet's state when it was read. */
export function savedStateOfJoin(
  join: FleetJoin,
  fromStateFile: () => Promise<SavedRuntimeState>,
  logger: Logger,
): Promise<SavedRuntimeState> {
  if (join.document !== undefined) {
    return Promise.resolve(savedStateOf(documentToPersisted(join.document), logger));
  }
  if (join.isSynced) {
    // A new fleet: nothing is shared yet, and the state file may hold an older fleet's state.
    return Promise.resolve({
      overrides: new Map(),
      rollouts: new Map(),
      endpointStates: new Map(),
    });
  }
  return fromStateFile();
}

/**
 * Reads once the link is up (a read before would only fail and count as a Redis error), until
 * Redis answers or `timeoutMs` passed.
 */
async function readWithin(
  store: SharedStateStore,
  link: RedisLink,
  timeoutMs: number,
  clock: Clock,
): Promise<StateRead | undefined> {
  const deadline = clock.now() + timeoutMs;
  for (;;) {
    const read = link.isConnected ? await store.read() : undefined;
    if (read !== undefined && read.kind !== "unavailable") return read;
    const left = deadline - clock.now();
    if (left <= 0) return undefined;
    await new Promise<void>((done) => {
      clock.setTimeout(done, Math.min(SYNC_RETRY_MS, left));
    });
  }
}

function pathNear(configFile: string | undefined, path: string): string {
  if (isAbsolute(path)) return path;
  return resolve(dirname(resolve(configFile ?? "switchyard.yaml")), path);
}
