/**
 * Fleet mode with real `switchyard serve` replicas and a real redis-server (SPEC 10): a change
 * through any replica's admin API is in force on every replica, status and metrics show the
 * fleet, and the event log is the fleet's. Tests wait for what they expect and count; none
 * times anything.
 */
import { describe, expect, it } from "vitest";
import { adminCall, errorOf, setEndpointState, setWeights } from "../support/admin-calls.ts";
import { cleanupAfterEach } from "../support/cleanups.ts";
import { startEchoBackend } from "../support/echo-backend.ts";
import {
  startReplica,
  waitForLeader,
  waitForStatus,
  type FleetReplica,
} from "../support/fleet-replicas.ts";
import { get } from "../support/http-client.ts";
import { parsePrometheusText, sampleValue } from "../support/prometheus-text.ts";
import { startRedisServer, TEST_TLS, type RedisServer } from "../support/redis-server.ts";

const cleanups = cleanupAfterEach();

async function startFleet(
  count: number,
  password?: string,
): Promise<{ redis: RedisServer; replicas: FleetReplica[] }> {
  const redis = cleanups.track(await startRedisServer(password === undefined ? {} : { password }));
  const stable = cleanups.track(await startEchoBackend({ name: "stable" }));
  const canary = cleanups.track(await startEchoBackend({ name: "canary" }));
  const raw = {
    upstreams: { stable: { endpoints: [stable.url] }, canary: { endpoints: [canary.url] } },
    routes: [{ name: "web", split: { stable: 100, canary: 0 } }],
  };
  const names = ["a", "b", "c"].slice(0, count);
  const replicas = await Promise.all(
    names.map((replica) => startReplica(cleanups, { redis, fleetName: "shop", replica, raw })),
  );
  return { redis, replicas };
}

/** Which backend answered each of `count` requests through `proxyUrl`. */
async function answeredBy(proxyUrl: string, count: number): Promise<Record<string, number>> {
  const tally: Record<string, number> = {};
  for (let i = 0; i < count; i++) {
    const answer = await get(`${proxyUrl}/`);
    const name = String(answer.headers["x-backend-name"] ?? answer.status);
    tally[name] = (tally[name] ?? 0) + 1;
  }
  return tally;
}

async function scrape(replica: FleetReplica) {
  return parsePrometheusText((await adminCall(replica.adminUrl, "GET", "/metrics")).body);
}

describe("fleet mode: one truth across replicas", () => {
  it("puts a weight change made through one replica in force on every replica", async () => {
    const { replicas } = await startFleet(3);
    const [a, b, c] = replicas as [FleetReplica, FleetReplica, FleetReplica];
    await setWeights(a.adminUrl, "web", { stable: 0, canary: 100 });
    for (const replica of [b, c]) {
      await waitForStatus(
        replica,
        (status) => status.routes[0]?.split.canary === 100,
        `replica ${replica.replica} to take the canary at 100%`,
      );
    }
    expect(await answeredBy(c.proxyUrl, 20)).toEqual({ canary: 20 });
    expect((await c.status()).routes[0]).toMatchObject({ splitSource: "admin" });

    // Cleared through another replica: the file's split is back everywhere.
    const cleared = await adminCall(b.adminUrl, "DELETE", "/api/v1/routes/web/weights");
    expect(cleared.status).toBe(200);
    await waitForStatus(a, (status) => status.routes[0]?.split.stable === 100, "a back on stable");
    expect(await answeredBy(a.proxyUrl, 20)).toEqual({ stable: 20 });
  });

  it("shares endpoint states, shows the fleet in status and metrics, and keeps one event log", async () => {
    const { replicas } = await startFleet(2);
    const [a, b] = replicas as [FleetReplica, FleetReplica];
    await setEndpointState(b.adminUrl, "canary", 0, "drain");
    const status = await waitForStatus(
      a,
      (view) => view.upstreams.find((u) => u.name === "canary")?.endpoints[0]?.state === "drain",
      "the drain to reach replica a",
    );
    await waitForLeader(replicas);
    const fleet = (
      await waitForStatus(a, (view) => view.fleet?.members.length === 2, "both members listed")
    ).fleet;
    expect(fleet).toMatchObject({ name: "shop", replica: "a", connected: true });
    expect(fleet?.leader === "a" || fleet?.leader === "b").toBe(true);
    expect(fleet?.members.map((member) => member.replica)).toEqual(["a", "b"]);
    expect(fleet?.stateVersion).toBeGreaterThanOrEqual(1);
    expect(status.fleet?.name).toBe("shop");

    await setWeights(a.adminUrl, "web", { stable: 90, canary: 10 });
    await waitForStatus(b, (view) => view.routes[0]?.split.canary === 10, "the split on b");
    const seenByB = await b.events();
    expect(seenByB.source).toBe("fleet");
    // The shared writes, each logged once by the replica that made it.
    const shared = seenByB.events.filter(
      (event) => event.type === "endpoint.stateChanged" || event.type === "weights.changed",
    );
    expect(shared.map((event) => [event.type, event.replica])).toEqual([
      ["endpoint.stateChanged", "b"],
      ["weights.changed", "a"],
    ]);
    const ids = seenByB.events.map((event) => event.id);
    expect(ids).toEqual([...ids].sort((x, y) => x - y));
    // Either replica's admin API shows the same log.
    expect((await a.events()).events).toEqual(seenByB.events);

    const metrics = await scrape(a);
    expect(sampleValue(metrics, "switchyard_fleet_connected", {})).toBe(1);
    expect(sampleValue(metrics, "switchyard_fleet_members", {})).toBe(2);
    // A clean start against a Redis that answers counts no error.
    expect(sampleValue(metrics, "switchyard_fleet_redis_errors_total", {})).toBe(0);
    expect(sampleValue(metrics, "switchyard_fleet_state_version", {})).toBeGreaterThanOrEqual(2);
    const leaders = await Promise.all(
      replicas.map(async (replica) =>
        sampleValue(await scrape(replica), "switchyard_fleet_leader", {}),
      ),
    );
    expect(leaders.sort()).toEqual([0, 1]);
  });

  it("joins a Redis that speaks only TLS, trusting the private CA named in fleet.tls.ca", async () => {
    const redis = cleanups.track(await startRedisServer({ tls: TEST_TLS }));
    const backend = cleanups.track(await startEchoBackend({ name: "stable" }));
    const raw = {
      upstreams: { stable: { endpoints: [backend.url] } },
      routes: [{ name: "web", split: { stable: 100 } }],
    };
    const fleet = { tls: { ca: TEST_TLS.caFile } };
    const a = await startReplica(cleanups, { redis, fleetName: "tls", replica: "a", raw, fleet });
    const status = await waitForStatus(a, (view) => view.fleet?.isLeader === true, "a leads");
    expect(status.fleet).toMatchObject({ connected: true, replica: "a" });
  });

  it("answers a reload for its own replica and never shows the Redis password", async () => {
    const password = "fleet-s3cret-pass";
    const { replicas } = await startFleet(2, password);
    const [a] = replicas as [FleetReplica];
    const answer = await adminCall(a.adminUrl, "POST", "/api/v1/reload");
    expect(answer.status).toBe(200);
    expect(answer.json).toMatchObject({ replica: "a" });
    const config = await adminCall(a.adminUrl, "GET", "/api/v1/config");
    expect(JSON.stringify(config.json)).toContain("redis://");
    for (const shown of [config.body, JSON.stringify(await a.status()), a.stdout(), a.stderr()]) {
      expect(shown).not.toContain(password);
    }
    const refused = await adminCall(a.adminUrl, "PUT", "/api/v1/routes/web/weights", {
      json: { weights: { stable: 50, canary: 60 } },
    });
    expect(refused.status).toBe(400);
    expect(errorOf(refused).code).toBe("SWITCHYARD_INVALID_WEIGHTS");
  });
});
