/**
 * Fleet membership against a real redis-server (SPEC 10): replicas that heartbeat are listed
 * with their config hash and state version, one that stops leaves at once, one that dies is
 * gone once `leaseTtl` passed without a heartbeat. Counts and waits, never times.
 */
import { describe, expect, it } from "vitest";
import { Membership, withConfigDiffers, type Member } from "../../src/fleet/membership.ts";
import { createSilentLogger } from "../../src/log/logger.ts";
import { cleanupAfterEach } from "../support/cleanups.ts";
import { FLEET_DEADLINE_MS, openTestLink, TEST_FLEET_KEYS } from "../support/fleet-links.ts";
import { waitFor } from "../support/ports.ts";
import { startRedisServer, type RedisServer } from "../support/redis-server.ts";
import type { RedisLink } from "../../src/fleet/redis-link.ts";

const cleanups = cleanupAfterEach();
const LEASE_TTL_MS = 3000;

interface TestMember {
  readonly membership: Membership;
  readonly link: RedisLink;
  stateVersion: number;
}

async function join(redis: RedisServer, replica: string, configHash: string) {
  const link = await openTestLink(cleanups, redis);
  const member: TestMember = {
    link,
    stateVersion: 1,
    membership: new Membership({
      link,
      keys: TEST_FLEET_KEYS,
      replica,
      leaseTtlMs: LEASE_TTL_MS,
      configHash: () => configHash,
      stateVersion: () => member.stateVersion,
      logger: createSilentLogger(),
    }),
  };
  cleanups.defer(() => member.membership.stop());
  member.membership.start();
  return member;
}

function listed(members: readonly Member[]): string[] {
  return members.map((m) => m.replica);
}

async function waitForListed(reader: Membership, replicas: string[], what: string) {
  return waitFor(
    async () => {
      const members = await reader.members();
      return JSON.stringify(listed(members)) === JSON.stringify(replicas) ? members : undefined;
    },
    { timeoutMs: FLEET_DEADLINE_MS, intervalMs: 100, description: what },
  );
}

describe("Membership against a real redis-server", () => {
  it("lists the members with their details, flags a config that differs from the leader's", async () => {
    const redis = await startRedisServer().then((r) => cleanups.track(r));
    const r1 = await join(redis, "r1", "hash-a");
    const r2 = await join(redis, "r2", "hash-b");
    await waitForListed(r1.membership, ["r1", "r2"], "both members");

    r2.stateVersion = 7;
    const beatsBefore = r2.membership.heartbeats;
    await waitFor(() => r2.membership.heartbeats > beatsBefore, { timeoutMs: FLEET_DEADLINE_MS });
    const members = await r1.membership.members();
    expect(
      members.map(({ replica, configHash, stateVersion }) => ({
        replica,
        configHash,
        stateVersion,
      })),
    ).toEqual([
      { replica: "r1", configHash: "hash-a", stateVersion: 1 },
      { replica: "r2", configHash: "hash-b", stateVersion: 7 },
    ]);
    for (const member of members) {
      expect(new Date(member.seenAt).toISOString()).toBe(member.seenAt);
      expect(Date.parse(member.joinedAt)).toBeLessThanOrEqual(Date.parse(member.seenAt));
    }
    const flagged = withConfigDiffers(members, "r1");
    expect(flagged.map((m) => [m.replica, m.configDiffers])).toEqual([
      ["r1", false],
      ["r2", true],
    ]);
    expect(withConfigDiffers(members, null).some((m) => m.configDiffers)).toBe(false);
  });

  it("drops a member that leaves at once, and one that stops heartbeating after leaseTtl", async () => {
    const redis = await startRedisServer().then((r) => cleanups.track(r));
    const r1 = await join(redis, "r1", "hash-a");
    const r2 = await join(redis, "r2", "hash-a");
    const r3 = await join(redis, "r3", "hash-a");
    await waitForListed(r1.membership, ["r1", "r2", "r3"], "three members");

    await r2.membership.stop();
    expect(listed(await r1.membership.members())).toEqual(["r1", "r3"]);

    // Its connections cut, as when its process dies: no leave is ever sent.
    await r3.link.close();
    await waitForListed(r1.membership, ["r1"], "the silent member to drop out");
    const keysLeft = await r1.link.run("EXISTS", (c) => c.exists(TEST_FLEET_KEYS.member("r2")));
    expect(keysLeft).toBe(0);
  });
});
