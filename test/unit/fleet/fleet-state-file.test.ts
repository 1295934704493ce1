import { describe, expect, it } from "vitest";
import { documentToPersisted, persistedToDocument } from "../../../src/fleet/fleet-state-file.ts";
import { persistedStateSchema } from "../../../src/state/state-schema.ts";
import type { FleetDocumentBody } from "../../../src/fleet/fleet-document.ts";

const AT = "2025-01-02T03:04:05.000Z";

describe("the fleet document as a state file", () => {
  it("converts both ways without losing anything, in the file's valid format", () => {
    const body: FleetDocumentBody = {
      overrides: {
        web: {
          weights: { stable: 90, canary: 10 },
          source: "rollout",
          setBy: "rollout",
          setAt: AT,
          fileSplit: { stable: 100 },
        },
      },
      rollouts: { web: { phase: "progressing" }, api: { phase: "paused" } },
      endpointStates: {
        canary: { "http://10.0.0.1:80": { state: "drain", setBy: "ops", setAt: AT } },
      },
    };
    const persisted = documentToPersisted(body);
    expect(persistedStateSchema.parse(persisted)).toEqual(persisted);
    expect(persisted.routes.api).toEqual({ override: null, rollout: { phase: "paused" } });
    expect(persistedToDocument(persisted)).toEqual(body);
  });

  it("writes no upstreams when there are no endpoint states", () => {
    const persisted = documentToPersisted({ overrides: {}, rollouts: {}, endpointStates: {} });
    expect(persisted).not.toHaveProperty("upstreams");
  });
});
