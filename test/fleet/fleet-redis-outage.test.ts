/**
 * Fleet mode when Redis fails (SPEC 10), with real `switchyard serve` replicas: Redis killed
 * under load (no request fails, writes answer 503, the split stays, rollouts hold and say
 * why), Redis back empty (the replicas put the last state back, versions still increasing),
 * Redis frozen (the leader steps down, nothing hangs) and a replica started while Redis is
 * down. Tests wait for what they expect and count; none times anything.
 */
import { describe, expect, it } from "vitest";
import { adminCall, errorOf, setWeights } from "../support/admin-calls.ts";
import { cleanupAfterEach } from "../support/cleanups.ts";
import { startEchoBackend } from "../support/echo-backend.ts";
import {
  FLEET_TEST_DEADLINE_MS,
  POLL_MS,
  startReplica,
  waitForLeader,
  waitForStatus,
  type FleetReplica,
} from "../support/fleet-replicas.ts";
import { get } from "../support/http-client.ts";
import { waitFor } from "../support/ports.ts";
import { startRedisServer, type RedisServer } from "../support/redis-server.ts";
import { runCli } from "../integration/cli/child-process.ts";

const cleanups = cleanupAfterEach();

/** The most requests a background load sends: bounded whatever happens. */
const MAX_LOAD_REQUESTS = 5000;

interface Fleet {
  readonly redis: RedisServer;
  readonly replicas: FleetReplica[];
  readonly raw: Record<string, unknown>;
}

async function startFleet(
  count: number,
  rollout?: Record<string, unknown>,
  extra: Record<string, unknown> = {},
): Promise<Fleet> {
  const redis = cleanups.track(await startRedisServer());
  const stable = cleanups.track(await startEchoBackend({ name: "stable" }));
  const canary = cleanups.track(await startEchoBackend({ name: "canary" }));
  const split = rollout === undefined ? { stable: 50, canary: 50 } : { stable: 100, canary: 0 };
  const raw = {
    upstreams: { stable: { endpoints: [stable.url] }, canary: { endpoints: [canary.url] } },
    routes: [{ name: "web", split, ...(rollout && { rollout }) }],
    ...extra,
  };
  const replicas: FleetReplica[] = [];
  for (const replica of ["a", "b", "c"].slice(0, count)) {
    replicas.push(await startReplica(cleanups, { redis, fleetName: "shop", replica, raw }));
  }
  return { redis, replicas, raw };
}

/** Requests through every replica in turn until stopped; every answer's status is tallied. */
function startLoad(replicas: readonly FleetReplica[]) {
  const statuses: number[] = [];
  const control = { isStopped: false };
  const done = (async () => {
    for (let i = 0; !control.isStopped && i < MAX_LOAD_REQUESTS; i++) {
      const replica = replicas[i % replicas.length];
      if (replica === undefined) break;
      const answer = await get(`${replica.proxyUrl}/`).catch(() => ({ status: 0 }));
      statuses.push(answer.status);
    }
  })();
  return {
    statuses,
    stop: async () => {
      control.isStopped = true;
      await done;
    },
  };
}

const isConnected = (replica: FleetReplica, connected: boolean) =>
  waitForStatus(
    replica,
    (status) => status.fleet?.connected === connected,
    `replica ${replica.replica} connected=${String(connected)}`,
  );

describe("fleet mode when Redis fails", () => {
  it("keeps serving with the split it knew when Redis dies, refuses writes, and resyncs when it is back empty", async () => {
    const { redis, replicas } = await startFleet(2);
    const [a, b] = replicas as [FleetReplica, FleetReplica];
    await setWeights(a.adminUrl, "web", { stable: 80, canary: 20 });
    await waitForStatus(b, (status) => status.routes[0]?.split.canary === 20, "b at 20%");
    const versionBefore = (await b.status()).fleet?.stateVersion ?? 0;
    const load = startLoad(replicas);

    await redis.kill();
    await isConnected(a, false);
    await isConnected(b, false);
    const refused = await adminCall(b.adminUrl, "PUT", "/api/v1/routes/web/weights", {
      json: { weights: { stable: 50, canary: 50 } },
    });
    expect(refused.status).toBe(503);
    expect(errorOf(refused).code).toBe("SWITCHYARD_FLEET_UNAVAILABLE");
    for (const replica of replicas) {
      expect((await replica.status()).routes[0]?.split).toEqual({ stable: 80, canary: 20 });
    }
    // Reads answer the local view, and say so.
    expect((await a.events()).source).toBe("local");

    await redis.restart();
    for (const replica of replicas) await isConnected(replica, true);
    // Redis came back empty: the last fleet state is put back, at a higher version.
    await waitForStatus(
      a,
      (status) => (status.fleet?.stateVersion ?? 0) > versionBefore,
      "the state seeded above the version seen before",
    );
    await setWeights(b.adminUrl, "web", { stable: 60, canary: 40 });
    await waitForStatus(a, (status) => status.routes[0]?.split.canary === 40, "a at 40%");
    await load.stop();

    expect(load.statuses.length).toBeGreaterThan(0);
    expect(load.statuses.filter((status) => status !== 200)).toEqual([]);
  });

  it("has the leader step down when Redis freezes, without hanging a request or a write", async () => {
    const { redis, replicas } = await startFleet(2, {
      target: "canary",
      baseline: "stable",
      steps: [10, 50, 100],
      approvalBefore: [],
      interval: "2s",
      minRequests: 1_000_000,
      checks: [{ metric: "errorRate", max: 0.5, action: "rollback" }],
    });
    await waitForLeader(replicas);
    redis.freeze();
    const [a, b] = replicas as [FleetReplica, FleetReplica];
    for (const replica of replicas) {
      await waitForStatus(
        replica,
        (status) => status.fleet?.isLeader === false && !status.fleet.connected,
        `replica ${replica.replica} to give up leading and see Redis gone`,
      );
    }
    const held = (await a.status()).routes[0]?.rollout;
    expect(held?.phase).toBe("progressing");
    expect(held?.holdReason).toContain("Redis");
    const write = await adminCall(a.adminUrl, "POST", "/api/v1/routes/web/rollout/pause");
    expect(write.status).toBe(503);
    for (let i = 0; i < 10; i++) expect((await get(`${b.proxyUrl}/`)).status).toBe(200);

    redis.thaw();
    await waitForLeader(replicas);
    const paused = await adminCall(b.adminUrl, "POST", "/api/v1/routes/web/rollout/pause");
    expect(paused.status).toBe(200);
    await waitForStatus(a, (status) => status.routes[0]?.rollout?.phase === "paused", "a paused");
  });

  it("takes a --local write while Redis is down, shows it as divergent, and drops it once Redis is back", async () => {
    const { redis, replicas } = await startFleet(2);
    const [a, b] = replicas as [FleetReplica, FleetReplica];
    await setWeights(a.adminUrl, "web", { stable: 80, canary: 20 });
    await waitForStatus(b, (status) => status.routes[0]?.split.canary === 20, "b at 20%");
    const whileUp = await adminCall(b.adminUrl, "PUT", "/api/v1/routes/web/weights?local=true", {
      json: { weights: { stable: 0, canary: 100 } },
    });
    expect(whileUp.status).toBe(409);
    expect(errorOf(whileUp).code).toBe("SWITCHYARD_LOCAL_WRITE_REFUSED");

    await redis.kill();
    await isConnected(a, false);
    const cli = await runCli([
      "weights",
      "web",
      "stable=0",
      "canary=100",
      "--local",
      "--admin",
      a.adminUrl,
    ]);
    expect(cli.code, cli.stderr).toBe(0);
    const diverged = await a.status();
    expect(diverged.routes[0]?.split).toEqual({ stable: 0, canary: 100 });
    expect(diverged.fleet?.divergent.map((write) => write.what)).toEqual(["weights of route web"]);
    expect((await b.status()).routes[0]?.split).toEqual({ stable: 80, canary: 20 });

    await redis.restart();
    const back = await waitForStatus(
      a,
      (status) => status.fleet?.divergent.length === 0 && status.routes[0]?.split.canary === 20,
      "a back on the fleet's split",
    );
    expect(back.routes[0]?.split).toEqual({ stable: 80, canary: 20 });
    const local = await adminCall(a.adminUrl, "GET", "/api/v1/events?local=true");
    const types = (local.json as { events: { type: string }[] }).events.map((e) => e.type);
    expect(types).toContain("fleet.localWritesDropped");
    // What happened on a alone reaches the fleet's log, through any replica, naming a.
    await waitFor(
      async () =>
        (await b.events()).events.some(
          (event) => event.type === "fleet.localWritesDropped" && event.replica === "a",
        ),
      { timeoutMs: FLEET_TEST_DEADLINE_MS, intervalMs: POLL_MS, description: "the event on b" },
    );
  });

  it("restarts a replica while Redis is down from the state it kept, not the file's split", async () => {
    const { redis, replicas, raw } = await startFleet(1, undefined, {
      state: { file: "state.json" },
    });
    const [a] = replicas as [FleetReplica];
    // The operator took the canary out: the file's split would bring it back.
    await setWeights(a.adminUrl, "web", { stable: 100, canary: 0 });
    await redis.kill();
    a.child.kill("SIGTERM");
    await a.exited;
    const restarted = await startReplica(cleanups, {
      redis,
      fleetName: "shop",
      replica: "a",
      raw,
      dir: a.dir,
      fleet: { syncTimeout: "1s" },
    });
    expect((await restarted.status()).routes[0]?.split).toEqual({ stable: 100, canary: 0 });
  });

  it("starts a replica while Redis is down on the file's split, then brings it to the fleet's", async () => {
    const { redis, replicas, raw } = await startFleet(1);
    const [a] = replicas as [FleetReplica];
    await setWeights(a.adminUrl, "web", { stable: 0, canary: 100 });
    await redis.kill();
    await isConnected(a, false);

    const late = await startReplica(cleanups, {
      redis,
      fleetName: "shop",
      replica: "late",
      raw,
      fleet: { syncTimeout: "1s" },
    });
    expect(late.logs().some((line) => line.msg.includes("no shared state within"))).toBe(true);
    expect((await late.status()).routes[0]?.split).toEqual({ stable: 50, canary: 50 });
    // The fleet keeps its own split meanwhile: nothing reverted it.
    expect((await a.status()).routes[0]?.split).toEqual({ stable: 0, canary: 100 });

    await redis.restart();
    await waitForStatus(
      late,
      (status) => status.routes[0]?.split.canary === 100,
      "the late replica to take the fleet's split",
    );
  });
});
