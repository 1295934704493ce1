/**
 * Fleet statistics against a real redis-server (SPEC 10): two replicas push their closed
 * seconds, the merger sums them; a Redis outage is backfilled; a member that stops pushing
 * makes the window incomplete and is named. Time is a ManualClock, and each tick is driven by
 * the test, so nothing here depends on how fast the machine is; only Redis coming back is
 * waited for, with a generous deadline.
 */
import { describe, expect, it } from "vitest";
import { fleetKeys } from "../../src/fleet/fleet-keys.ts";
import { FleetSeconds } from "../../src/fleet/fleet-seconds.ts";
import { FleetStats } from "../../src/fleet/fleet-stats.ts";
import type { FleetMember } from "../../src/fleet/fleet-window.ts";
import { RedisLink } from "../../src/fleet/redis-link.ts";
import { StatsPusher } from "../../src/fleet/stats-pusher.ts";
import { decideAtIntervalEnd } from "../../src/rollout/decide.ts";
import { WindowStats } from "../../src/rollout/window-stats.ts";
import { captureLogs } from "../support/captured-logs.ts";
import { cleanupAfterEach } from "../support/cleanups.ts";
import { ManualClock } from "../support/manual-clock.ts";
import { waitFor } from "../support/ports.ts";
import { startRedisServer, type RedisServer } from "../support/redis-server.ts";
import { check, policy } from "../unit/rollout/decide-fixtures.ts";

const cleanups = cleanupAfterEach();

/** Generous: two cores shared with other suites. */
const DEADLINE_MS = 30_000;
const WINDOW_MS = 60_000;
const KEYS = fleetKeys("shop");

interface Replica {
  replica: string;
  stats: WindowStats;
  link: RedisLink;
  pusher: StatsPusher;
}

async function openLink(redis: RedisServer, name: string): Promise<RedisLink> {
  const link = await RedisLink.open({
    url: redis.url,
    logger: captureLogs("error").logger,
    clientName: `switchyard:shop:${name}`,
    commandTimeoutMs: 2000,
    closeTimeoutMs: 500,
    backoff: { baseMs: 20, maxMs: 200, jitter: 0.2 },
  });
  cleanups.defer(() => link.close());
  return link;
}

async function startReplica(redis: RedisServer, clock: ManualClock, replica: string) {
  const stats = new WindowStats({ clock, longestWindowMs: WINDOW_MS });
  const link = await openLink(redis, replica);
  const pusher = new StatsPusher({
    link,
    keys: KEYS,
    replica,
    stats,
    seconds: new FleetSeconds(clock),
    clock,
    longestWindowMs: WINDOW_MS,
  });
  cleanups.defer(() => {
    pusher.stop();
  });
  return { replica, stats, link, pusher };
}

async function fleetOf(redis: RedisServer, clock: ManualClock): Promise<FleetStats> {
  return new FleetStats({
    link: await openLink(redis, "leader"),
    keys: KEYS,
    clock,
    longestWindowMs: WINDOW_MS,
    settleSeconds: 2,
  });
}

function membersOf(replicas: readonly Replica[]): FleetMember[] {
  return replicas.map(({ replica, pusher }) => ({ replica, joinedAtSecond: pusher.firstSecond }));
}

async function connected(links: readonly RedisLink[]): Promise<void> {
  await waitFor(() => links.every((link) => link.isConnected), {
    timeoutMs: DEADLINE_MS,
    description: "every link connected",
  });
}

/** Known traffic: replica i sends (i + 2) canary attempts a second, every 3rd failing. */
class Traffic {
  requests = 0;
  failures = 0;
  private n = 0;

  send(clock: ManualClock, replicas: readonly Replica[]): void {
    replicas.forEach(({ stats }, i) => {
      for (let k = 0; k < i + 2; k++) {
        const isFailure = this.n++ % 3 === 0;
        stats.record("web", "canary", 5 + k, isFailure, clock.now() + 100 + k);
        stats.record("web", "stable", 5, false, clock.now() + 100 + k);
        this.requests += 1;
        if (isFailure) this.failures += 1;
      }
    });
  }
}

/** One second of traffic, then the tick: every replica in `pushing` pushes what closed. */
async function second(
  clock: ManualClock,
  traffic: Traffic,
  replicas: readonly Replica[],
  pushing = replicas,
): Promise<void> {
  traffic.send(clock, replicas);
  clock.advance(1000);
  for (const { pusher } of pushing) await pusher.pushClosed();
}

describe("fleet statistics on Redis", () => {
  it("sums two replicas' seconds into one window", async () => {
    const redis = cleanups.track(await startRedisServer());
    const clock = new ManualClock();
    const replicas = [
      await startReplica(redis, clock, "r1"),
      await startReplica(redis, clock, "r2"),
    ];
    const fleet = await fleetOf(redis, clock);
    await connected(replicas.map((r) => r.link));
    const traffic = new Traffic();
    for (let i = 0; i < 10; i++) await second(clock, traffic, replicas);
    // Past the settle delay, with no more traffic: every second is judged.
    for (let i = 0; i < 3; i++) await second(clock, new Traffic(), [], replicas);
    await fleet.refresh(membersOf(replicas));
    const summary = fleet.forRoute("web").summarize("canary", WINDOW_MS);
    expect(summary).toMatchObject({
      requests: traffic.requests,
      failures: traffic.failures,
      missing: [],
    });
    expect(fleet.forRoute("web").summarize("stable", WINDOW_MS).requests).toBe(traffic.requests);
  });

  it("backfills the seconds pushed while Redis was down, even to a Redis restarted empty", async () => {
    const redis = cleanups.track(await startRedisServer());
    const clock = new ManualClock();
    const replicas = [
      await startReplica(redis, clock, "r1"),
      await startReplica(redis, clock, "r2"),
    ];
    await connected(replicas.map((r) => r.link));
    const traffic = new Traffic();
    for (let i = 0; i < 5; i++) await second(clock, traffic, replicas);
    await redis.kill();
    for (let i = 0; i < 4; i++) await second(clock, traffic, replicas);
    expect(replicas.every(({ pusher }) => pusher.pendingSeconds >= 4)).toBe(true);
    await redis.restart();
    // A leader that never saw the old Redis: the whole window must come from the pushers.
    const fleet = await fleetOf(redis, clock);
    clock.advance(3000);
    const members = membersOf(replicas);
    await waitFor(
      async () => {
        for (const { pusher } of replicas) await pusher.pushClosed();
        await fleet.refresh(members).catch(() => undefined);
        const summary = fleet.forRoute("web").summarize("canary", WINDOW_MS);
        return summary.missing?.length === 0 && summary.requests === traffic.requests;
      },
      { timeoutMs: DEADLINE_MS, intervalMs: 50, description: "a complete window again" },
    );
    expect(fleet.forRoute("web").summarize("canary", WINDOW_MS).failures).toBe(traffic.failures);
    expect(replicas.every(({ pusher }) => pusher.pendingSeconds === 0)).toBe(true);
  });

  it("names a member that stops pushing, and the window never advances", async () => {
    const redis = cleanups.track(await startRedisServer());
    const clock = new ManualClock();
    const replicas = [
      await startReplica(redis, clock, "r1"),
      await startReplica(redis, clock, "r2"),
    ];
    const fleet = await fleetOf(redis, clock);
    await connected(replicas.map((r) => r.link));
    const traffic = new Traffic();
    for (let i = 0; i < 20; i++) await second(clock, traffic, replicas);
    // r2 stops pushing: its last pushed second is the one before now.
    const [r1] = replicas;
    if (r1 === undefined) throw new Error("no r1");
    for (let i = 0; i < 9; i++) await second(clock, traffic, replicas, [r1]);
    await fleet.refresh(membersOf(replicas));
    const summary = fleet.forRoute("web").summarize("canary", WINDOW_MS);
    // Judged up to 3 s ago: 7 of r2's seconds there are missing.
    const of = 29 - 3 + 1;
    expect(summary.missing).toEqual([{ replica: "r2", seconds: 7, of }]);
    expect(summary.requests).toBeLessThan(traffic.requests);
    const decision = decideAtIntervalEnd({
      policy: policy({
        interval: WINDOW_MS,
        minRequests: 10,
        checks: [check("errorRate", { max: 0.9 })],
      }),
      progress: { phase: "progressing", stepIndex: 0, failures: 0 },
      stats: fleet.forRoute("web"),
    });
    expect(decision.verdict).toBe("inconclusive");
    expect(decision.reason).toContain(`r2 missed 7 of ${String(of)} s`);

    // r2 comes back: its late seconds are backfilled and read on the next refresh.
    await replicas[1]?.pusher.pushClosed();
    await fleet.refresh(membersOf(replicas));
    expect(fleet.forRoute("web").summarize("canary", WINDOW_MS).missing).toEqual([]);
  });

  it("judges only settled seconds", async () => {
    const redis = cleanups.track(await startRedisServer());
    const clock = new ManualClock();
    const replicas = [await startReplica(redis, clock, "r1")];
    const fleet = await fleetOf(redis, clock);
    await connected(replicas.map((r) => r.link));
    const traffic = new Traffic();
    await second(clock, traffic, replicas);
    await fleet.refresh(membersOf(replicas));
    // Pushed, but younger than the settle delay: not judged yet.
    expect(fleet.forRoute("web").summarize("canary", WINDOW_MS).requests).toBe(0);
    for (let i = 0; i < 2; i++) await second(clock, new Traffic(), [], replicas);
    await fleet.refresh(membersOf(replicas));
    expect(fleet.forRoute("web").summarize("canary", WINDOW_MS).requests).toBe(traffic.requests);
  });

  it("reports and skips a corrupt field, keeping the rest of the second", async () => {
    const redis = cleanups.track(await startRedisServer());
    const clock = new ManualClock();
    const replicas = [await startReplica(redis, clock, "r1")];
    const corrupt: string[] = [];
    const link = await openLink(redis, "leader");
    const fleet = new FleetStats({
      link,
      keys: KEYS,
      clock,
      longestWindowMs: WINDOW_MS,
      onCorrupt: (replica, _second, fields) => corrupt.push(`${replica}:${fields.join()}`),
    });
    await connected([link, ...replicas.map((r) => r.link)]);
    const traffic = new Traffic();
    await second(clock, traffic, replicas);
    const [r1] = replicas;
    if (r1 === undefined) throw new Error("no r1");
    await link.run("HSET", (client) =>
      client.hSet(KEYS.stats("r1", r1.pusher.firstSecond), "web/canary", "3,9"),
    );
    for (let i = 0; i < 3; i++) await second(clock, new Traffic(), [], replicas);
    await fleet.refresh(membersOf(replicas));
    expect(corrupt).toEqual(["r1:web/canary"]);
    const view = fleet.forRoute("web");
    expect(view.summarize("canary", WINDOW_MS)).toMatchObject({ requests: 0, missing: [] });
    expect(view.summarize("stable", WINDOW_MS).requests).toBe(traffic.requests);
  });
});
