/**
 * The fleet's shared state store against a real redis-server (SPEC 10): writes seen by the
 * other replicas, concurrent updates that all land, fenced writes, and a Redis killed,
 * restarted empty or frozen. Tests wait for events and count; none times anything.
 */
import { describe, expect, it } from "vitest";
import { emptyDocumentBody, type FleetDocument } from "../../src/fleet/fleet-document.ts";
import { withOverride, withRollout } from "../../src/fleet/fleet-document-edits.ts";
import { fleetKeys } from "../../src/fleet/fleet-keys.ts";
import { RedisLink } from "../../src/fleet/redis-link.ts";
import {
  SharedStateStore,
  type Mutation,
  type UpdateResult,
} from "../../src/fleet/shared-state-store.ts";
import { captureLogs } from "../support/captured-logs.ts";
import { cleanupAfterEach } from "../support/cleanups.ts";
import { within } from "../support/deadline.ts";
import { waitFor } from "../support/ports.ts";
import { startRedisServer, type RedisServer } from "../support/redis-server.ts";

const cleanups = cleanupAfterEach();

/** Generous: two cores shared with other suites. */
const EVENT_DEADLINE_MS = 20_000;
const KEYS = fleetKeys("shop");
const AT = "2025-01-02T03:04:05.000Z";

async function startRedis(): Promise<RedisServer> {
  return cleanups.track(await startRedisServer());
}

async function openLink(redis: RedisServer, replica: string): Promise<RedisLink> {
  const link = await RedisLink.open({
    url: redis.url,
    logger: captureLogs("info").logger,
    clientName: `switchyard:shop:${replica}`,
    commandTimeoutMs: 500,
    closeTimeoutMs: 500,
    backoff: { baseMs: 20, maxMs: 200, jitter: 0.2 },
  });
  cleanups.defer(() => link.close());
  await waitFor(() => link.isConnected, {
    timeoutMs: EVENT_DEADLINE_MS,
    description: `${replica}'s link up`,
  });
  return link;
}

async function openStore(redis: RedisServer, replica: string) {
  const link = await openLink(redis, replica);
  const store = new SharedStateStore({
    link,
    keys: KEYS,
    logger: captureLogs("info").logger,
    maxAttempts: 50,
    pollIntervalMs: 200,
  });
  return { link, store };
}

/** Collects every document a store's watch delivers. */
function follow(store: SharedStateStore): FleetDocument[] {
  const seen: FleetDocument[] = [];
  const stop = store.watch((document) => seen.push(document));
  cleanups.defer(stop);
  return seen;
}

function setWeights(canary: number) {
  return (body: ReturnType<typeof emptyDocumentBody>): Mutation<never> => ({
    ok: true,
    document: withOverride(body, "web", {
      weights: { stable: 100 - canary, canary },
      source: "admin",
      setBy: "ops",
      setAt: AT,
      fileSplit: { stable: 100 },
    }),
  });
}

/** Adds one to a counter kept in a rollout record: lost updates would show as a short count. */
function increment(body: ReturnType<typeof emptyDocumentBody>): Mutation<never> {
  const count = Number(body.rollouts.counter?.count ?? 0);
  return { ok: true, document: withRollout(body, "counter", { count: count + 1 }) };
}

function okVersion(result: UpdateResult<never> | { ok: false }): number {
  if (!result.ok) throw new Error(`write failed: ${JSON.stringify(result)}`);
  return (result as { version: number }).version;
}

describe("SharedStateStore against a real redis-server", () => {
  it("delivers a write on one replica to another replica's watch", async () => {
    const redis = await startRedis();
    const { store: writer } = await openStore(redis, "r1");
    const { store: reader } = await openStore(redis, "r2");
    const seen = follow(reader);

    const result = await writer.update(setWeights(10), { type: "weights.set" });
    const version = okVersion(result);
    const delivered = await waitFor(() => seen.find((doc) => doc.version === version), {
      timeoutMs: EVENT_DEADLINE_MS,
      description: "the write delivered to the other replica",
    });
    expect(delivered.overrides.web?.weights).toEqual({ stable: 90, canary: 10 });
  });

  it("lands every concurrent update, with strictly increasing versions and event ids", async () => {
    const redis = await startRedis();
    const stores = [(await openStore(redis, "r1")).store, (await openStore(redis, "r2")).store];
    const perWriter = 10;
    const writers = [...stores, ...stores].map(async (store) => {
      const versions: number[] = [];
      for (let i = 0; i < perWriter; i++) {
        versions.push(okVersion(await store.update(increment, { type: "counter.incremented" })));
      }
      return versions;
    });
    const versions = await Promise.all(writers);
    const total = writers.length * perWriter;

    for (const own of versions) {
      for (let i = 1; i < own.length; i++) expect(own[i]).toBeGreaterThan(own[i - 1] ?? 0);
    }
    expect(new Set(versions.flat()).size).toBe(total);
    const read = await stores[0]?.read();
    expect(read?.kind === "found" ? read.document.rollouts.counter : undefined).toEqual({
      count: total,
    });
    const events = await stores[1]?.eventsSince(0);
    const ids = events?.ok ? events.events.map((event) => event.id) : [];
    expect(ids).toHaveLength(total);
    for (let i = 1; i < ids.length; i++) expect(ids[i]).toBeGreaterThan(ids[i - 1] ?? 0);
    const since = await stores[1]?.eventsSince(ids[total - 5] ?? 0);
    expect(since?.ok ? since.events.map((event) => event.id) : []).toEqual(ids.slice(-4));
  });

  it("refuses a fenced write unless the lease holder and epoch match", async () => {
    const redis = await startRedis();
    const { link, store } = await openStore(redis, "r1");
    const event = { type: "rollout.decision" };
    const body = emptyDocumentBody();

    expect(await store.write(0, body, event, { replica: "r1", epoch: 3 })).toEqual({
      ok: false,
      reason: "fenced",
    });
    // The lease's contract: the key holds the leader's replica id, the epoch an integer.
    await link.run("lease", (c) => c.set(KEYS.lease, "r1"));
    await link.run("epoch", (c) => c.set(KEYS.leaseEpoch, "3"));
    for (const fence of [
      { replica: "r1", epoch: 2 },
      { replica: "r2", epoch: 3 },
    ]) {
      expect(await store.write(0, body, event, fence)).toEqual({ ok: false, reason: "fenced" });
    }
    expect(await store.write(0, body, event, { replica: "r1", epoch: 3 })).toMatchObject({
      ok: true,
      version: 1,
      eventId: 1,
    });
    expect(await store.write(0, body, event)).toEqual({
      ok: false,
      reason: "conflict",
      version: 1,
    });
  });

  it("answers unavailable while Redis is killed, and starts above everything seen when it comes back empty", async () => {
    const redis = await startRedis();
    const { link, store } = await openStore(redis, "r1");
    const { store: other } = await openStore(redis, "r2");
    const seen = follow(other);
    let last: UpdateResult<never> = { ok: false, reason: "fenced" };
    for (const canary of [5, 10, 20]) {
      last = await store.update(setWeights(canary), { type: "weights.set" });
    }
    const before = okVersion(last);
    const lastEventId = last.ok ? last.eventId : 0;
    await waitFor(() => seen.some((doc) => doc.version === before), {
      timeoutMs: EVENT_DEADLINE_MS,
      description: "the other replica on the last version",
    });

    await redis.kill();
    const down = await within(
      store.update(setWeights(50), { type: "weights.set" }),
      EVENT_DEADLINE_MS,
      "an update while Redis is down",
    );
    expect(down).toMatchObject({ ok: false, reason: "unavailable" });
    const events = await within(store.eventsSince(0), EVENT_DEADLINE_MS, "events while down");
    expect(events.ok).toBe(false);

    // Back empty: a watching replica puts its last known state back, above the old version.
    await redis.restart();
    const reseeded = await waitFor(() => seen.find((doc) => doc.version > before), {
      timeoutMs: EVENT_DEADLINE_MS,
      description: "the state seeded again after the empty restart",
    });
    expect(reseeded.overrides.web?.weights).toEqual({ stable: 80, canary: 20 });
    await waitFor(() => link.isConnected, { timeoutMs: EVENT_DEADLINE_MS });
    const after = await store.update(setWeights(30), { type: "weights.set" });
    expect(okVersion(after)).toBeGreaterThan(reseeded.version);
    expect(after.ok ? after.eventId : 0).toBeGreaterThan(lastEventId);
    const kept = await store.eventsSince(lastEventId);
    expect(kept.ok ? kept.events.map((event) => event.type) : []).toEqual([
      "fleet.stateSeeded",
      "weights.set",
    ]);
  });

  it("answers unavailable (outcome unknown) on a frozen Redis, and follows again after thaw", async () => {
    const redis = await startRedis();
    const { store } = await openStore(redis, "r1");
    const { store: other } = await openStore(redis, "r2");
    const seen = follow(other);
    okVersion(await store.update(setWeights(5), { type: "weights.set" }));

    redis.freeze();
    const frozen = await within(
      store.update(setWeights(10), { type: "weights.set" }),
      EVENT_DEADLINE_MS,
      "an update on a frozen Redis",
    );
    expect(frozen).toMatchObject({ ok: false, reason: "unavailable", outcomeUnknown: true });
    redis.thaw();

    const result = await waitFor(
      async () => {
        const attempt = await store.update(setWeights(40), { type: "weights.set" });
        return attempt.ok ? attempt : undefined;
      },
      { timeoutMs: EVENT_DEADLINE_MS, intervalMs: 100, description: "a write after thaw" },
    );
    const delivered = await waitFor(() => seen.find((doc) => doc.version === result.version), {
      timeoutMs: EVENT_DEADLINE_MS,
      description: "the other replica following after thaw",
    });
    expect(delivered.overrides.web?.weights.canary).toBe(40);
  });

  it("brings a replica up to date when the hint was lost with its pub/sub connection", async () => {
    const redis = await startRedis();
    const { link, store } = await openStore(redis, "r1");
    const { store: other } = await openStore(redis, "r2");
    const seen = follow(other);
    const first = okVersion(await store.update(setWeights(5), { type: "weights.set" }));
    await waitFor(() => seen.some((doc) => doc.version === first), {
      timeoutMs: EVENT_DEADLINE_MS,
    });

    // Cut r2's subscriber, then write at once: the hint is published while nobody listens.
    await link.run("kill r2's pub/sub", (c) =>
      c.sendCommand(["CLIENT", "KILL", "USER", "default", "SKIPME", "yes"]),
    );
    const second = okVersion(await store.update(setWeights(25), { type: "weights.set" }));
    const delivered = await waitFor(() => seen.find((doc) => doc.version === second), {
      timeoutMs: EVENT_DEADLINE_MS,
      description: "the write that lost its hint",
    });
    expect(delivered.overrides.web?.weights.canary).toBe(25);
  });

  it("reports a corrupt document and a refused mutation without writing anything", async () => {
    const redis = await startRedis();
    const { link, store } = await openStore(redis, "r1");
    const refusal = await store.update(() => ({ ok: false, error: "a rollout is running" }), {
      type: "weights.set",
    });
    expect(refusal).toEqual({ ok: false, reason: "refused", error: "a rollout is running" });
    expect(await store.read()).toEqual({ kind: "empty", version: 0 });

    await link.run("corrupt", (c) => c.mSet([KEYS.state, "{not json", KEYS.stateVersion, "4"]));
    const read = await store.read();
    expect(read).toMatchObject({ kind: "corrupt", version: 4 });
    expect(await store.update(increment, { type: "counter.incremented" })).toMatchObject({
      ok: false,
      reason: "corrupt",
    });
    expect(await link.run("version", (c) => c.get(KEYS.stateVersion))).toBe("4");
  });
});
