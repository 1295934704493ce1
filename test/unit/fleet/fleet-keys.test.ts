import { describe, expect, it } from "vitest";
import { fleetKeys } from "../../../src/fleet/fleet-keys.ts";

describe("fleetKeys", () => {
  it("puts every key and channel of a fleet under switchyard:<name>:", () => {
    const keys = fleetKeys("shop");
    const names = [
      keys.state,
      keys.stateVersion,
      keys.stateChannel,
      keys.eventSeq,
      keys.events,
      keys.lease,
      keys.leaseEpoch,
      keys.members,
      keys.member("r1"),
      keys.stats("r1", 1_700_000_000),
    ];
    for (const name of names) expect(name.startsWith("switchyard:shop:")).toBe(true);
    expect(new Set(names).size).toBe(names.length);
    expect(keys.stats("r1", 1_700_000_000)).toBe("switchyard:shop:stats:r1:1700000000");
  });

  it("keeps two fleets on one Redis apart", () => {
    expect(fleetKeys("a").state).not.toBe(fleetKeys("b").state);
  });
});
