import { describe, expect, it } from "vitest";
import { backoffDelayMs, RECONNECT_BACKOFF } from "../../../src/fleet/backoff.ts";

const POLICY = { baseMs: 100, maxMs: 2000, jitter: 0.2 };

describe("backoffDelayMs", () => {
  it("doubles from the base and stops at the cap, without jitter drawn", () => {
    const schedule = [0, 1, 2, 3, 4, 5, 6, 50].map((retries) => backoffDelayMs(retries, POLICY, 0));
    expect(schedule).toEqual([100, 200, 400, 800, 1600, 2000, 2000, 2000]);
  });

  it("takes at most the jitter's share off, and never goes over the cap", () => {
    for (const retries of [0, 3, 10]) {
      const capped = backoffDelayMs(retries, POLICY, 0);
      for (const random of [0, 0.25, 0.5, 0.999]) {
        const delay = backoffDelayMs(retries, POLICY, random);
        expect(delay).toBeLessThanOrEqual(capped);
        expect(delay).toBeGreaterThanOrEqual(Math.floor(capped * 0.8));
      }
    }
    expect(backoffDelayMs(0, POLICY, 0.5)).toBe(90);
  });

  it("stays finite for any number of retries, and treats a negative one as the first", () => {
    expect(backoffDelayMs(Number.MAX_SAFE_INTEGER, POLICY, 0)).toBe(2000);
    expect(backoffDelayMs(-3, POLICY, 0)).toBe(100);
  });

  it("caps the default schedule at its maxMs however many retries have failed", () => {
    expect(backoffDelayMs(1000, RECONNECT_BACKOFF, 0)).toBe(RECONNECT_BACKOFF.maxMs);
  });
});
