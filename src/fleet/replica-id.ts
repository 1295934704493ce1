/**
 * This replica's id in the fleet: `fleet.replica` when set, else `HOSTNAME-PID`, computed at
 * startup rather than in the config schema so that the config stays the same on every replica.
 * The pid keeps two processes on one host (or a restarted one) apart.
 */
import type { FleetConfig } from "../config/schema.ts";

/** What the fleet's key parts may hold (src/config/fleet-schema.ts), and their length. */
const UNSAFE = /[^A-Za-z0-9_.-]+/g;
const MAX_LENGTH = 64;

export interface ProcessIdentity {
  readonly hostname: string;
  readonly pid: number;
}

export function replicaIdOf(fleet: FleetConfig, identity: ProcessIdentity): string {
  return fleet.replica ?? defaultReplicaId(identity);
}

/** `HOSTNAME-PID`, the host name cut to what a Redis key part may hold. */
export function defaultReplicaId({ hostname, pid }: ProcessIdentity): string {
  const suffix = `-${String(pid)}`;
  const host = hostname
    .replace(UNSAFE, "-")
    .replace(/^[^A-Za-z0-9]+/, "")
    .slice(0, MAX_LENGTH - suffix.length);
  return `${host === "" ? "replica" : host}${suffix}`;
}
