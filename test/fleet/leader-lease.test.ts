/**
 * The leader lease and fencing against a real redis-server (SPEC 10, "One judge"): one leader
 * among several, a takeover when it stops or dies, a step-down on its own clock when Redis
 * freezes, and a stale leader's writes refused by the fence. Leases of 3 s (two busy cores);
 * the tests count leaders, epochs and refusals and wait for them, never timing anything.
 */
import { describe, expect, it } from "vitest";
import { cleanupAfterEach } from "../support/cleanups.ts";
import { within } from "../support/deadline.ts";
import { fencedEcho } from "../support/fenced-echo.ts";
import {
  FLEET_DEADLINE_MS,
  openTestLink,
  soleLeader,
  startTestLease,
  TEST_FLEET_KEYS,
  type WatchedLease,
} from "../support/fleet-links.ts";
import { sleep, waitFor } from "../support/ports.ts";
import { startRedisServer, type RedisServer } from "../support/redis-server.ts";

const cleanups = cleanupAfterEach();
const TTL_MS = 3000;

async function startRedis(): Promise<RedisServer> {
  return cleanups.track(await startRedisServer());
}

async function startLeases(redis: RedisServer, count: number): Promise<WatchedLease[]> {
  const leases: WatchedLease[] = [];
  for (let i = 1; i <= count; i++) {
    leases.push(await startTestLease(cleanups, redis, `r${String(i)}`, TTL_MS));
  }
  return leases;
}

function waitForNewLeader(others: readonly WatchedLease[]): Promise<WatchedLease> {
  return waitFor(() => others.find((l) => l.lease.isLeader), {
    timeoutMs: FLEET_DEADLINE_MS,
    intervalMs: 50,
    description: "another replica to take over",
  });
}

describe("LeaderLease against a real redis-server", () => {
  it("elects exactly one leader among three, and all agree on who it is", async () => {
    const redis = await startRedis();
    const leases = await startLeases(redis, 3);
    const leader = await soleLeader(leases);

    // Watch through several renewals: never two leaders at once, never a second one elected.
    let mostAtOnce = 0;
    for (let sample = 0; sample < 40; sample++) {
      mostAtOnce = Math.max(mostAtOnce, leases.filter((l) => l.lease.isLeader).length);
      await sleep(100);
    }
    expect(mostAtOnce).toBe(1);
    const elected = leases.filter((l) => l.epochs.length > 0);
    expect(elected).toEqual([leader]);
    await waitFor(() => leases.every((l) => l.lease.leader === leader.lease.replica), {
      timeoutMs: FLEET_DEADLINE_MS,
      description: "every replica to know the leader",
    });
    expect(leader.lease.fenceToken).toEqual({ replica: leader.lease.replica, epoch: 1 });
  });

  it("hands over at once when the leader stops, under a higher epoch", async () => {
    const redis = await startRedis();
    const leases = await startLeases(redis, 2);
    const first = await soleLeader(leases);
    const firstEpoch = first.lease.epoch ?? 0;

    await first.lease.stop();
    expect(first.losses).toEqual(["stopped"]);
    const next = await waitForNewLeader(leases.filter((l) => l !== first));
    expect(next.lease.epoch).toBeGreaterThan(firstEpoch);
    expect(first.lease.isLeader).toBe(false);
  });

  it("takes over after the TTL when the leader dies without releasing", async () => {
    const redis = await startRedis();
    const leases = await startLeases(redis, 2);
    const first = await soleLeader(leases);
    const firstEpoch = first.lease.epoch ?? 0;

    // Its connections gone, as when its process is killed: no release is ever sent.
    await first.link.close();
    const next = await waitForNewLeader(leases.filter((l) => l !== first));
    expect(next.lease.epoch).toBeGreaterThan(firstEpoch);
    // The cut-off one gave up by itself, on its own clock.
    await waitFor(() => first.losses.length > 0, { timeoutMs: FLEET_DEADLINE_MS });
    expect(first.losses).toEqual(["unconfirmed"]);
  });

  it("steps down on its own clock while Redis is frozen, and a leader is elected after thaw", async () => {
    const redis = await startRedis();
    const leases = await startLeases(redis, 2);
    const first = await soleLeader(leases);
    const electedBefore = leases.reduce((sum, l) => sum + l.epochs.length, 0);

    redis.freeze();
    await waitFor(() => first.losses.length > 0, {
      timeoutMs: FLEET_DEADLINE_MS,
      description: "the leader to step down while Redis is frozen",
    });
    expect(first.losses).toEqual(["unconfirmed"]);
    expect(leases.filter((l) => l.lease.isLeader)).toHaveLength(0);

    redis.thaw();
    await waitFor(() => leases.reduce((sum, l) => sum + l.epochs.length, 0) > electedBefore, {
      timeoutMs: FLEET_DEADLINE_MS,
      description: "a leader after thaw",
    });
    await soleLeader(leases);
  });

  it("stops within a bound while Redis is frozen", async () => {
    const redis = await startRedis();
    const leases = await startLeases(redis, 2);
    await soleLeader(leases);
    redis.freeze();
    cleanups.defer(() => {
      redis.thaw();
    });
    for (const { lease } of leases) await within(lease.stop(), FLEET_DEADLINE_MS, "stop()");
    expect(leases.filter((l) => l.lease.isLeader)).toHaveLength(0);
  });
});

describe("fenced writes against a real redis-server", () => {
  it("refuses a stale leader's writes and passes the new leader's", async () => {
    const redis = await startRedis();
    const leases = await startLeases(redis, 2);
    const stale = await soleLeader(leases);
    const staleToken = stale.lease.fenceToken;
    if (staleToken === undefined) throw new Error("the leader has no token");
    const writer = await openTestLink(cleanups, redis);
    const list = `${TEST_FLEET_KEYS.prefix}test:decisions`;
    expect(await fencedEcho(writer, TEST_FLEET_KEYS, staleToken, list, "before")).toMatchObject({
      ok: true,
    });

    await stale.link.close();
    const next = await waitForNewLeader(leases.filter((l) => l !== stale));
    const nextToken = next.lease.fenceToken;
    if (nextToken === undefined) throw new Error("the new leader has no token");

    let refusals = 0;
    for (let attempt = 0; attempt < 3; attempt++) {
      const result = await fencedEcho(writer, TEST_FLEET_KEYS, staleToken, list, "stale");
      if (!result.ok) refusals += 1;
    }
    // The right replica with an old epoch (a restart under the same id) is refused too.
    const oldEpoch = { replica: nextToken.replica, epoch: staleToken.epoch };
    const withOldEpoch = await fencedEcho(writer, TEST_FLEET_KEYS, oldEpoch, list, "old");
    const fresh = await fencedEcho(writer, TEST_FLEET_KEYS, nextToken, list, "fresh");

    expect(refusals).toBe(3);
    expect(withOldEpoch).toEqual({ ok: false, reason: "fenced" });
    expect(fresh).toEqual({ ok: true, reply: 2 });
    expect(await writer.run("LRANGE", (c) => c.lRange(list, 0, -1))).toEqual(["before", "fresh"]);
  });
});
