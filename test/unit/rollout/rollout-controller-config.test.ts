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
async function atSecondStep(config: Config): Promise<ControllerHarness> {
  const h = controllerHarness();
  await h.controller.initialize(config, new Map());
  h.stats.set("stable", windowOf(900));
  h.stats.set("canary", windowOf(100));
  await h.clock.advanceAsync(INTERVAL_MS);
  expect(h.controller.status("web")).toMatchObject({ phase: "progressing", stepPercent: 50 });
  return h;
}

describe("configApplied", () => {
  it("a new rollout block starts a rollout at its first step", async () => {
    const h = controllerHarness();
    const before = rolloutConfig(undefined);
    await h.controller.initialize(before, new Map());
    expect(h.controller.status("web")).toBeNull();
    expect(h.splits.calls).toEqual([]);
    await h.controller.configApplied(rolloutConfig(POLICY));
    expect(h.controller.status("web")).toMatchObject({ phase: "progressing", stepPercent: 10 });
    expect(h.splits.calls).toMatchObject([
      { actor: "file", source: "rollout", weights: { stable: 90, canary: 10 } },
    ]);
    expect(h.stats.resets).toEqual([{ route: "web", fromMs: h.clock.now() }]);
  });

  it("an unchanged block leaves the rollout where it is", async () => {
    const first = rolloutConfig(POLICY, [OTHER_ROUTE]);
    const h = await atSecondStep(first);
    const actionsBefore = h.eventsOf("rollout.action").length;
    const resetsBefore = h.stats.resets.length;
    await h.controller.configApplied(withTimeout(rolloutConfig(POLICY), 12_345));
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

  it.each([
    { name: "steps", change: { steps: [20, 60, 100] }, firstStep: 20 },
    {
      name: "target and baseline",
      change: { target: "stable", baseline: "canary" },
      firstStep: 10,
    },
  ])("a change of its $name starts it over at the first step", async ({ change, firstStep }) => {
    const first = rolloutConfig(POLICY);
    const h = await atSecondStep(first);
    await h.controller.configApplied(rolloutConfig({ ...POLICY, ...change }));
    expect(h.controller.status("web")).toMatchObject({
      phase: "progressing",
      stepIndex: 0,
      stepPercent: firstStep,
      failures: 0,
    });
    expect(h.eventsOf("rollout.action").at(-1)).toMatchObject({
      actor: "file",
      stepPercent: firstStep,
    });
  });

  it("any other edit applies to the running rollout without moving it", async () => {
    const first = rolloutConfig(POLICY);
    const h = await atSecondStep(first);
    const writesBefore = h.splits.calls.length;
    const stricter = {
      ...POLICY,
      minRequests: 500,
      webhooks: [{ url: "http://127.0.0.1:9/hook" }],
    };
    await h.controller.configApplied(rolloutConfig(stricter));
    expect(h.controller.status("web")).toMatchObject({ phase: "progressing", stepPercent: 50 });
    expect(h.splits.calls).toHaveLength(writesBefore);
    // The new minRequests is in force: 100 canary requests are now too few to advance.
    await h.clock.advanceAsync(INTERVAL_MS);
    expect(h.eventsOf("rollout.decision").at(-1)).toMatchObject({ verdict: "inconclusive" });
    expect(h.controller.status("web")?.stepPercent).toBe(50);
  });

  it("removing the block stops the rollout without moving traffic", async () => {
    const first = rolloutConfig(POLICY);
    const h = await atSecondStep(first);
    const splitsBefore = h.splits.calls.length;
    await h.controller.configApplied(rolloutConfig(undefined));
    expect(h.controller.status("web")).toBeNull();
    expect(h.controller.isBlockingWeights("web")).toBe(false);
    expect(h.splits.calls).toHaveLength(splitsBefore);
    expect(h.persistence.saved.has("web")).toBe(false);
    expect(h.metrics.phases.at(-1)).toEqual({ route: "web", phase: "idle" });
    expect(h.eventsOf("rollout.stopped")).toMatchObject([{ route: "web" }]);
    await h.clock.advanceAsync(3 * INTERVAL_MS);
    expect(h.splits.calls).toHaveLength(splitsBefore);
  });

  it("removing the route forgets its rollout", async () => {
    const first = rolloutConfig(POLICY);
    const h = await atSecondStep(first);
    const withoutWeb: Config = { ...first, routes: [] };
    await h.controller.configApplied(withoutWeb);
    expect(h.controller.status("web")).toBeNull();
    expect(h.persistence.saved.has("web")).toBe(false);
  });
});

describe("initialize", () => {
  function savedFrom(h: ControllerHarness): Map<string, Readonly<Record<string, unknown>>> {
    return new Map(h.persistence.saved);
  }

  it("resumes saved progress under the same policy, with a fresh window", async () => {
    const config = rolloutConfig({ ...POLICY, approvalBefore: [100] });
    const before = await atSecondStep(config);
    await before.clock.advanceAsync(INTERVAL_MS);
    expect(before.controller.status("web")).toMatchObject({
      phase: "waitingApproval",
      stepPercent: 50,
    });
    const saved = savedFrom(before);

    const after = controllerHarness(500_000);
    await after.controller.initialize(config, saved);
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
    expect(await after.controller.act("web", "approve", "bob", config)).toMatchObject({
      ok: true,
      value: { phase: "progressing", stepPercent: 100 },
    });
  });

  it("resumes a progressing rollout's interval from the restart", async () => {
    const config = rolloutConfig(POLICY);
    const saved = savedFrom(await atSecondStep(config));
    const h = controllerHarness(500_000);
    await h.controller.initialize(config, saved);
    h.stats.set("stable", windowOf(900));
    h.stats.set("canary", windowOf(100));
    await h.clock.advanceAsync(INTERVAL_MS - 1);
    expect(h.eventsOf("rollout.decision")).toEqual([]);
    await h.clock.advanceAsync(1);
    expect(h.controller.status("web")).toMatchObject({ phase: "progressing", stepPercent: 100 });
  });

  it("starts over when the saved progress belongs to another policy", async () => {
    const saved = savedFrom(await atSecondStep(rolloutConfig(POLICY)));
    const h = controllerHarness();
    await h.controller.initialize(rolloutConfig({ ...POLICY, steps: [20, 50, 100] }), saved);
    expect(h.controller.status("web")).toMatchObject({
      phase: "progressing",
      stepIndex: 0,
      stepPercent: 20,
      lastDecision: null,
    });
    expect(h.splits.last).toEqual({ stable: 80, canary: 20 });
  });

  it("forgets saved progress of a route that no longer has a rollout block", async () => {
    const saved = savedFrom(await atSecondStep(rolloutConfig(POLICY)));
    const h = controllerHarness();
    await h.controller.initialize(rolloutConfig(undefined), saved);
    expect(h.controller.status("web")).toBeNull();
    expect(h.persistence.calls).toEqual([{ route: "web", record: null }]);
    expect(h.splits.calls).toEqual([]);
  });

  it("starts over on a saved record that does not look like progress", async () => {
    const h = controllerHarness();
    await h.controller.initialize(
      rolloutConfig(POLICY),
      new Map([["web", { policyHash: 42, phase: "sideways", stepIndex: -1 }]]),
    );
    expect(h.controller.status("web")).toMatchObject({ phase: "progressing", stepIndex: 0 });
  });
});
