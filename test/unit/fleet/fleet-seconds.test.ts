/** Local (monotonic) seconds labelled as fleet (wall) seconds, one to one. */
import { describe, expect, it } from "vitest";
import { FleetSeconds } from "../../../src/fleet/fleet-seconds.ts";
import { ManualClock } from "../../support/manual-clock.ts";

describe("FleetSeconds", () => {
  it("labels local seconds with the wall second they start closest to", () => {
    const wallStart = Date.UTC(2026, 0, 1) + 400;
    const clock = new ManualClock(5000, wallStart);
    const seconds = new FleetSeconds(clock);
    // Local second 5 starts at wall ...000.400: closest to wall second ...000.
    expect(seconds.toFleet(5)).toBe(Date.UTC(2026, 0, 1) / 1000);
    expect(seconds.toLocal(seconds.toFleet(17))).toBe(17);
    clock.advance(2000);
    expect(seconds.currentLocal()).toBe(7);
    expect(seconds.currentFleet()).toBe(seconds.toFleet(7));
  });

  it("rounds up past half a second", () => {
    const clock = new ManualClock(0, Date.UTC(2026, 0, 1) + 600);
    expect(new FleetSeconds(clock).toFleet(0)).toBe(Date.UTC(2026, 0, 1) / 1000 + 1);
  });
});
