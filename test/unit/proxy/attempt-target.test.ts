/**
 * Which upstream and endpoint an attempt goes to (SPEC 3.5, 3.6, 4 and 12), on real upstreams
 * built from a config (their pools never connect). Availability is set by hand: an endpoint
 * out of health checks, drained or in maintenance, or a breaker opened by failed calls. Table-driven: each case names the
 * state, the call and where the attempt must go (or that there is none: 503).
 */
import { afterEach, describe, expect, it } from "vitest";
import { configSchema } from "../../../src/config/schema.ts";
import {
  admit,
  chooseFirstTarget,
  chooseRetryTarget,
  type AttemptTarget,
} from "../../../src/proxy/attempt-target.ts";
import { buildSnapshot, type Snapshot } from "../../../src/runtime/snapshot.ts";
import type { EndpointAdminState } from "../../../src/upstream/endpoint-admin-state.ts";
import { buildUpstreams, closeUpstreams } from "../../../src/upstream/upstream-set.ts";
import { testUpstreamDeps } from "../../support/upstream-deps.ts";

const S1 = "http://127.0.0.1:1";
const S2 = "http://127.0.0.1:2";
const C1 = "http://127.0.0.1:3";

/** Picks the first upstream of the split (random() = 0). */
const FIRST = (): number => 0;

let opened: Snapshot[] = [];

afterEach(async () => {
  await Promise.all(opened.map((snapshot) => closeUpstreams(snapshot.upstreams)));
  opened = [];
});

/**
 * State by hand: `down` endpoints fail their health checks, `open` upstreams' breakers are
 * open, `admin` sets endpoints' admin states (drain, maintenance) by URL.
 */
interface Scenario {
  fallback?: boolean;
  down?: readonly string[];
  open?: readonly string[];
  admin?: Readonly<Record<string, EndpointAdminState>>;
}

async function snapshotOf(scenario: Scenario): Promise<Snapshot> {
  const config = configSchema.parse({
    upstreams: {
      // One failed call in the window opens a breaker (50% of at least one request).
      stable: { endpoints: [S1, S2], breaker: { volumeThreshold: 1 } },
      canary: { endpoints: [C1], breaker: { volumeThreshold: 1 } },
    },
    routes: [
      { name: "web", split: { stable: 90, canary: 10 }, fallback: scenario.fallback ?? true },
    ],
  });
  const { upstreams } = buildUpstreams(config, testUpstreamDeps());
  const snapshot = buildSnapshot(config, "test", upstreams);
  opened.push(snapshot);
  for (const upstream of upstreams.values()) {
    for (const endpoint of upstream.endpoints) {
      endpoint.isHealthy = !(scenario.down ?? []).includes(endpoint.url);
      endpoint.adminState = scenario.admin?.[endpoint.url] ?? "ready";
    }
  }
  for (const name of scenario.open ?? []) {
    upstreams.get(name)?.breaker.begin()?.fail();
  }
  // The breaker takes a failure in on a later turn.
  await new Promise((resolve) => setImmediate(resolve));
  for (const name of scenario.open ?? []) expect(upstreams.get(name)?.breaker.state).toBe("open");
  return snapshot;
}

function routeOf(snapshot: Snapshot) {
  const route = snapshot.routes.get("web");
  if (route === undefined) throw new Error("no route web");
  return route;
}

function whereTo(target: AttemptTarget | undefined): string {
  return target === undefined ? "none" : `${target.upstream.name} ${target.endpoint.url}`;
}

function upstreamOf(snapshot: Snapshot, name: string) {
  const upstream = snapshot.upstreams.get(name);
  if (upstream === undefined) throw new Error(`no upstream ${name}`);
  return upstream;
}

describe("chooseFirstTarget", () => {
  it.each([
    ["the picked upstream when it is available", "canary", {}, `canary ${C1}`],
    [
      "a healthy endpoint of it, skipping one that is down",
      "stable",
      { down: [S1] },
      `stable ${S2}`,
    ],
    ["a fallback when its breaker is open", "canary", { open: ["canary"] }, `stable ${S1}`],
    ["a fallback when its endpoints are all down", "canary", { down: [C1] }, `stable ${S1}`],
    ["no fallback without fallback: true", "canary", { open: ["canary"], fallback: false }, "none"],
    ["none when every upstream is out", "stable", { down: [S1, S2], open: ["canary"] }, "none"],
    [
      "a ready endpoint, skipping a drained one",
      "stable",
      { admin: { [S1]: "drain" } },
      `stable ${S2}`,
    ],
    [
      "a fallback when every endpoint is drained or in maintenance",
      "stable",
      { admin: { [S1]: "drain", [S2]: "maintenance" } },
      `canary ${C1}`,
    ],
    [
      "none when the rest is out and every endpoint is drained or in maintenance",
      "canary",
      { admin: { [C1]: "maintenance" }, down: [S1, S2] },
      "none",
    ],
    ["a fallback for an upstream the snapshot does not have", "gone", {}, `stable ${S1}`],
  ] as const)("takes %s", async (_case, picked, scenario: Scenario, expected) => {
    const snapshot = await snapshotOf(scenario);
    expect(whereTo(chooseFirstTarget(snapshot, routeOf(snapshot), picked, FIRST))).toBe(expected);
  });

  it("spreads fallbacks over the other upstreams by their weights", async () => {
    const config = configSchema.parse({
      upstreams: {
        a: { endpoints: [S1] },
        b: { endpoints: [S2] },
        c: { endpoints: [C1], breaker: { volumeThreshold: 1 } },
      },
      routes: [{ name: "web", split: { a: 30, b: 60, c: 10 } }],
    });
    const { upstreams } = buildUpstreams(config, testUpstreamDeps());
    const snapshot = buildSnapshot(config, "test", upstreams);
    opened.push(snapshot);
    upstreamOf(snapshot, "c").breaker.begin()?.fail();
    await new Promise((resolve) => setImmediate(resolve));
    // 90 available points: a holds [0, 30), b [30, 90).
    const at = (fraction: number) =>
      chooseFirstTarget(snapshot, routeOf(snapshot), "c", () => fraction)?.upstream.name;
    expect([0, 0.33, 0.34, 0.99].map(at)).toEqual(["a", "a", "b", "b"]);
  });

  it("admits the attempt with the breaker: its call is settled by the caller", async () => {
    const snapshot = await snapshotOf({});
    const target = chooseFirstTarget(snapshot, routeOf(snapshot), "canary", FIRST);
    expect(target?.breakerCall).toBeDefined();
    target?.breakerCall.fail();
    await new Promise((resolve) => setImmediate(resolve));
    // The failure counted: with volumeThreshold 1 the canary's breaker is open now.
    expect(upstreamOf(snapshot, "canary").breaker.state).toBe("open");
  });
});

describe("chooseRetryTarget", () => {
  /** The first attempt on `endpoint` of `upstream`, as if it had just failed. */
  function failedOn(snapshot: Snapshot, upstream: string, endpoint: string): AttemptTarget {
    const target = upstreamOf(snapshot, upstream);
    const found = target.endpoints.find((candidate) => candidate.url === endpoint);
    if (found === undefined) throw new Error(`no endpoint ${endpoint}`);
    return { upstream: target, endpoint: found, breakerCall: { succeed() {}, fail() {} } };
  }

  it.each([
    ["another endpoint of the same upstream first", "stable", S1, {}, false, `stable ${S2}`],
    ["a fallback upstream when it has no other", "canary", C1, {}, false, `stable ${S1}`],
    [
      "a fallback when the other endpoint is down",
      "stable",
      S1,
      { down: [S2] },
      false,
      `canary ${C1}`,
    ],
    [
      "none without fallback and no other endpoint",
      "canary",
      C1,
      { fallback: false },
      false,
      "none",
    ],
    [
      "the same endpoint again for a stale pooled connection",
      "canary",
      C1,
      { fallback: false },
      true,
      `canary ${C1}`,
    ],
    [
      "a fallback when the other endpoint is drained",
      "stable",
      S1,
      { admin: { [S2]: "drain" } },
      false,
      `canary ${C1}`,
    ],
    [
      "none for a stale connection to an endpoint drained since",
      "canary",
      C1,
      { fallback: false, admin: { [C1]: "drain" } },
      true,
      "none",
    ],
    [
      "none for a stale connection when the breaker opened",
      "canary",
      C1,
      { fallback: false, open: ["canary"] },
      true,
      "none",
    ],
  ] as const)(
    "takes %s",
    async (_case, upstream, endpoint, scenario: Scenario, isStale, expected) => {
      const snapshot = await snapshotOf(scenario);
      const failed = failedOn(snapshot, upstream, endpoint);
      const target = chooseRetryTarget(snapshot, routeOf(snapshot), failed, isStale, FIRST);
      expect(whereTo(target)).toBe(expected);
    },
  );
});

describe("admit", () => {
  it.each([
    ["an available endpoint", {}, undefined, false, `stable ${S1}`],
    ["another endpoint than the excluded one", {}, S1, false, `stable ${S2}`],
    ["the excluded one when it is the only one left", { down: [S2] }, S1, false, `stable ${S1}`],
    [
      "nothing when only the excluded one is left and it must be another",
      { down: [S2] },
      S1,
      true,
      "none",
    ],
    ["nothing when the breaker is open", { open: ["stable"] }, undefined, false, "none"],
    ["nothing when every endpoint is down", { down: [S1, S2] }, undefined, false, "none"],
  ] as const)("gives %s", async (_case, scenario: Scenario, excluded, onlyOther, expected) => {
    const snapshot = await snapshotOf(scenario);
    const stable = upstreamOf(snapshot, "stable");
    const exclude = stable.endpoints.find((endpoint) => endpoint.url === excluded);
    expect(whereTo(admit(stable, exclude, onlyOther))).toBe(expected);
  });
});
