/**
 * SPEC 5: an operator's actions on a rollout (pause, resume, approve, promote, abort, start)
 * act at once; an action the phase does not allow is refused with 409 and a sentence naming
 * the phase; an unknown action or route is 404.
 */
import { describe, expect, it } from "vitest";
import { TICK_MS } from "../../../src/rollout/rollout-controller.ts";
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
const CONFIG = rolloutConfig(POLICY);

async function started(extra: Record<string, unknown> = {}): Promise<ControllerHarness> {
  const h = controllerHarness();
  await h.controller.initialize(rolloutConfig({ ...POLICY, ...extra }), new Map());
  h.stats.set("stable", windowOf(900));
  h.stats.set("canary", windowOf(100));
  return h;
}

function act(h: ControllerHarness, action: string, route = "web") {
  return h.controller.act(route, action, "alice", CONFIG);
}

describe("pause and resume", () => {
  it("pause stops the evaluations at once; manual weights are no longer blocked", async () => {
    const h = await started();
    await h.clock.advanceAsync(2 * TICK_MS);
    const paused = await act(h, "pause");
    expect(paused).toMatchObject({ ok: true, value: { phase: "paused", stepPercent: 10 } });
    expect(h.controller.isBlockingWeights("web")).toBe(false);
    // Even a decisive failure is not acted on while paused.
    h.stats.set("canary", windowOf(200, 80));
    await h.clock.advanceAsync(4 * INTERVAL_MS);
    expect(h.eventsOf("rollout.decision")).toEqual([]);
    expect(h.splits.calls).toHaveLength(1);
    expect(h.persistence.saved.get("web")).toMatchObject({ phase: "paused" });
    expect(h.eventsOf("rollout.action").at(-1)).toMatchObject({
      actor: "alice",
      phase: "paused",
      reason: "paused by alice",
    });
  });

  it("resume starts a fresh window and a whole new interval", async () => {
    const h = await started();
    await h.clock.advanceAsync(3 * TICK_MS);
    await act(h, "pause");
    await h.clock.advanceAsync(10 * TICK_MS + 500);
    const resumedAtMs = h.clock.now();
    expect(await act(h, "resume")).toMatchObject({ ok: true, value: { phase: "progressing" } });
    expect(h.stats.resets.at(-1)).toEqual({ route: "web", fromMs: resumedAtMs });
    expect(h.controller.isBlockingWeights("web")).toBe(true);
    // Ticks stay on their one-second grid: the first at or after resume + interval decides.
    await h.clock.advanceAsync(INTERVAL_MS - 1);
    expect(h.eventsOf("rollout.decision")).toEqual([]);
    await h.clock.advanceAsync(TICK_MS);
    expect(h.eventsOf("rollout.decision")).toMatchObject([{ verdict: "advance" }]);
    expect(h.controller.status("web")?.stepPercent).toBe(50);
  });
});

describe("promote and abort", () => {
  it("promote puts the target at 100% now, from any running phase", async () => {
    const h = await started();
    await h.clock.advanceAsync(TICK_MS);
    const result = await act(h, "promote");
    expect(result).toMatchObject({ ok: true, value: { phase: "promoted" } });
    expect(h.splits.calls.at(-1)).toMatchObject({
      actor: "alice",
      source: "rollout",
      weights: { stable: 0, canary: 100 },
      atMs: h.clock.now(),
    });
    expect(h.controller.isBlockingWeights("web")).toBe(false);
    await h.clock.advanceAsync(3 * INTERVAL_MS);
    expect(h.eventsOf("rollout.decision")).toEqual([]);
  });

  it("abort puts the target at 0% now, also from paused", async () => {
    const h = await started();
    await act(h, "pause");
    expect(await act(h, "abort")).toMatchObject({ ok: true, value: { phase: "rolledBack" } });
    expect(h.splits.last).toEqual({ stable: 100, canary: 0 });
    expect(h.persistence.saved.get("web")).toMatchObject({ phase: "rolledBack" });
  });

  it("start begins again at the first step, from a finished rollout", async () => {
    const h = await started();
    await act(h, "abort");
    expect(await act(h, "start")).toMatchObject({
      ok: true,
      value: { phase: "progressing", stepIndex: 0, failures: 0 },
    });
    expect(h.splits.last).toEqual({ stable: 90, canary: 10 });
    expect(h.splits.calls.at(-1)?.actor).toBe("alice");
  });
});

describe("refusals", () => {
  const cases: { name: string; setup: string[]; action: string; phase: string }[] = [
    { name: "resume while progressing", setup: [], action: "resume", phase: "progressing" },
    { name: "approve while progressing", setup: [], action: "approve", phase: "progressing" },
    { name: "pause while paused", setup: ["pause"], action: "pause", phase: "paused" },
    { name: "approve while paused", setup: ["pause"], action: "approve", phase: "paused" },
    { name: "promote once promoted", setup: ["promote"], action: "promote", phase: "promoted" },
    { name: "pause once promoted", setup: ["promote"], action: "pause", phase: "promoted" },
    { name: "resume once promoted", setup: ["promote"], action: "resume", phase: "promoted" },
    { name: "abort once rolled back", setup: ["abort"], action: "abort", phase: "rolledBack" },
    { name: "pause once rolled back", setup: ["abort"], action: "pause", phase: "rolledBack" },
  ];
  for (const { name, setup, action, phase } of cases) {
    it(`${name}: 409, and nothing changes`, async () => {
      const h = await started();
      for (const step of setup) expect((await act(h, step)).ok).toBe(true);
      const splitsBefore = h.splits.calls.length;
      const result = await act(h, action);
      expect(result).toEqual({
        ok: false,
        error: {
          status: 409,
          code: "SWITCHYARD_ROLLOUT_PHASE",
          message: `cannot ${action} the rollout on route "web" while it is ${phase}`,
        },
      });
      expect(h.controller.status("web")?.phase).toBe(phase);
      expect(h.splits.calls).toHaveLength(splitsBefore);
    });
  }

  it("an unknown action is 404 and lists the actions", async () => {
    const h = await started();
    expect(await act(h, "restart")).toEqual({
      ok: false,
      error: {
        status: 404,
        code: "SWITCHYARD_UNKNOWN_ACTION",
        message:
          'unknown rollout action "restart" (one of start, pause, resume, approve, promote, abort)',
      },
    });
  });

  it("an unknown route is 404", async () => {
    const h = await started();
    expect(await act(h, "pause", "nope")).toMatchObject({
      ok: false,
      error: { status: 404, code: "SWITCHYARD_UNKNOWN_ROUTE" },
    });
  });

  it("a route without a rollout block is 409", async () => {
    const h = controllerHarness();
    const config = rolloutConfig(POLICY, [
      { name: "api", match: { pathPrefix: "/api" }, split: { stable: 100 } },
    ]);
    await h.controller.initialize(config, new Map());
    expect(await h.controller.act("api", "start", "alice", config)).toEqual({
      ok: false,
      error: {
        status: 409,
        code: "SWITCHYARD_NO_ROLLOUT",
        message: 'route "api" has no rollout block in the config',
      },
    });
  });
});

describe("safe verbs (SPEC 12)", () => {
  it.each([
    { name: "progressing", setup: [] },
    { name: "waitingApproval", setup: ["waitForApproval"] },
    { name: "paused", setup: ["pause"] },
  ])("start is refused with 409 while the rollout is $name", async ({ setup }) => {
    const h = await started();
    await h.clock.advanceAsync(INTERVAL_MS);
    expect(h.controller.status("web")?.stepPercent).toBe(50);
    if (setup.includes("pause")) await act(h, "pause");
    if (setup.includes("waitForApproval")) {
      await h.controller.configApplied(rolloutConfig({ ...POLICY, approvalBefore: [100] }));
      await h.clock.advanceAsync(INTERVAL_MS);
      expect(h.controller.status("web")?.phase).toBe("waitingApproval");
    }
    const writesBefore = h.splits.calls.length;
    const result = await act(h, "start");
    expect(result).toMatchObject({
      ok: false,
      error: { status: 409, code: "SWITCHYARD_ROLLOUT_PHASE", message: /abort it first/ },
    });
    expect(h.controller.status("web")?.stepPercent).toBe(50);
    expect(h.splits.calls).toHaveLength(writesBefore);
  });

  it("start after an abort begins again at the first step", async () => {
    const h = await started();
    await act(h, "abort");
    expect(await act(h, "start")).toMatchObject({
      ok: true,
      value: { phase: "progressing", stepPercent: 10 },
    });
    expect(h.splits.last).toEqual({ stable: 90, canary: 10 });
  });

  it("resume puts the step's split back after a manual change while paused", async () => {
    const h = await started();
    await act(h, "pause");
    // An operator's weights while paused (the admin path writes through the same writer).
    await h.splits.setSplit({
      route: "web",
      splitBp: [
        { upstream: "stable", weightBp: 7000 },
        { upstream: "canary", weightBp: 3000 },
      ],
      source: "admin",
      actor: "bob",
    });
    expect(await act(h, "resume")).toMatchObject({ ok: true, value: { phase: "progressing" } });
    expect(h.splits.last).toEqual({ stable: 90, canary: 10 });
    expect(h.splits.calls.at(-1)).toMatchObject({ actor: "alice", source: "rollout" });
    expect(h.eventsOf("rollout.action").at(-1)).toMatchObject({
      reason: "resumed by alice: the 10% step's split is back in force",
    });
  });
});

describe("a refused split write", () => {
  it("leaves phase, step, metrics, state and webhooks as they were", async () => {
    const h = await started({ webhooks: [{ url: "http://127.0.0.1:9/hook" }] });
    const stepsBefore = h.metrics.steps.length;
    const savedBefore = h.persistence.calls.length;
    const sentBefore = h.notifier.sent.length;
    // What the runtime answers when a reload has just dropped the target upstream.
    h.splits.refusal = {
      status: 400,
      code: "SWITCHYARD_INVALID_WEIGHTS",
      message: 'unknown upstream "canary"',
    };
    await h.clock.advanceAsync(INTERVAL_MS);
    expect(h.controller.status("web")).toMatchObject({ phase: "progressing", stepPercent: 10 });
    expect(await act(h, "promote")).toMatchObject({
      ok: false,
      error: { status: 400, code: "SWITCHYARD_INVALID_WEIGHTS" },
    });
    expect(h.controller.status("web")).toMatchObject({ phase: "progressing", stepPercent: 10 });
    expect(h.metrics.steps).toHaveLength(stepsBefore);
    expect(h.persistence.calls).toHaveLength(savedBefore);
    expect(h.notifier.sent).toHaveLength(sentBefore);
    expect(h.eventsOf("rollout.decision")).toEqual([]);
    expect(h.eventsOf("rollout.writeRefused")).toMatchObject([
      { route: "web", code: "SWITCHYARD_INVALID_WEIGHTS" },
    ]);
    // Once writes succeed again, the held decision goes through at the next tick.
    h.splits.refusal = undefined;
    await h.clock.advanceAsync(TICK_MS);
    expect(h.controller.status("web")).toMatchObject({ phase: "progressing", stepPercent: 50 });
    expect(h.eventsOf("rollout.decision")).toMatchObject([{ verdict: "advance" }]);
  });
});

describe("progressDeadline", () => {
  it("pauses a step held longer than the deadline, with the reason and a paused webhook", async () => {
    const h = await started({
      progressDeadline: "12s",
      webhooks: [{ url: "http://127.0.0.1:9/h" }],
    });
    // Too little traffic: every interval end is inconclusive and the step holds.
    h.stats.set("canary", windowOf(5));
    await h.clock.advanceAsync(11 * TICK_MS);
    expect(h.controller.status("web")?.phase).toBe("progressing");
    await h.clock.advanceAsync(TICK_MS);
    expect(h.controller.status("web")).toMatchObject({ phase: "paused", stepPercent: 10 });
    const paused = h.eventsOf("rollout.action").at(-1);
    expect(paused).toMatchObject({ actor: "rollout", phase: "paused" });
    expect(paused?.reason).toMatch(/10% step was held for 12 s, longer than progressDeadline/);
    expect(h.notifier.events.at(-1)).toBe("paused");
  });

  it("counts from the step's start: advancing steps never trips it", async () => {
    const h = await started({ progressDeadline: "8s" });
    await h.clock.advanceAsync(3 * INTERVAL_MS);
    expect(h.controller.status("web")?.phase).toBe("promoted");
    expect(h.eventsOf("rollout.action").filter((e) => e.phase === "paused")).toEqual([]);
  });
});
