/**
 * SPEC 5 and 6: a rollout starts when a config with a new or changed rollout block is applied,
 * carries on untouched when the block is unchanged, and stops without moving traffic when the
 * block is removed. At startup, saved progress resumes when the block is the one it was saved
 * under, with a fresh window; otherwise the rollout starts over.
 */
import { describe, expect, it } from "vitest";
import type { Config } from "../../../src/config/schema.ts";
import {
  controllerHarness,
  rolloutConfig,
  windowOf,
  type ControllerHarness,
} from "../../support/rollout-fakes.ts";

const INTERVAL_MS = 5000;
const POLICY = {
  steps: [10, 50, 100],
  interval: "5s",
  minRequests: 20,
  failureLimit: 2,
  approvalBefore: [],
  checks: [{ metric: "errorRate", max: 0.05, action: "rollback" }],
};
const OTHER_ROUTE = { name: "api", match: { pathPrefix: "/api" }, split: { stable: 100 } };

function withTimeout(config: Config, requestTimeoutMs: number): Config {
  return { ...config, server: { ...config.server, requestTimeout: requestTimeoutMs } };
}

/** Started on `config` and advanced one step (to 50%) by a passing interval. */
function atSecondStep(config: Config): ControllerHarness {
  const h = controllerHarness();
  h.controller.initialize(config, new Map());
  h.stats.set("stable", windowOf(900));
  h.stats.set("canary", windowOf(100));
  h.clock.advance(INTERVAL_MS);
  expect(h.controller.status("web")).toMatchObject({ phase: "progressing", stepPercent: 50 });
  return h;
}

describe("configApplied", () => {
  it("a new rollout block starts a rollout at its first step", () => {
    const h = controllerHarness();
    const before = rolloutConfig(undefined);
    h.controller.initialize(before, new Map());
    expect(h.controller.status("web")).toBeNull();
    expect(h.splits.calls).toEqual([]);
    h.controller.configApplied(rolloutConfig(POLICY), before);
    expect(h.controller.status("web")).toMatchObject({ phase: "progressing", stepPercent: 10 });
    expect(h.splits.calls).toMatchObject([
      { actor: "file", source: "rollout", weights: { stable: 90, canary: 10 } },
    ]);
    expect(h.stats.resets).toEqual([{ route: "web", fromMs: h.clock.now() }]);
  });

  it("an unchanged block leaves the rollout where it is", () => {
    const first = rolloutConfig(POLICY, [OTHER_ROUTE]);
    const h = atSecondStep(first);
    const actionsBefore = h.eventsOf("rollout.action").length;
    const resetsBefore = h.stats.resets.length;
    h.controller.configApplied(withTimeout(rolloutConfig(POLICY), 12_345), first);
    expect(h.controller.status("web")).toMatchObject({
      phase: "progressing",
      stepIndex: 1,
      stepPercent: 50,
    });
    expect(h.eventsOf("rollout.action")).toHaveLength(actionsBefore);
    expect(h.stats.resets).toHaveLength(resetsBefore);
    // Whatever it writes, the split is still the step's.
    expect(h.splits.last).toEqual({ stable: 50, canary: 50 });
  });

  it("a changed block starts over at the first step", () => {
    const first = rolloutConfig(POLICY);
    const h = atSecondStep(first);
    h.controller.configApplied(rolloutConfig({ ...POLICY, minRequests: 30 }), first);
    expect(h.controller.status("web")).toMatchObject({
      phase: "progressing",
      stepIndex: 0,
      stepPercent: 10,
      failures: 0,
    });
    expect(h.splits.last).toEqual({ stable: 90, canary: 10 });
  });

  it("removing the block stops the rollout without moving traffic", () => {
    const first = rolloutConfig(POLICY);
    const h = atSecondStep(first);
    const splitsBefore = h.splits.calls.length;
    h.controller.configApplied(rolloutConfig(undefined), first);
    expect(h.controller.status("web")).toBeNull();
    expect(h.controller.isBlockingWeights("web")).toBe(false);
    expect(h.splits.calls).toHaveLength(splitsBefore);
    expect(h.persistence.saved.has("web")).toBe(false);
    expect(h.metrics.phases.at(-1)).toEqual({ route: "web", phase: "idle" });
    expect(h.eventsOf("rollout.stopped")).toMatchObject([{ route: "web" }]);
    h.clock.advance(3 * INTERVAL_MS);
    expect(h.splits.calls).toHaveLength(splitsBefore);
  });

  it("removing the route forgets its rollout", () => {
    const first = rolloutConfig(POLICY);
    const h = atSecondStep(first);
    const withoutWeb: Config = { ...first, routes: [] };
    h.controller.configApplied(withoutWeb, first);
    expect(h.controller.status("web")).toBeNull();
    expect(h.persistence.saved.has("web")).toBe(false);
  });
});

describe("initialize", () => {
  function savedFrom(h: ControllerHarness): Map<string, Readonly<Record<string, unknown>>> {
    return new Map(h.persistence.saved);
  }

  it("resumes saved progress under the same policy, with a fresh window", () => {
    const config = rolloutConfig({ ...POLICY, approvalBefore: [100] });
    const before = atSecondStep(config);
    before.clock.advance(INTERVAL_MS);
    expect(before.controller.status("web")).toMatchObject({
      phase: "waitingApproval",
      stepPercent: 50,
    });
    const saved = savedFrom(before);

    const after = controllerHarness(500_000);
    after.controller.initialize(config, saved);
    expect(after.controller.status("web")).toMatchObject({
      phase: "waitingApproval",
      stepIndex: 1,
      stepPercent: 50,
      failures: 0,
      lastDecision: { verdict: "waitForApproval" },
    });
    expect(after.splits.calls).toMatchObject([
      { source: "rollout", weights: { stable: 50, canary: 50 } },
    ]);
    expect(after.stats.resets).toEqual([{ route: "web", fromMs: 500_000 }]);
    expect(after.controller.act("web", "approve", "bob", config)).toMatchObject({
      ok: true,
      value: { phase: "progressing", stepPercent: 100 },
    });
  });

  it("resumes a progressing rollout's interval from the restart", () => {
    const config = rolloutConfig(POLICY);
    const saved = savedFrom(atSecondStep(config));
    const h = controllerHarness(500_000);
    h.controller.initialize(config, saved);
    h.stats.set("stable", windowOf(900));
    h.stats.set("canary", windowOf(100));
    h.clock.advance(INTERVAL_MS - 1);
    expect(h.eventsOf("rollout.decision")).toEqual([]);
    h.clock.advance(1);
    expect(h.controller.status("web")).toMatchObject({ phase: "progressing", stepPercent: 100 });
  });

  it("starts over when the saved progress belongs to another policy", () => {
    const saved = savedFrom(atSecondStep(rolloutConfig(POLICY)));
    const h = controllerHarness();
    h.controller.initialize(rolloutConfig({ ...POLICY, steps: [20, 50, 100] }), saved);
    expect(h.controller.status("web")).toMatchObject({
      phase: "progressing",
      stepIndex: 0,
      stepPercent: 20,
      lastDecision: null,
    });
    expect(h.splits.last).toEqual({ stable: 80, canary: 20 });
  });

  it("forgets saved progress of a route that no longer has a rollout block", () => {
    const saved = savedFrom(atSecondStep(rolloutConfig(POLICY)));
    const h = controllerHarness();
    h.controller.initialize(rolloutConfig(undefined), saved);
    expect(h.controller.status("web")).toBeNull();
    expect(h.persistence.calls).toEqual([{ route: "web", record: null }]);
    expect(h.splits.calls).toEqual([]);
  });

  it("starts over on a saved record that does not look like progress", () => {
    const h = controllerHarness();
    h.controller.initialize(
      rolloutConfig(POLICY),
      new Map([["web", { policyHash: 42, phase: "sideways", stepIndex: -1 }]]),
    );
    expect(h.controller.status("web")).toMatchObject({ phase: "progressing", stepIndex: 0 });
  });
});
