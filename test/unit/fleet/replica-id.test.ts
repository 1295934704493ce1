import { describe, expect, it } from "vitest";
import type { FleetConfig } from "../../../src/config/schema.ts";
import { defaultReplicaId, replicaIdOf } from "../../../src/fleet/replica-id.ts";

const FLEET: FleetConfig = {
  redis: "redis://127.0.0.1:6379/0",
  name: "shop",
  leaseTtl: 10_000,
  syncTimeout: 10_000,
};

describe("replica ids", () => {
  it("takes fleet.replica when set", () => {
    expect(replicaIdOf({ ...FLEET, replica: "pod-1" }, { hostname: "h", pid: 7 })).toBe("pod-1");
  });

  it("defaults to HOSTNAME-PID", () => {
    expect(replicaIdOf(FLEET, { hostname: "web-5d8f-x2", pid: 4321 })).toBe("web-5d8f-x2-4321");
  });

  it.each([
    ["a host name with characters a key part may not hold", "my host:1", "my-host-1-9"],
    ["a leading dot or dash", "-.host", "host-9"],
    ["an empty host name", "", "replica-9"],
    ["nothing usable", "::", "replica-9"],
  ])("keeps to key-safe characters with %s", (_case, hostname, id) => {
    expect(defaultReplicaId({ hostname, pid: 9 })).toBe(id);
  });

  it("stays within 64 characters and keeps the pid", () => {
    const id = defaultReplicaId({ hostname: "h".repeat(200), pid: 4_194_304 });
    expect(id).toHaveLength(64);
    expect(id.endsWith("-4194304")).toBe(true);
    expect(id).toMatch(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/);
  });
});
