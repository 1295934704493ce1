/**
 * Redis links and leases for the fleet tests, each closed after the test: one link per
 * simulated replica, as each replica process has its own connections.
 */
import { LeaderLease, type LeadershipLoss } from "../../src/fleet/leader-lease.ts";
import { fleetKeys, type FleetKeys } from "../../src/fleet/fleet-keys.ts";
import { RedisLink } from "../../src/fleet/redis-link.ts";
import { createSilentLogger } from "../../src/log/logger.ts";
import type { Cleanups } from "./cleanups.ts";
import { waitFor } from "./ports.ts";
import type { RedisServer } from "./redis-server.ts";

/** Generous: two cores shared with other suites. */
export const FLEET_DEADLINE_MS = 30_000;

export const TEST_FLEET_KEYS: FleetKeys = fleetKeys("test");

export async function openTestLink(
  cleanups: Cleanups,
  redis: RedisServer,
  commandTimeoutMs = 1000,
): Promise<RedisLink> {
  const link = await RedisLink.open({
    url: redis.url,
    logger: createSilentLogger(),
    commandTimeoutMs,
    closeTimeoutMs: 500,
    backoff: { baseMs: 20, maxMs: 200, jitter: 0.2 },
  });
  cleanups.defer(() => link.close());
  await waitFor(() => link.isConnected, {
    timeoutMs: FLEET_DEADLINE_MS,
    description: "the link to connect",
  });
  return link;
}

/** A lease and what it reported, in order. */
export interface WatchedLease {
  readonly lease: LeaderLease;
  readonly link: RedisLink;
  readonly events: ({ leader: number } | { lost: LeadershipLoss })[];
  readonly epochs: number[];
  readonly losses: LeadershipLoss[];
}

export async function startTestLease(
  cleanups: Cleanups,
  redis: RedisServer,
  replica: string,
  ttlMs: number,
): Promise<WatchedLease> {
  const link = await openTestLink(cleanups, redis);
  const lease = new LeaderLease({
    link,
    keys: TEST_FLEET_KEYS,
    replica,
    ttlMs,
    logger: createSilentLogger(),
  });
  const watched: WatchedLease = { lease, link, events: [], epochs: [], losses: [] };
  lease.on("leader", (epoch) => {
    watched.events.push({ leader: epoch });
    watched.epochs.push(epoch);
  });
  lease.on("lost", (reason) => {
    watched.events.push({ lost: reason });
    watched.losses.push(reason);
  });
  cleanups.defer(() => lease.stop());
  lease.start();
  return watched;
}

/** Waits until exactly one of `leases` leads, and returns it. */
export async function soleLeader(leases: readonly WatchedLease[]): Promise<WatchedLease> {
  return waitFor(
    () => {
      const leaders = leases.filter((l) => l.lease.isLeader);
      return leaders.length === 1 ? leaders[0] : undefined;
    },
    { timeoutMs: FLEET_DEADLINE_MS, intervalMs: 50, description: "a sole leader" },
  );
}
