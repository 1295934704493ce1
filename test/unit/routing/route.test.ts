import { describe, expect, it } from "vitest";
import type { HeaderMap } from "../../../src/routing/rules.ts";
import { compileRouteTable } from "../../../src/routing/route-table.ts";
import type { CompiledRoute } from "../../../src/routing/route.ts";
import { configWithRoutes } from "./config-fixture.ts";
import { seededRandom } from "./prng.ts";

function compileRoute(route: Record<string, unknown>, ids: string[] = []): CompiledRoute {
  const table = compileRouteTable(configWithRoutes([{ name: "web", ...route }]), undefined, {
    createStickyId: () => ids.shift() ?? "id-exhausted",
  });
  return table.get("web")!;
}

const neverCalled = (): number => {
  throw new Error("random must not be used");
};

describe("CompiledRoute.pickUpstream", () => {
  const rules = [
    { match: { headers: { "x-canary": "always" } }, to: "canary" },
    { match: { query: { legacy: "1" } }, to: "old" },
  ];

  it("sends a request to the first matching rule's upstream", () => {
    const route = compileRoute({ split: { stable: 100 }, rules });
    expect(
      route.pickUpstream({ headers: { "x-canary": "always" }, rawQuery: "legacy=1" }, neverCalled),
    ).toEqual({ upstream: "canary", by: "rule", ruleIndex: 0, newStickyId: undefined });
    expect(route.pickUpstream({ headers: {}, rawQuery: "legacy=1" }, neverCalled)).toEqual({
      upstream: "old",
      by: "rule",
      ruleIndex: 1,
      newStickyId: undefined,
    });
  });

  it("without rules matching or sticky, picks at random by weight", () => {
    const route = compileRoute({ split: { stable: 90, canary: 10 }, rules });
    expect(route.pickUpstream({ headers: {}, rawQuery: "" }, () => 0.8999)).toEqual({
      upstream: "stable",
      by: "split",
      ruleIndex: -1,
      newStickyId: undefined,
    });
    expect(route.pickUpstream({ headers: {}, rawQuery: "" }, () => 0.9).upstream).toBe("canary");
  });

  it("with sticky.cookie, sends the same cookie to the same upstream", () => {
    const route = compileRoute({ split: { stable: 50, canary: 50 }, sticky: { cookie: "sy_id" } });
    const random = seededRandom(11);
    for (let client = 0; client < 200; client++) {
      const headers = { cookie: `theme=dark; sy_id=client-${client}` };
      const first = route.pickUpstream({ headers, rawQuery: "" }, neverCalled);
      expect(first.by).toBe("sticky");
      expect(first.newStickyId).toBeUndefined();
      expect(first.upstream).toBe(route.split.pickSticky(`client-${client}`));
      for (let again = 0; again < 3; again++) {
        expect(route.pickUpstream({ headers, rawQuery: "" }, random).upstream).toBe(first.upstream);
      }
    }
  });

  it("with sticky.cookie and no cookie, creates an id and picks by it", () => {
    const ids = Array.from({ length: 100 }, (_, i) => `new-${i}`);
    const route = compileRoute({ split: { stable: 50, canary: 50 }, sticky: { cookie: "sy_id" } }, [
      ...ids,
    ]);
    for (const [i, id] of ids.entries()) {
      const headers: HeaderMap = i % 2 === 0 ? {} : { cookie: "sy_id=; other=1" };
      const pick = route.pickUpstream({ headers, rawQuery: "" }, neverCalled);
      expect(pick.newStickyId).toBe(id);
      expect(pick.by).toBe("sticky");
      // The client's next request, carrying the new cookie, lands on the same upstream.
      const next = route.pickUpstream(
        { headers: { cookie: `sy_id=${id}` }, rawQuery: "" },
        neverCalled,
      );
      expect(next.upstream).toBe(pick.upstream);
      expect(next.newStickyId).toBeUndefined();
    }
  });

  it("with sticky.cookie, gives a new client its id even when a rule decides", () => {
    const route = compileRoute({ split: { stable: 100 }, rules, sticky: { cookie: "sy_id" } }, [
      "fresh",
    ]);
    const pick = route.pickUpstream(
      { headers: { "x-canary": "always" }, rawQuery: "" },
      neverCalled,
    );
    expect(pick).toEqual({ upstream: "canary", by: "rule", ruleIndex: 0, newStickyId: "fresh" });
  });

  it("with sticky.header, is sticky on the header and random without it", () => {
    const route = compileRoute({
      split: { stable: 50, canary: 50 },
      sticky: { header: "X-User-Id" },
    });
    expect(route.sticky).toEqual({ cookie: undefined, header: "x-user-id" });
    const sticky = route.pickUpstream(
      { headers: { "x-user-id": "u-42" }, rawQuery: "" },
      neverCalled,
    );
    expect(sticky).toEqual({
      upstream: route.split.pickSticky("u-42"),
      by: "sticky",
      ruleIndex: -1,
      newStickyId: undefined,
    });
    const random = route.pickUpstream({ headers: {}, rawQuery: "" }, () => 0.99);
    expect(random).toEqual({
      upstream: "canary",
      by: "split",
      ruleIndex: -1,
      newStickyId: undefined,
    });
  });

  it("does not read the Cookie header when neither rules nor sticky need it", () => {
    const route = compileRoute({ split: { stable: 100 }, rules });
    let cookieReads = 0;
    const headers: HeaderMap = {
      get cookie(): string {
        cookieReads++;
        return "sy_id=x";
      },
    };
    expect(route.pickUpstream({ headers, rawQuery: "" }, () => 0).upstream).toBe("stable");
    expect(cookieReads).toBe(0);
  });

  it("uses crypto.randomUUID for new sticky ids by default", () => {
    const table = compileRouteTable(
      configWithRoutes([{ name: "web", split: { stable: 100 }, sticky: { cookie: "sy_id" } }]),
    );
    const pick = table.get("web")!.pickUpstream({ headers: {}, rawQuery: "" }, neverCalled);
    expect(pick.newStickyId).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
  });
});
