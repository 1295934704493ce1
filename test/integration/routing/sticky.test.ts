/**
 * Sticky splits through the real proxy (SPEC 3.3): a client (its cookie or header value) keeps
 * its upstream while the split stays, raising the canary's weight moves clients only to the
 * canary, and a client without the cookie is given one that keeps it where it landed.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildSnapshot } from "../../../src/runtime/snapshot.ts";
import {
  headerValues,
  startEchoBackend,
  type EchoBackend,
  type EchoBody,
} from "../../support/echo-backend.ts";
import { closeDefaultAgent, get, hammer, type RequestHeaders } from "../../support/http-client.ts";
import { startTestSwitchyard, type TestSwitchyard } from "../../support/switchyard.ts";

const CLIENTS = 1000;
const STICKY_COOKIE_FORMAT = /^sy_id=([^;]+); Path=\/; HttpOnly; SameSite=Lax$/;

interface StickyFixture {
  stable: EchoBackend;
  canary: EchoBackend;
  proxy: TestSwitchyard;
}

async function startStickyFixture(sticky: Record<string, string>): Promise<StickyFixture> {
  const stable = await startEchoBackend({ name: "stable" });
  const canary = await startEchoBackend({ name: "canary" });
  const proxy = await startTestSwitchyard({
    upstreams: { stable: { endpoints: [stable.url] }, canary: { endpoints: [canary.url] } },
    routes: [{ name: "web", split: { stable: 95, canary: 5 }, sticky }],
  });
  return { stable, canary, proxy };
}

async function stopStickyFixture(fixture: StickyFixture): Promise<void> {
  await closeDefaultAgent();
  await fixture.proxy.close();
  await fixture.stable.close();
  await fixture.canary.close();
}

function setCanaryPercent(proxy: TestSwitchyard, canaryPercent: number): void {
  const current = proxy.runtime.current;
  const canaryBp = canaryPercent * 100;
  const split = [
    { upstream: "stable", weightBp: 10_000 - canaryBp },
    { upstream: "canary", weightBp: canaryBp },
  ];
  proxy.runtime.swap(
    buildSnapshot(current.config, current.configHash, current.upstreams, new Map([["web", split]])),
  );
}

/**
 * Sends `rounds` requests for each client (a key, carried as `headersOf(key)`) and returns the
 * upstream each client reached, read from what the backends received; throws if a client
 * reached both within one split.
 */
async function upstreamOfEachClient(
  fixture: StickyFixture,
  keys: readonly string[],
  headersOf: (key: string) => RequestHeaders,
  keyOf: (rawHeaders: readonly string[]) => string | undefined,
  rounds = 1,
): Promise<Map<string, string>> {
  fixture.stable.clearReceived();
  fixture.canary.clearReceived();
  const result = await hammer(`${fixture.proxy.url}/page`, {
    total: keys.length * rounds,
    concurrency: 16,
    headers: (index) => headersOf(keys[index % keys.length] ?? ""),
  });
  expect(result.byStatus).toEqual({ 200: keys.length * rounds });
  const upstreamOf = new Map<string, string>();
  for (const backend of [fixture.stable, fixture.canary]) {
    for (const request of backend.received) {
      const key = keyOf(request.rawHeaders) ?? "(none)";
      const previous = upstreamOf.get(key);
      if (previous !== undefined && previous !== backend.name) {
        throw new Error(`client ${key} reached both ${previous} and ${backend.name}`);
      }
      upstreamOf.set(key, backend.name);
    }
  }
  expect(upstreamOf.size).toBe(keys.length);
  return upstreamOf;
}

function countOf(upstreamOf: ReadonlyMap<string, string>, upstream: string): number {
  let count = 0;
  for (const name of upstreamOf.values()) if (name === upstream) count++;
  return count;
}

/** Raises the canary 5 -> 10 -> 25 and checks that clients only ever move to the canary. */
async function expectRaisesOnlyMoveToCanary(
  fixture: StickyFixture,
  keys: readonly string[],
  headersOf: (key: string) => RequestHeaders,
  keyOf: (rawHeaders: readonly string[]) => string | undefined,
): Promise<void> {
  let previous: Map<string, string> | undefined;
  for (const canaryPercent of [5, 10, 25]) {
    setCanaryPercent(fixture.proxy, canaryPercent);
    const rounds = previous === undefined ? 2 : 1;
    const current = await upstreamOfEachClient(fixture, keys, headersOf, keyOf, rounds);
    // The layout follows the weights (with 1000 keys, within a few points).
    const canaryShare = countOf(current, "canary") / keys.length;
    expect(Math.abs(canaryShare - canaryPercent / 100), `at ${canaryPercent}%`).toBeLessThan(0.04);
    if (previous !== undefined) {
      let movedToCanary = 0;
      for (const [key, upstream] of previous) {
        const now = current.get(key);
        if (upstream === "canary") expect(now, `${key} left the canary`).toBe("canary");
        else if (now === "canary") movedToCanary++;
      }
      expect(movedToCanary, `clients moved to the canary at ${canaryPercent}%`).toBeGreaterThan(0);
    }
    previous = current;
  }
}

const CLIENT_KEYS = Array.from({ length: CLIENTS }, (_, i) => `client-${i}-${(i * 7919) % 1009}`);

describe("sticky by cookie through switchyard", () => {
  let fixture: StickyFixture;

  beforeAll(async () => {
    fixture = await startStickyFixture({ cookie: "sy_id" });
  });

  afterAll(async () => {
    await stopStickyFixture(fixture);
  });

  it("keeps every client on its upstream and moves clients only to the canary as it rises", async () => {
    await expectRaisesOnlyMoveToCanary(
      fixture,
      CLIENT_KEYS,
      (key) => ({ cookie: `theme=dark; sy_id=${key}` }),
      (rawHeaders) =>
        /(?:^|; )sy_id=([^;]*)/.exec(headerValues(rawHeaders, "cookie")[0] ?? "")?.[1],
    );
  });

  it("gives a client without the cookie a new sticky id that keeps it where it landed", async () => {
    setCanaryPercent(fixture.proxy, 50);
    const seen = new Set<string>();
    const landedOn = new Map<string, number>();
    for (let client = 0; client < 40; client++) {
      const first = await get(`${fixture.proxy.url}/first`);
      expect(first.status).toBe(200);
      const setCookie = first.headers["set-cookie"];
      expect(typeof setCookie, "one Set-Cookie header").toBe("string");
      const id = STICKY_COOKIE_FORMAT.exec(String(setCookie))?.[1];
      expect(id, String(setCookie)).toBeDefined();
      if (id === undefined) return;
      expect(seen.has(id)).toBe(false);
      seen.add(id);
      const upstream = (JSON.parse(first.body) as EchoBody).name;
      landedOn.set(upstream, (landedOn.get(upstream) ?? 0) + 1);
      for (let again = 0; again < 3; again++) {
        const next = await get(`${fixture.proxy.url}/next`, { headers: { cookie: `sy_id=${id}` } });
        expect((JSON.parse(next.body) as EchoBody).name).toBe(upstream);
        expect(next.headers["set-cookie"]).toBeUndefined();
      }
    }
    // At 50/50 new ids land on both upstreams: the new id takes part in the split.
    expect(landedOn.get("stable")).toBeGreaterThan(0);
    expect(landedOn.get("canary")).toBeGreaterThan(0);
  });
});

describe("sticky by header through switchyard", () => {
  let fixture: StickyFixture;

  beforeAll(async () => {
    fixture = await startStickyFixture({ header: "X-User-Id" });
  });

  afterAll(async () => {
    await stopStickyFixture(fixture);
  });

  it("keeps every user on its upstream and moves users only to the canary as it rises", async () => {
    await expectRaisesOnlyMoveToCanary(
      fixture,
      CLIENT_KEYS,
      (key) => ({ "x-user-id": key }),
      (rawHeaders) => headerValues(rawHeaders, "x-user-id")[0],
    );
  });

  it("sets no cookie when stickiness comes from a header", async () => {
    const withHeader = await get(`${fixture.proxy.url}/`, { headers: { "x-user-id": "u-1" } });
    const withoutHeader = await get(`${fixture.proxy.url}/`);
    expect(withHeader.headers["set-cookie"]).toBeUndefined();
    expect(withoutHeader.headers["set-cookie"]).toBeUndefined();
    expect(withoutHeader.status).toBe(200);
  });
});
