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

function started(): ControllerHarness {
  const h = controllerHarness();
  h.controller.initialize(CONFIG, new Map());
  h.stats.set("stable", windowOf(900));
  h.stats.set("canary", windowOf(100));
  return h;
}

function act(h: ControllerHarness, action: string, route = "web") {
  return h.controller.act(route, action, "alice", CONFIG);
}

describe("pause and resume", () => {
  it("pause stops the evaluations at once; manual weights are no longer blocked", () => {
    const h = started();
    h.clock.advance(2 * TICK_MS);
    const paused = act(h, "pause");
    expect(paused).toMatchObject({ ok: true, value: { phase: "paused", stepPercent: 10 } });
    expect(h.controller.isBlockingWeights("web")).toBe(false);
    // Even a decisive failure is not acted on while paused.
    h.stats.set("canary", windowOf(200, 80));
    h.clock.advance(4 * INTERVAL_MS);
    expect(h.eventsOf("rollout.decision")).toEqual([]);
    expect(h.splits.calls).toHaveLength(1);
    expect(h.persistence.saved.get("web")).toMatchObject({ phase: "paused" });
    expect(h.eventsOf("rollout.action").at(-1)).toMatchObject({
      actor: "alice",
      phase: "paused",
      reason: "paused by alice",
    });
  });

  it("resume starts a fresh window and a whole new interval", () => {
    const h = started();
    h.clock.advance(3 * TICK_MS);
    act(h, "pause");
    h.clock.advance(10 * TICK_MS + 500);
    const resumedAtMs = h.clock.now();
    expect(act(h, "resume")).toMatchObject({ ok: true, value: { phase: "progressing" } });
    expect(h.stats.resets.at(-1)).toEqual({ route: "web", fromMs: resumedAtMs });
    expect(h.controller.isBlockingWeights("web")).toBe(true);
    // Ticks stay on their one-second grid: the first at or after resume + interval decides.
    h.clock.advance(INTERVAL_MS - 1);
    expect(h.eventsOf("rollout.decision")).toEqual([]);
    h.clock.advance(TICK_MS);
    expect(h.eventsOf("rollout.decision")).toMatchObject([{ verdict: "advance" }]);
    expect(h.controller.status("web")?.stepPercent).toBe(50);
  });
});

describe("promote and abort", () => {
  it("promote puts the target at 100% now, from any running phase", () => {
    const h = started();
    h.clock.advance(TICK_MS);
    const result = act(h, "promote");
    expect(result).toMatchObject({ ok: true, value: { phase: "promoted" } });
    expect(h.splits.calls.at(-1)).toMatchObject({
      actor: "alice",
      source: "rollout",
      weights: { stable: 0, canary: 100 },
      atMs: h.clock.now(),
    });
    expect(h.controller.isBlockingWeights("web")).toBe(false);
    h.clock.advance(3 * INTERVAL_MS);
    expect(h.eventsOf("rollout.decision")).toEqual([]);
  });

  it("abort puts the target at 0% now, also from paused", () => {
    const h = started();
    act(h, "pause");
    expect(act(h, "abort")).toMatchObject({ ok: true, value: { phase: "rolledBack" } });
    expect(h.splits.last).toEqual({ stable: 100, canary: 0 });
    expect(h.persistence.saved.get("web")).toMatchObject({ phase: "rolledBack" });
  });

  it("start begins again at the first step, from a finished rollout", () => {
    const h = started();
    act(h, "abort");
    expect(act(h, "start")).toMatchObject({
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
    it(`${name}: 409, and nothing changes`, () => {
      const h = started();
      for (const step of setup) expect(act(h, step).ok).toBe(true);
      const splitsBefore = h.splits.calls.length;
      const result = act(h, action);
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

  it("an unknown action is 404 and lists the actions", () => {
    const h = started();
    expect(act(h, "restart")).toEqual({
      ok: false,
      error: {
        status: 404,
        code: "SWITCHYARD_UNKNOWN_ACTION",
        message:
          'unknown rollout action "restart" (one of start, pause, resume, approve, promote, abort)',
      },
    });
  });

  it("an unknown route is 404", () => {
    const h = started();
    expect(act(h, "pause", "nope")).toMatchObject({
      ok: false,
      error: { status: 404, code: "SWITCHYARD_UNKNOWN_ROUTE" },
    });
  });

  it("a route without a rollout block is 409", () => {
    const h = controllerHarness();
    const config = rolloutConfig(POLICY, [
      { name: "api", match: { pathPrefix: "/api" }, split: { stable: 100 } },
    ]);
    h.controller.initialize(config, new Map());
    expect(h.controller.act("api", "start", "alice", config)).toEqual({
      ok: false,
      error: {
        status: 409,
        code: "SWITCHYARD_NO_ROLLOUT",
        message: 'route "api" has no rollout block in the config',
      },
    });
  });
});
