/**
 * Weighted splits through the real proxy (SPEC 3.4): over 10,000 requests each upstream's
 * observed share is within one percentage point of its weight. The proxy's random source is
 * seeded so the counts are the same on every run.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SplitEntry } from "../../../src/routing/split.ts";
import { buildSnapshot } from "../../../src/runtime/snapshot.ts";
import { startEchoBackend, type EchoBackend } from "../../support/echo-backend.ts";
import { hammer } from "../../support/http-client.ts";
import { startTestSwitchyard, type TestSwitchyard } from "../../support/switchyard.ts";
import { seededRandom } from "../../unit/routing/prng.ts";

const REQUESTS = 10_000;

describe("weighted split through switchyard", () => {
  let stable: EchoBackend;
  let canary: EchoBackend;
  let proxy: TestSwitchyard;

  beforeAll(async () => {
    stable = await startEchoBackend({ name: "stable" });
    canary = await startEchoBackend({ name: "canary" });
    proxy = await startTestSwitchyard(
      {
        upstreams: { stable: { endpoints: [stable.url] }, canary: { endpoints: [canary.url] } },
        routes: [{ name: "web", split: { stable: 90, canary: 10 } }],
      },
      { random: seededRandom(20_240_611) },
    );
  });

  afterAll(async () => {
    await proxy.close();
    await stable.close();
    await canary.close();
  });

  function setSplit(entries: SplitEntry[]): void {
    const current = proxy.runtime.current;
    proxy.runtime.swap(
      buildSnapshot(
        current.config,
        current.configHash,
        current.upstreams,
        new Map([["web", entries]]),
      ),
    );
  }

  it.each([
    { stableBp: 9000, canaryBp: 1000 },
    { stableBp: 9950, canaryBp: 50 },
  ])("$stableBp/$canaryBp bp: each share within one point of its weight", async (weights) => {
    setSplit([
      { upstream: "stable", weightBp: weights.stableBp },
      { upstream: "canary", weightBp: weights.canaryBp },
    ]);
    stable.clearReceived();
    canary.clearReceived();
    const result = await hammer(`${proxy.url}/split`, { total: REQUESTS, concurrency: 16 });
    expect(result.failures).toBe(0);
    expect(result.byStatus).toEqual({ 200: REQUESTS });
    const stableCount = result.byName.stable ?? 0;
    const canaryCount = result.byName.canary ?? 0;
    expect(stableCount + canaryCount).toBe(REQUESTS);
    // The backends agree with the answers: every request reached exactly one of them.
    expect(stable.received).toHaveLength(stableCount);
    expect(canary.received).toHaveLength(canaryCount);
    const onePointOfRequests = REQUESTS / 100;
    expect(Math.abs(canaryCount - (REQUESTS * weights.canaryBp) / 10_000)).toBeLessThanOrEqual(
      onePointOfRequests,
    );
    expect(Math.abs(stableCount - (REQUESTS * weights.stableBp) / 10_000)).toBeLessThanOrEqual(
      onePointOfRequests,
    );
    // A canary at 0.5% still gets traffic: the split is not rounded to whole percents.
    expect(canaryCount).toBeGreaterThan(0);
  });
});
