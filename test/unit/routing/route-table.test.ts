import { describe, expect, it } from "vitest";
import { compileRouteTable } from "../../../src/routing/route-table.ts";
import { configWithRoutes } from "./config-fixture.ts";

const config = configWithRoutes([
  {
    name: "shop-api",
    match: { hosts: ["shop.example.com"], pathPrefix: "/api" },
    split: { canary: 100 },
  },
  {
    name: "shop",
    match: { hosts: ["shop.example.com", "*.shop.example.com"] },
    split: { stable: 100 },
  },
  {
    name: "wild",
    match: { hosts: ["*.example.com"], pathPrefix: "/static/" },
    split: { old: 100 },
  },
  { name: "v6", match: { hosts: ["[::1]"] }, split: { stable: 50, canary: 50 } },
  { name: "any-admin", match: { pathPrefix: "/admin" }, split: { old: 100 } },
  { name: "shadowed", match: { hosts: ["shop.example.com"] }, split: { canary: 100 } },
]);

const table = compileRouteTable(config);

describe("RouteTable.match", () => {
  it.each([
    ["shop.example.com", "/api", "shop-api"],
    ["Shop.Example.com:8080", "/api/orders", "shop-api"],
    ["shop.example.com", "/apix", "shop"],
    ["shop.example.com", "/", "shop"],
    ["eu.shop.example.com", "/api", "shop"],
    ["img.example.com", "/static/a.png", "wild"],
    ["img.example.com", "/static", undefined],
    ["example.com", "/static/a.png", undefined],
    ["[::1]:9000", "/", "v6"],
    ["unknown.test", "/admin/x", "any-admin"],
    [undefined, "/admin", "any-admin"],
    [undefined, "/", undefined],
    ["unknown.test", "/", undefined],
    ["shop.example.com", "/admin", "shop"],
  ])("%j %j -> %j", (host, path, expected) => {
    expect(table.match(host, path)?.name).toBe(expected);
  });

  it("never reaches a route shadowed by an earlier one", () => {
    expect(table.routes.map((r) => r.name)).toContain("shadowed");
    for (const path of ["/", "/x", "/api"]) {
      expect(table.match("shop.example.com", path)?.name).not.toBe("shadowed");
    }
  });

  it("looks routes up by name", () => {
    expect(table.get("v6")?.name).toBe("v6");
    expect(table.get("nope")).toBeUndefined();
  });
});

describe("compileRouteTable", () => {
  it("takes the split from the file in its order, in basis points", () => {
    const v6 = table.get("v6")!;
    expect(v6.split.entries).toEqual([
      { upstream: "stable", weightBp: 5000 },
      { upstream: "canary", weightBp: 5000 },
    ]);
    expect(v6.config.name).toBe("v6");
  });

  it("replaces a route's split with its override", () => {
    const overridden = compileRouteTable(
      config,
      new Map([
        [
          "v6",
          [
            { upstream: "stable", weightBp: 9000 },
            { upstream: "canary", weightBp: 1000 },
          ],
        ],
      ]),
    );
    expect(overridden.get("v6")!.split.entries.map((e) => e.weightBp)).toEqual([9000, 1000]);
    expect(overridden.get("shop")!.split.entries).toEqual([
      { upstream: "stable", weightBp: 10000 },
    ]);
  });

  it("refuses an override that does not sum to 100%", () => {
    expect(() =>
      compileRouteTable(config, new Map([["v6", [{ upstream: "stable", weightBp: 10 }]]])),
    ).toThrow(RangeError);
  });
});
