/**
 * Which split overrides survive a new config (SPEC 6: the newest deliberate change wins): an
 * override stays while its route exists, the file's split for the route is the one it was set
 * against, and every upstream it names exists; otherwise it is dropped, with the reason.
 */
import { describe, expect, it } from "vitest";
import { configSchema, type Config } from "../../../src/config/schema.ts";
import {
  entriesMap,
  reconcileOverrides,
  type SplitOverride,
} from "../../../src/runtime/split-overrides.ts";
import type { SplitEntry } from "../../../src/routing/split.ts";

const ENDPOINT = "http://127.0.0.1:1";

function split(percentages: Record<string, number>): SplitEntry[] {
  return Object.entries(percentages).map(([upstream, percent]) => ({
    upstream,
    weightBp: percent * 100,
  }));
}

function config(
  routes: Record<string, Record<string, number>>,
  upstreams = ["stable", "canary"],
): Config {
  return configSchema.parse({
    upstreams: Object.fromEntries(upstreams.map((name) => [name, { endpoints: [ENDPOINT] }])),
    routes: Object.entries(routes).map(([name, routeSplit]) => ({
      name,
      match: { pathPrefix: `/${name}` },
      split: routeSplit,
    })),
  });
}

/** An operator's 50/50 on a route whose file said 90/10. */
const OVERRIDE: SplitOverride = {
  entries: split({ stable: 50, canary: 50 }),
  source: "admin",
  setBy: "ops",
  setAt: "2026-01-01T00:00:00.000Z",
  fileSplit: split({ stable: 90, canary: 10 }),
};

describe("reconcileOverrides", () => {
  it.each([
    [
      "a config that still has the route with the same file split",
      config({ web: { stable: 90, canary: 10 } }),
    ],
    ["the same split written in another order", config({ web: { canary: 10, stable: 90 } })],
    [
      "other routes changing around it",
      config({ web: { stable: 90, canary: 10 }, api: { canary: 100 } }),
    ],
  ])("keeps the override through %s", (_case, next) => {
    const { kept, dropped } = reconcileOverrides(new Map([["web", OVERRIDE]]), next);
    expect([...kept]).toEqual([["web", OVERRIDE]]);
    expect(dropped).toEqual([]);
  });

  it.each([
    ["the route is gone", config({ api: { stable: 100 } }), "the route is no longer in the config"],
    [
      "the file's split for the route changed",
      config({ web: { stable: 80, canary: 20 } }),
      "the config file's split for this route changed",
    ],
    [
      "the file's split moved to another upstream",
      config({ web: { stable: 90, legacy: 10 } }, ["stable", "legacy"]),
      "the config file's split for this route changed",
    ],
  ])("drops the override when %s, saying why", (_case, next, reason) => {
    const { kept, dropped } = reconcileOverrides(new Map([["web", OVERRIDE]]), next);
    expect(kept.size).toBe(0);
    expect(dropped).toEqual([{ route: "web", override: OVERRIDE, reason }]);
  });

  it("drops an override naming an upstream that left, when the file split did not change", () => {
    // The file's split never named canary; the override did (an operator sent traffic to it).
    const override: SplitOverride = {
      ...OVERRIDE,
      entries: split({ stable: 50, canary: 50 }),
      fileSplit: split({ stable: 100 }),
    };
    const next = config({ web: { stable: 100 } }, ["stable"]);
    const { kept, dropped } = reconcileOverrides(new Map([["web", override]]), next);
    expect(kept.size).toBe(0);
    expect(dropped).toEqual([
      { route: "web", override, reason: 'upstream "canary" is no longer in the config' },
    ]);
  });

  it("judges each route on its own", () => {
    const api: SplitOverride = {
      ...OVERRIDE,
      entries: split({ canary: 100 }),
      fileSplit: split({ stable: 100 }),
    };
    const overrides = new Map([
      ["web", OVERRIDE],
      ["api", api],
    ]);
    const next = config({ web: { stable: 90, canary: 10 }, api: { stable: 50, canary: 50 } });
    const { kept, dropped } = reconcileOverrides(overrides, next);
    expect([...kept.keys()]).toEqual(["web"]);
    expect(dropped.map((drop) => drop.route)).toEqual(["api"]);
  });
});

describe("entriesMap", () => {
  it("maps each route to its override's split", () => {
    const overrides = new Map([
      ["web", OVERRIDE],
      ["api", { ...OVERRIDE, entries: split({ canary: 100 }) }],
    ]);
    expect(entriesMap(overrides)).toEqual(
      new Map([
        ["web", split({ stable: 50, canary: 50 })],
        ["api", split({ canary: 100 })],
      ]),
    );
    expect(entriesMap(new Map())).toEqual(new Map());
  });
});
