/**
 * Split picks follow the weights (SPEC 3.4): exactly over the 10,000 buckets, within one
 * percentage point over many random picks, and in proportion among the available upstreams
 * when fallback skips some (SPEC 3.5).
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { configSchema } from "../../src/config/schema.ts";
import { FULL_SPLIT_BP, bpToPercent } from "../../src/config/units.ts";
import { compileRouteTable } from "../../src/routing/route-table.ts";
import type { CompiledRoute } from "../../src/routing/route.ts";
import { pickAvailable } from "../../src/routing/split.ts";
import { seededRandom } from "../unit/routing/prng.ts";
import { propertyRuns } from "./property-runs.ts";
import { UPSTREAM_NAMES, anyWeightsBp, splitOf } from "./split-arbitraries.ts";

/**
 * Over N independent picks the share of an upstream of weight p has a standard deviation of
 * sqrt(p(1-p)/N) <= 0.5/sqrt(N). With N = 100,000 that is at most 0.16 point, so the one-point
 * bound sits 6.3 standard deviations out: a false failure has odds below 1e-9 per upstream.
 */
const PICKS = 100_000;
const BOUND = 0.01;

function routeWith(weights: readonly number[]): CompiledRoute {
  const names = weights.map((_, i) => UPSTREAM_NAMES[i] ?? "");
  const config = configSchema.parse({
    upstreams: Object.fromEntries(
      names.map((name, i) => [name, { endpoints: [`http://127.0.0.1:${i + 1}`] }]),
    ),
    routes: [
      {
        name: "web",
        split: Object.fromEntries(names.map((name, i) => [name, bpToPercent(weights[i] ?? 0)])),
      },
    ],
  });
  const route = compileRouteTable(config).get("web");
  if (route === undefined) throw new Error("route web was not compiled");
  return route;
}

function countBy(names: readonly string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const name of names) counts.set(name, (counts.get(name) ?? 0) + 1);
  return counts;
}

describe("split picks (property)", () => {
  it("give each upstream exactly as many of the 10,000 buckets as its weight", () => {
    fc.assert(
      fc.property(anyWeightsBp, (weights) => {
        const split = splitOf(weights);
        const counts = new Map<string, number>();
        for (let bucket = 0; bucket < FULL_SPLIT_BP; bucket++) {
          const upstream = split.pickByBucket(bucket);
          counts.set(upstream, (counts.get(upstream) ?? 0) + 1);
        }
        for (const { upstream, weightBp } of split.entries) {
          expect(counts.get(upstream) ?? 0, upstream).toBe(weightBp);
        }
      }),
      propertyRuns(100),
    );
  });

  it("stay within one point of the weights over 100,000 random picks of a route", () => {
    fc.assert(
      fc.property(anyWeightsBp, fc.integer(), (weights, seed) => {
        const route = routeWith(weights);
        const random = seededRandom(seed);
        const input = { headers: {}, rawQuery: "" };
        const counts = new Map<string, number>();
        for (let i = 0; i < PICKS; i++) {
          const { upstream } = route.pickUpstream(input, random);
          counts.set(upstream, (counts.get(upstream) ?? 0) + 1);
        }
        for (const { upstream, weightBp } of route.split.entries) {
          const share = (counts.get(upstream) ?? 0) / PICKS;
          expect(Math.abs(share - weightBp / FULL_SPLIT_BP), upstream).toBeLessThanOrEqual(BOUND);
        }
      }),
      propertyRuns(40),
    );
  });

  it("share the available upstreams' slots exactly by weight when fallback skips some", () => {
    const availability = fc.array(fc.boolean(), {
      minLength: UPSTREAM_NAMES.length,
      maxLength: UPSTREAM_NAMES.length,
    });
    fc.assert(
      fc.property(anyWeightsBp, availability, (weights, isUp) => {
        const split = splitOf(weights);
        const up = new Set(split.entries.filter((_, i) => isUp[i] === true).map((e) => e.upstream));
        const isAvailable = (upstream: string): boolean => up.has(upstream);
        const available = split.entries.filter((e) => isAvailable(e.upstream));
        const totalBp = available.reduce((sum, e) => sum + e.weightBp, 0);
        // Weight-0 upstreams alone are picked uniformly: one slot each.
        const slots = totalBp === 0 ? available.length : totalBp;
        // One pick per slot: the random value falls in the middle of slot k.
        const picks = Array.from({ length: slots }, (_, k) =>
          pickAvailable(split, isAvailable, () => (k + 0.5) / slots),
        );
        if (available.length === 0) {
          expect(pickAvailable(split, isAvailable, Math.random)).toBeUndefined();
          return;
        }
        const counts = countBy(picks.map((pick) => pick ?? "(none)"));
        for (const entry of available) {
          const expected = totalBp === 0 ? 1 : entry.weightBp;
          expect(counts.get(entry.upstream) ?? 0, entry.upstream).toBe(expected);
        }
        expect([...counts.keys()].every((name) => isAvailable(name))).toBe(true);
      }),
      propertyRuns(100),
    );
  });
});
