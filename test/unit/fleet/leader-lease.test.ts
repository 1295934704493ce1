/**
 * The lease's own-clock logic with a manual clock and a scripted link (no Redis): a leader
 * whose renewals never answer steps down at ttl minus the margin, one whose renewal finds the
 * lease taken steps down at once, and a late answer to an old term changes nothing.
 */
import { describe, expect, it } from "vitest";
import { createSilentLogger } from "../../../src/log/logger.ts";
import { LeaderLease, type LeadershipLoss } from "../../../src/fleet/leader-lease.ts";
import { ACQUIRE_LUA, RELEASE_LUA, RENEW_LUA } from "../../../src/fleet/lease-scripts.ts";
import type { RedisCommandClient } from "../../../src/fleet/redis-link.ts";
import { ManualClock } from "../../support/manual-clock.ts";

type Script = "acquire" | "renew" | "release";

/** A link whose every script call waits for the test to answer it. */
class ScriptedLink {
  readonly calls: { script: Script; answer: (reply: unknown) => void }[] = [];

  run<T>(_what: string, command: (client: RedisCommandClient) => Promise<T>): Promise<T> {
    const client = {
      eval: (script: string) =>
        new Promise((resolve) => {
          this.calls.push({ script: nameOf(script), answer: resolve });
        }),
    };
    return command(client as unknown as RedisCommandClient);
  }

  last(script: Script) {
    const call = this.calls.filter((c) => c.script === script).at(-1);
    if (call === undefined) throw new Error(`no ${script} call`);
    return call;
  }
}

function nameOf(script: string): Script {
  if (script === ACQUIRE_LUA) return "acquire";
  if (script === RENEW_LUA) return "renew";
  if (script === RELEASE_LUA) return "release";
  throw new Error("unknown script");
}

/** Fires timers a little before they are due, as Node's millisecond timers may. */
class EarlyClock extends ManualClock {
  override setTimeout(callback: () => void, delayMs: number) {
    return super.setTimeout(callback, delayMs >= 1 ? delayMs - 0.5 : delayMs);
  }
}

function setup(clock: ManualClock = new ManualClock()) {
  const link = new ScriptedLink();
  const lease = new LeaderLease({
    link,
    keys: { lease: "l", leaseEpoch: "e" },
    replica: "r1",
    ttlMs: 3000,
    logger: createSilentLogger(),
    clock,
  });
  const seen: (number | LeadershipLoss)[] = [];
  lease.on("leader", (epoch) => seen.push(epoch));
  lease.on("lost", (reason) => seen.push(reason));
  return { clock, link, lease, seen };
}

async function becomeLeader(s: ReturnType<typeof setup>, epoch = 4): Promise<void> {
  s.lease.start();
  await s.clock.advanceAsync(0);
  s.link.last("acquire").answer([1, epoch, "r1"]);
  await s.clock.advanceAsync(0);
}

describe("LeaderLease on its own clock", () => {
  it("leads once its acquire is answered, and steps down when renewals never answer", async () => {
    const s = setup();
    await becomeLeader(s);
    expect(s.lease.isLeader).toBe(true);
    expect(s.lease.fenceToken).toEqual({ replica: "r1", epoch: 4 });
    await s.clock.advanceAsync(1000);
    expect(s.link.last("renew")).toBeDefined();
    await s.clock.advanceAsync(999);
    expect(s.lease.isLeader).toBe(true);
    await s.clock.advanceAsync(1);
    expect(s.lease.isLeader).toBe(false);
    expect(s.lease.epoch).toBeUndefined();
    expect(s.seen).toEqual([4, "unconfirmed"]);
  });

  it("steps down even when its timer fires a little early", async () => {
    const s = setup(new EarlyClock());
    await becomeLeader(s);
    await s.clock.advanceAsync(2000);
    expect(s.seen).toEqual([4, "unconfirmed"]);
  });

  it("keeps leading while renewals succeed", async () => {
    const s = setup();
    await becomeLeader(s);
    for (let i = 0; i < 5; i++) {
      await s.clock.advanceAsync(1000);
      s.link.last("renew").answer([1, "r1"]);
      await s.clock.advanceAsync(0);
    }
    expect(s.lease.isLeader).toBe(true);
    expect(s.seen).toEqual([4]);
  });

  it("steps down at once when a renewal finds the lease taken", async () => {
    const s = setup();
    await becomeLeader(s);
    await s.clock.advanceAsync(1000);
    s.link.last("renew").answer([0, "r2"]);
    await s.clock.advanceAsync(0);
    expect(s.lease.isLeader).toBe(false);
    expect(s.lease.leader).toBe("r2");
    expect(s.seen).toEqual([4, "taken"]);
  });

  it("ignores a renewal answered after it gave up, and leads again through acquire", async () => {
    const s = setup();
    await becomeLeader(s);
    await s.clock.advanceAsync(1000);
    const late = s.link.last("renew");
    await s.clock.advanceAsync(1000);
    expect(s.seen).toEqual([4, "unconfirmed"]);
    late.answer([1, "r1"]);
    await s.clock.advanceAsync(0);
    expect(s.lease.isLeader).toBe(false);
    // The tick that waited on the late answer goes on with an acquire, being a follower now.
    expect(s.link.calls.filter((c) => c.script === "acquire")).toHaveLength(2);
    s.link.last("acquire").answer([1, 5, "r1"]);
    await s.clock.advanceAsync(0);
    expect(s.seen).toEqual([4, "unconfirmed", 5]);
  });

  it("does not lead on an acquire answered too late to trust", async () => {
    const s = setup();
    s.lease.start();
    await s.clock.advanceAsync(2500);
    s.link.last("acquire").answer([1, 1, "r1"]);
    await s.clock.advanceAsync(0);
    expect(s.lease.isLeader).toBe(false);
    expect(s.seen).toEqual([]);
  });

  it("a follower sees the holder and tries again each second", async () => {
    const s = setup();
    s.lease.start();
    await s.clock.advanceAsync(0);
    s.link.last("acquire").answer([0, 0, "r2"]);
    await s.clock.advanceAsync(0);
    expect(s.lease.leader).toBe("r2");
    await s.clock.advanceAsync(1000);
    expect(s.link.calls.filter((c) => c.script === "acquire")).toHaveLength(2);
  });

  it("releases on stop and says so", async () => {
    const s = setup();
    await becomeLeader(s);
    const stopping = s.lease.stop();
    await s.clock.advanceAsync(0);
    s.link.last("release").answer(1);
    await stopping;
    expect(s.seen).toEqual([4, "stopped"]);
    expect(s.lease.isLeader).toBe(false);
    await s.clock.advanceAsync(5000);
    expect(s.link.calls.filter((c) => c.script !== "release")).toHaveLength(1);
  });

  it("steps down at once when told its fenced write was refused", async () => {
    const s = setup();
    await becomeLeader(s);
    s.lease.fenced();
    expect(s.lease.isLeader).toBe(false);
    expect(s.seen).toEqual([4, "fenced"]);
  });
});
