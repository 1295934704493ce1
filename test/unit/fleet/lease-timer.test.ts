import { describe, expect, it } from "vitest";
import { LeaseTimer } from "../../../src/fleet/lease-timer.ts";

describe("LeaseTimer", () => {
  it("trusts a lease from the send time of its last confirmation until ttl minus the margin", () => {
    const timer = new LeaseTimer({ ttlMs: 3000, marginMs: 1000 });
    expect(timer.isValid(0)).toBe(false);
    timer.confirmed(100);
    expect(timer.isValid(2099)).toBe(true);
    expect(timer.isValid(2100)).toBe(false);
    expect(timer.msLeft(1100)).toBe(1000);
    expect(timer.msLeft(5000)).toBe(0);
  });

  it("is not moved back by a late answer to an older command", () => {
    const timer = new LeaseTimer({ ttlMs: 3000, marginMs: 1000 });
    timer.confirmed(1000);
    timer.confirmed(500);
    expect(timer.isValid(2500)).toBe(true);
  });

  it("forgets the lease on reset", () => {
    const timer = new LeaseTimer({ ttlMs: 3000, marginMs: 1000 });
    timer.confirmed(0);
    timer.reset();
    expect(timer.isValid(1)).toBe(false);
    expect(timer.msLeft(1)).toBe(0);
  });

  it("refuses a margin that leaves no time", () => {
    expect(() => new LeaseTimer({ ttlMs: 3000, marginMs: 3000 })).toThrow(RangeError);
    expect(() => new LeaseTimer({ ttlMs: 3000, marginMs: -1 })).toThrow(RangeError);
  });
});
