/**
 * The pusher's schedule and bookkeeping, with a recording stand-in for the Redis link (the
 * real one is exercised in test/fleet/fleet-stats.test.ts): one MULTI per tick shortly after
 * each second ends, a failed push kept for the next tick, nothing thrown.
 */
import { describe, expect, it } from "vitest";
import { fleetKeys } from "../../../src/fleet/fleet-keys.ts";
import { FleetSeconds } from "../../../src/fleet/fleet-seconds.ts";
import type { RedisCommandClient } from "../../../src/fleet/redis-link.ts";
import { PUSH_DELAY_MS, StatsPusher } from "../../../src/fleet/stats-pusher.ts";
import { bucketIndex } from "../../../src/rollout/latency-histogram.ts";
import { WindowStats } from "../../../src/rollout/window-stats.ts";
import { ManualClock, settlePromises } from "../../support/manual-clock.ts";

/** Records each MULTI's commands; `isFailing` makes run() reject like a link that is down. */
class RecordingLink {
  isConnected = true;
  isFailing = false;
  readonly multis: string[][] = [];
  private upListener: (() => void) | undefined;

  run<T>(_what: string, command: (client: RedisCommandClient) => Promise<T>): Promise<T> {
    if (this.isFailing) return Promise.reject(new Error("connection lost"));
    const commands: string[] = [];
    const multi = {
      hSet: (key: string, hash: Record<string, string>) => {
        commands.push(`HSET ${key} ${JSON.stringify(hash)}`);
        return multi;
      },
      expire: (key: string, ttl: number) => {
        commands.push(`EXPIRE ${key} ${String(ttl)}`);
        return multi;
      },
      exec: () => {
        this.multis.push(commands);
        return Promise.resolve([]);
      },
    };
    const client = { multi: () => multi } as unknown as RedisCommandClient;
    return command(client);
  }

  on(_event: "up" | "down", listener: () => void): () => void {
    this.upListener = listener;
    return () => {
      this.upListener = undefined;
    };
  }

  reconnect(): void {
    this.upListener?.();
  }
}

function setup(longestWindowMs = 5000) {
  const clock = new ManualClock(0, Date.UTC(2026, 0, 1));
  const link = new RecordingLink();
  const stats = new WindowStats({ clock, longestWindowMs });
  const errors: unknown[] = [];
  const pusher = new StatsPusher({
    link,
    keys: fleetKeys("shop"),
    replica: "r1",
    stats,
    seconds: new FleetSeconds(clock),
    clock,
    longestWindowMs,
    onError: (error) => errors.push(error),
  });
  const base = Date.UTC(2026, 0, 1) / 1000;
  const key = (second: number) => `switchyard:shop:stats:r1:${String(base + second)}`;
  return { clock, link, stats, pusher, errors, key };
}

describe("StatsPusher", () => {
  it("pushes each closed second once, shortly after it ends, in one MULTI", async () => {
    const { clock, link, stats, pusher, key } = setup();
    pusher.start();
    stats.record("web", "canary", 10, true, 200);
    await clock.advanceAsync(1000 + PUSH_DELAY_MS - 1);
    expect(link.multis).toEqual([]);
    await clock.advanceAsync(1);
    expect(link.multis).toEqual([
      [
        `HSET ${key(0)} {"v":"1","web/canary":"1,1,${String(bucketIndex(10))}:1"}`,
        `EXPIRE ${key(0)} 65`,
      ],
    ]);
    await clock.advanceAsync(1000);
    expect(link.multis[1]).toEqual([`HSET ${key(1)} {"v":"1"}`, `EXPIRE ${key(1)} 65`]);
    pusher.stop();
    await clock.advanceAsync(5000);
    expect(link.multis).toHaveLength(2);
  });

  it("counts a failed push and sends its seconds with the next one", async () => {
    const { clock, link, pusher, errors, key } = setup();
    link.isFailing = true;
    clock.advance(2000);
    expect(await pusher.pushClosed()).toBe(false);
    expect(errors).toHaveLength(1);
    expect(pusher.errorCount).toBe(1);
    expect(pusher.pendingSeconds).toBe(2);
    link.isFailing = false;
    clock.advance(1000);
    expect(await pusher.pushClosed()).toBe(true);
    expect(link.multis[0]?.filter((c) => c.startsWith("HSET")).map((c) => c.split(" ")[1])).toEqual(
      [key(0), key(1), key(2)],
    );
    expect(pusher.pendingSeconds).toBe(0);
  });

  it("gives up seconds older than the window, which the ring no longer holds", async () => {
    const { clock, link, pusher } = setup(3000);
    link.isConnected = false;
    clock.advance(10_000);
    expect(await pusher.pushClosed()).toBe(false);
    expect(pusher.pendingSeconds).toBe(3);
    link.isConnected = true;
    await pusher.pushClosed();
    expect(link.multis[0]).toHaveLength(2 * 3);
  });

  it("pushes the whole window again after a reconnect", async () => {
    const { clock, link, pusher } = setup(5000);
    clock.advance(3000);
    await pusher.pushClosed();
    link.reconnect();
    expect(pusher.pendingSeconds).toBe(3);
    await pusher.pushClosed();
    expect(link.multis[1]).toHaveLength(2 * 3);
  });

  it("keeps ticking after failures", async () => {
    const { clock, link, pusher } = setup();
    link.isFailing = true;
    pusher.start();
    await clock.advanceAsync(3000 + PUSH_DELAY_MS);
    link.isFailing = false;
    await clock.advanceAsync(1000);
    await settlePromises();
    expect(link.multis).toHaveLength(1);
    expect(pusher.errorCount).toBe(3);
    pusher.stop();
  });
});
