/**
 * What the `switchyard-fleet` target did besides serving, read once its rounds are over: that
 * it was in fleet mode, connected and the leader, and that its statistics pusher had traffic
 * to push (the seconds it pushed to Redis, and how many of them held the route's counts). It
 * says the fleet's work really ran next to the measured requests; it is not a measurement.
 */
import { createClient } from "@redis/client";

export interface FleetCheck {
  /** redis-server's version. */
  redis: string;
  replica: string;
  /** From the admin API's status (SPEC 10), after the rounds. */
  connected: boolean;
  isLeader: boolean;
  members: number;
  /** Statistics seconds this replica pushed that Redis still holds (they expire). */
  statsSecondsPushed: number;
  /** Of those, the seconds that carried the route's counts (the others had no traffic). */
  statsSecondsWithTraffic: number;
  /** switchyard_fleet_stats_missing_seconds_total: seconds the leader found missing. */
  missingSeconds: number | null;
  /** switchyard_fleet_redis_errors_total. */
  redisErrors: number | null;
}

export interface FleetCheckTarget {
  adminUrl: string;
  redisUrl: string;
  redisVersion: string;
  fleetName: string;
  replica: string;
}

interface StatusFleet {
  connected?: unknown;
  isLeader?: unknown;
  members?: unknown;
}

export async function checkFleet(target: FleetCheckTarget): Promise<FleetCheck> {
  const status = (await (await fetch(`${target.adminUrl}/api/v1/status`)).json()) as {
    fleet?: StatusFleet | null;
  };
  const metrics = await (await fetch(`${target.adminUrl}/metrics`)).text();
  const fleet = status.fleet ?? {};
  const stats = await countPushedSeconds(target);
  return {
    redis: target.redisVersion,
    replica: target.replica,
    connected: fleet.connected === true,
    isLeader: fleet.isLeader === true,
    members: Array.isArray(fleet.members) ? fleet.members.length : 0,
    ...stats,
    missingSeconds: metricValue(metrics, "switchyard_fleet_stats_missing_seconds_total"),
    redisErrors: metricValue(metrics, "switchyard_fleet_redis_errors_total"),
  };
}

/** One line for the log and the markdown. */
export function describeFleetCheck(check: FleetCheck): string {
  const state = [
    check.connected ? "connected" : "NOT connected",
    check.isLeader ? "the leader" : "NOT the leader",
    `${check.members} member(s)`,
  ].join(", ");
  return (
    `switchyard-fleet (replica ${check.replica}, redis-server ${check.redis} on the load core) ` +
    `after the rounds: ${state}; Redis holds ${check.statsSecondsPushed} statistics seconds it ` +
    `pushed, ${check.statsSecondsWithTraffic} of them with the route's traffic; ` +
    `${count(check.missingSeconds)} seconds missing, ${count(check.redisErrors)} Redis errors`
  );
}

async function countPushedSeconds(
  target: FleetCheckTarget,
): Promise<Pick<FleetCheck, "statsSecondsPushed" | "statsSecondsWithTraffic">> {
  const client = createClient({ url: target.redisUrl });
  await client.connect();
  try {
    let pushed = 0;
    let withTraffic = 0;
    const match = `switchyard:${target.fleetName}:stats:${target.replica}:*`;
    for await (const keys of client.scanIterator({ MATCH: match, COUNT: 1000 })) {
      for (const key of keys) {
        pushed++;
        // Field "v" is always there; each (route, upstream) with traffic adds one.
        if ((await client.hLen(key)) > 1) withTraffic++;
      }
    }
    return { statsSecondsPushed: pushed, statsSecondsWithTraffic: withTraffic };
  } finally {
    client.destroy();
  }
}

function metricValue(text: string, name: string): number | null {
  const found = new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, "m").exec(text);
  const value = Number(found?.[1]);
  return found === null || !Number.isFinite(value) ? null : value;
}

function count(value: number | null): string {
  return value === null ? "n/a" : String(value);
}
