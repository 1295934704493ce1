/**
 * SPEC 5: the rollout controller on a manual clock. Statistics are scripted per upstream, the
 * split writer, webhooks, metrics and persistence are recorders, the event log is real; time
 * moves only by `clock.advance`, which runs the controller's one-second ticker.
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
const START_MS = 10_000;

function policy(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    steps: [10, 50, 100],
    interval: "5s",
    minRequests: 20,
    failureLimit: 2,
    approvalBefore: [],
    checks: [{ metric: "errorRate", max: 0.05, action: "rollback" }],
    ...extra,
  };
}

async function started(extra: Record<string, unknown> = {}): Promise<ControllerHarness> {
  const h = controllerHarness(START_MS);
  await h.controller.initialize(rolloutConfig(policy(extra)), new Map());
  return h;
}

function phaseOf(h: ControllerHarness): string | undefined {
  return h.controller.status("web")?.phase;
}

/** Healthy traffic on both sides: 100 requests each, no failures. */
function healthy(h: ControllerHarness): void {
  h.stats.set("canary", windowOf(100));
  h.stats.set("stable", windowOf(900));
}

describe("starting a rollout", () => {
  it("applies the first step at once, as the rollout, and starts a fresh window", async () => {
    const h = await started();
    expect(h.splits.calls).toEqual([
      {
        route: "web",
        actor: "file",
        source: "rollout",
        weights: { stable: 90, canary: 10 },
        atMs: START_MS,
      },
    ]);
    expect(h.controller.status("web")).toMatchObject({
      phase: "progressing",
      target: "canary",
      baseline: "stable",
      stepIndex: 0,
      stepPercent: 10,
      failures: 0,
      lastDecision: null,
    });
    expect(h.stats.resets).toEqual([{ route: "web", fromMs: START_MS }]);
    expect(h.controller.isBlockingWeights("web")).toBe(true);
    expect(h.persistence.saved.get("web")).toMatchObject({ phase: "progressing", stepIndex: 0 });
    expect(h.metrics.steps).toEqual([{ route: "web", target: "canary", percent: 10 }]);
    expect(h.eventsOf("rollout.action")).toHaveLength(1);
  });

  it("ticks once a second and decides nothing before the interval ends", async () => {
    const h = await started();
    healthy(h);
    await h.clock.advanceAsync(INTERVAL_MS - 1);
    expect(h.stats.reads.map((r) => r.nowMs)).toEqual([11_000, 12_000, 13_000, 14_000]);
    expect(h.eventsOf("rollout.decision")).toEqual([]);
    expect(h.splits.calls).toHaveLength(1);
    expect(TICK_MS).toBe(1000);
  });
});

describe("interval ends", () => {
  it("advances on passing statistics and applies the next step with a fresh window", async () => {
    const h = await started();
    healthy(h);
    await h.clock.advanceAsync(INTERVAL_MS);
    expect(h.controller.status("web")).toMatchObject({
      phase: "progressing",
      stepIndex: 1,
      stepPercent: 50,
    });
    expect(h.splits.last).toEqual({ stable: 50, canary: 50 });
    expect(h.splits.calls[1]).toMatchObject({ actor: "rollout", source: "rollout" });
    expect(h.stats.resets.at(-1)).toEqual({ route: "web", fromMs: START_MS + INTERVAL_MS });
    const [decision] = h.eventsOf("rollout.decision");
    expect(decision).toMatchObject({
      route: "web",
      verdict: "advance",
      isFast: false,
      phase: "progressing",
      stepPercent: 50,
      metrics: { requests: 100, failures: 0, errorRate: 0, baselineRequests: 900 },
    });
    expect(decision?.reason).toContain("advancing from 10% to 50%");
    // The next step is judged a whole interval later.
    await h.clock.advanceAsync(INTERVAL_MS - 1);
    expect(h.eventsOf("rollout.decision")).toHaveLength(1);
    await h.clock.advanceAsync(1);
    expect(h.controller.status("web")?.stepPercent).toBe(100);
  });

  it("promotes when the last step passes: target 100%, no more decisions", async () => {
    const h = await started();
    healthy(h);
    await h.clock.advanceAsync(3 * INTERVAL_MS);
    expect(h.eventsOf("rollout.decision").map((e) => e.verdict)).toEqual([
      "advance",
      "advance",
      "promote",
    ]);
    expect(phaseOf(h)).toBe("promoted");
    expect(h.splits.last).toEqual({ stable: 0, canary: 100 });
    expect(h.controller.isBlockingWeights("web")).toBe(false);
    expect(h.persistence.saved.get("web")).toMatchObject({ phase: "promoted", stepIndex: 2 });
    await h.clock.advanceAsync(3 * INTERVAL_MS);
    expect(h.eventsOf("rollout.decision")).toHaveLength(3);
  });

  it("waits for approval before a gated step; approve moves on with a fresh window", async () => {
    const h = await started({ approvalBefore: [50] });
    healthy(h);
    await h.clock.advanceAsync(INTERVAL_MS);
    expect(h.controller.status("web")).toMatchObject({
      phase: "waitingApproval",
      stepIndex: 0,
      stepPercent: 10,
    });
    expect(h.eventsOf("rollout.decision")[0]?.verdict).toBe("waitForApproval");
    expect(h.splits.calls).toHaveLength(1);
    expect(h.controller.isBlockingWeights("web")).toBe(true);
    // Waiting: no further interval decisions, however long it takes.
    await h.clock.advanceAsync(4 * INTERVAL_MS);
    expect(h.eventsOf("rollout.decision")).toHaveLength(1);

    const approveAtMs = h.clock.now();
    const approved = await h.controller.act("web", "approve", "alice", rolloutConfig(policy()));
    expect(approved).toMatchObject({
      ok: true,
      value: { phase: "progressing", stepIndex: 1, stepPercent: 50 },
    });
    expect(h.splits.calls.at(-1)).toMatchObject({
      actor: "alice",
      source: "rollout",
      weights: { stable: 50, canary: 50 },
    });
    expect(h.stats.resets.at(-1)).toEqual({ route: "web", fromMs: approveAtMs });
  });

  it("counts failed rollback checks up to failureLimit, then rolls back to 0%", async () => {
    const h = await started({ failureLimit: 3 });
    // 8% errors: over max 0.05, but not decisively (95% lower bound 0.041): no fast rollback.
    h.stats.set("canary", windowOf(100, 8));
    h.stats.set("stable", windowOf(900));
    await h.clock.advanceAsync(INTERVAL_MS);
    expect(h.controller.status("web")).toMatchObject({ phase: "progressing", failures: 1 });
    await h.clock.advanceAsync(INTERVAL_MS);
    expect(h.controller.status("web")).toMatchObject({ phase: "progressing", failures: 2 });
    expect(h.splits.calls).toHaveLength(1);
    await h.clock.advanceAsync(INTERVAL_MS);
    expect(h.controller.status("web")).toMatchObject({ phase: "rolledBack", failures: 3 });
    expect(h.eventsOf("rollout.decision").map((e) => [e.verdict, e.isFast])).toEqual([
      ["fail", false],
      ["fail", false],
      ["rollback", false],
    ]);
    expect(h.splits.last).toEqual({ stable: 100, canary: 0 });
    expect(h.controller.isBlockingWeights("web")).toBe(false);
  });

  it("a pass between failures resets the count", async () => {
    const h = await started({ failureLimit: 2, steps: [10, 20, 50, 100] });
    h.stats.set("stable", windowOf(900));
    h.stats.set("canary", windowOf(100, 8));
    await h.clock.advanceAsync(INTERVAL_MS);
    h.stats.set("canary", windowOf(100));
    await h.clock.advanceAsync(INTERVAL_MS);
    expect(h.controller.status("web")).toMatchObject({ stepPercent: 20, failures: 0 });
    h.stats.set("canary", windowOf(100, 8));
    await h.clock.advanceAsync(INTERVAL_MS);
    expect(h.controller.status("web")).toMatchObject({ phase: "progressing", failures: 1 });
  });

  it("holds on a failed hold check without counting a failure", async () => {
    const h = await started({
      checks: [
        { metric: "errorRate", max: 0.05, action: "rollback" },
        { metric: "latencyP95Ratio", max: 2, action: "hold" },
      ],
    });
    h.stats.set("canary", windowOf(100, 0, { p95: 300 }));
    h.stats.set("stable", windowOf(900, 0, { p95: 100 }));
    await h.clock.advanceAsync(3 * INTERVAL_MS);
    const decisions = h.eventsOf("rollout.decision");
    expect(decisions.map((e) => e.verdict)).toEqual(["hold", "hold", "hold"]);
    expect(decisions[0]?.metrics).toMatchObject({ latencyP95Ratio: 3 });
    expect(h.controller.status("web")).toMatchObject({
      phase: "progressing",
      stepIndex: 0,
      failures: 0,
    });
    expect(h.splits.calls).toHaveLength(1);
  });

  it("an inconclusive interval neither counts a failure nor clears one", async () => {
    const h = await started({ failureLimit: 2 });
    h.stats.set("stable", windowOf(900));
    h.stats.set("canary", windowOf(100, 8));
    await h.clock.advanceAsync(INTERVAL_MS);
    h.stats.set("canary", windowOf(19));
    await h.clock.advanceAsync(2 * INTERVAL_MS);
    expect(h.controller.status("web")).toMatchObject({ phase: "progressing", failures: 1 });
    h.stats.set("canary", windowOf(100, 8));
    await h.clock.advanceAsync(INTERVAL_MS);
    expect(h.eventsOf("rollout.decision").map((e) => e.verdict)).toEqual([
      "fail",
      "inconclusive",
      "inconclusive",
      "rollback",
    ]);
    expect(phaseOf(h)).toBe("rolledBack");
  });

  it("holds the first step with no traffic at all", async () => {
    const h = await started();
    await h.clock.advanceAsync(4 * INTERVAL_MS);
    const decisions = h.eventsOf("rollout.decision");
    expect(decisions.map((e) => e.verdict)).toEqual(Array(4).fill("inconclusive"));
    expect(decisions[0]?.metrics).toMatchObject({ requests: 0 });
    expect(h.controller.status("web")).toMatchObject({
      phase: "progressing",
      stepIndex: 0,
      failures: 0,
    });
    expect(h.splits.calls).toHaveLength(1);
  });
});

describe("fast rollback", () => {
  it("rolls back between interval ends when a rollback check fails decisively", async () => {
    const h = await started({ interval: "1m" });
    h.stats.set("stable", windowOf(900));
    await h.clock.advanceAsync(2 * TICK_MS);
    expect(h.eventsOf("rollout.decision")).toEqual([]);
    h.stats.set("canary", windowOf(200, 80));
    await h.clock.advanceAsync(TICK_MS);
    const [decision] = h.eventsOf("rollout.decision");
    expect(decision).toMatchObject({
      verdict: "rollback",
      isFast: true,
      phase: "rolledBack",
      metrics: { requests: 200, failures: 80, errorRate: 0.4 },
    });
    expect(decision?.reason).toMatch(/^fast rollback: /);
    expect(h.splits.last).toEqual({ stable: 100, canary: 0 });
    expect(h.splits.calls.at(-1)?.atMs).toBe(START_MS + 3 * TICK_MS);
    await h.clock.advanceAsync(2 * 60_000);
    expect(h.eventsOf("rollout.decision")).toHaveLength(1);
  });

  it("a non-decisive failure waits for the interval's verdict", async () => {
    const h = await started({ interval: "1m", failureLimit: 1 });
    h.stats.set("stable", windowOf(900));
    h.stats.set("canary", windowOf(100, 8));
    await h.clock.advanceAsync(59 * TICK_MS);
    expect(phaseOf(h)).toBe("progressing");
    await h.clock.advanceAsync(TICK_MS);
    expect(h.eventsOf("rollout.decision")).toMatchObject([{ verdict: "rollback", isFast: false }]);
  });

  it("hold checks never roll back fast", async () => {
    const h = await started({
      interval: "1m",
      checks: [{ metric: "errorRate", max: 0.05, action: "hold" }],
    });
    h.stats.set("stable", windowOf(900));
    h.stats.set("canary", windowOf(200, 80));
    await h.clock.advanceAsync(59 * TICK_MS);
    expect(h.eventsOf("rollout.decision")).toEqual([]);
    expect(phaseOf(h)).toBe("progressing");
  });
});
