/**
 * SPEC 5 and 7: every decision is appended to the event log as `rollout.decision` with its
 * verdict, reason and numbers, counted in the metrics, and sent to the webhooks: advance as
 * advanced, hold, fail and inconclusive as held, waitForApproval as paused, rollback as
 * rolledBack, promote as promoted; an operator's pause, approve, promote and abort too.
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
const HOOK = { url: "http://127.0.0.1:9/hooks/deploys" };
const POLICY = {
  steps: [10, 50, 100],
  interval: "5s",
  minRequests: 20,
  failureLimit: 2,
  approvalBefore: [],
  checks: [
    { metric: "errorRate", max: 0.05, action: "rollback" },
    { metric: "latencyP95Ratio", max: 2, action: "hold" },
  ],
  webhooks: [HOOK],
};
/** A ManualClock's wall time when the harness starts (its `now()` is then 10 s). */
const WALL_START = Date.UTC(2026, 0, 1);

async function started(extra: Record<string, unknown> = {}): Promise<ControllerHarness> {
  const h = controllerHarness();
  await h.controller.initialize(rolloutConfig({ ...POLICY, ...extra }), new Map());
  h.stats.set("stable", windowOf(900, 0, { p95: 100 }));
  h.stats.set("canary", windowOf(100, 0, { p95: 100 }));
  return h;
}

describe("webhooks", () => {
  it("sends advanced and promoted with the route, phase, step, split, reason, metrics, time", async () => {
    const h = await started();
    // The start itself is an `advanced` event of the file, without numbers.
    expect(h.notifier.sent).toHaveLength(1);
    expect(h.notifier.sent[0]?.payload).toEqual({
      event: "advanced",
      route: "web",
      phase: "progressing",
      stepPercent: 10,
      split: { stable: 90, canary: 10 },
      reason: "rollout started by file: step 10%",
      metrics: {},
      at: new Date(WALL_START).toISOString(),
      decisionId: h.eventsOf("rollout.action")[0]?.decisionId,
    });
    await h.clock.advanceAsync(3 * INTERVAL_MS);
    expect(h.notifier.events).toEqual(["advanced", "advanced", "advanced", "promoted"]);
    const advanced = h.notifier.sent[1];
    expect(advanced?.webhooks).toEqual([{ ...HOOK, events: expect.any(Array) as unknown }]);
    expect(advanced?.payload).toMatchObject({
      event: "advanced",
      route: "web",
      phase: "progressing",
      stepPercent: 50,
      split: { stable: 50, canary: 50 },
      metrics: { requests: 100, failures: 0, errorRate: 0, latencyP95Ratio: 1 },
      at: new Date(WALL_START + INTERVAL_MS).toISOString(),
    });
    expect(advanced?.payload.reason).toContain("advancing from 10% to 50%");
    // Each payload names its decision as the event log does, and no two share an id.
    const decisionIds = h.eventsOf("rollout.decision").map((event) => event.decisionId);
    expect(advanced?.payload.decisionId).toBe(decisionIds[0]);
    expect(new Set(h.notifier.sent.map((sent) => sent.payload.decisionId)).size).toBe(4);
    expect(h.notifier.sent[3]?.payload).toMatchObject({
      event: "promoted",
      phase: "promoted",
      split: { stable: 0, canary: 100 },
    });
  });

  it("sends held for hold, fail and inconclusive verdicts", async () => {
    const h = await started();
    h.stats.set("canary", windowOf(100, 0, { p95: 300 }));
    await h.clock.advanceAsync(INTERVAL_MS);
    h.stats.set("canary", windowOf(100, 8, { p95: 100 }));
    await h.clock.advanceAsync(INTERVAL_MS);
    h.stats.set("canary", windowOf(3));
    await h.clock.advanceAsync(INTERVAL_MS);
    expect(h.eventsOf("rollout.decision").map((e) => e.verdict)).toEqual([
      "hold",
      "fail",
      "inconclusive",
    ]);
    expect(h.notifier.events.slice(1)).toEqual(["held", "held", "held"]);
    expect(h.notifier.sent[2]?.payload).toMatchObject({
      phase: "progressing",
      stepPercent: 10,
      split: { stable: 90, canary: 10 },
      metrics: { requests: 100, failures: 8, errorRate: 0.08 },
    });
  });

  it("sends paused when an approval gate is reached, and rolledBack on a rollback", async () => {
    const h = await started({ approvalBefore: [50] });
    await h.clock.advanceAsync(INTERVAL_MS);
    expect(h.notifier.sent.at(-1)?.payload).toMatchObject({
      event: "paused",
      phase: "waitingApproval",
      stepPercent: 10,
    });
    await h.controller.act(
      "web",
      "approve",
      "alice",
      rolloutConfig({ ...POLICY, approvalBefore: [50] }),
    );
    expect(h.notifier.sent.at(-1)?.payload).toMatchObject({
      event: "advanced",
      stepPercent: 50,
      reason: "approved by alice: step 50%",
    });
    h.stats.set("canary", windowOf(200, 80, { p95: 100 }));
    await h.clock.advanceAsync(TICK_MS);
    expect(h.notifier.sent.at(-1)?.payload).toMatchObject({
      event: "rolledBack",
      phase: "rolledBack",
      split: { stable: 100, canary: 0 },
      metrics: { requests: 200, failures: 80, errorRate: 0.4 },
    });
  });

  it("an operator's pause, promote and abort are sent too; resume is not", async () => {
    const h = await started();
    const config = rolloutConfig(POLICY);
    await h.controller.act("web", "pause", "alice", config);
    await h.controller.act("web", "resume", "alice", config);
    await h.controller.act("web", "promote", "alice", config);
    await h.controller.act("web", "abort", "alice", config);
    expect(h.notifier.events).toEqual(["advanced", "paused", "promoted", "rolledBack"]);
    expect(h.notifier.sent.map((s) => s.payload.reason).slice(1)).toEqual([
      "paused by alice",
      "promoted by alice: target at 100%",
      "aborted by alice: target at 0%",
    ]);
  });

  it("nothing is sent when the rollout has no webhooks", async () => {
    const h = await started({ webhooks: [] });
    await h.clock.advanceAsync(3 * INTERVAL_MS);
    expect(h.controller.status("web")?.phase).toBe("promoted");
    expect(h.notifier.sent).toEqual([]);
  });
});

describe("the record of decisions", () => {
  it("appends every decision with verdict, reason, metrics and each check", async () => {
    const h = await started();
    h.stats.set("canary", windowOf(100, 0, { p95: 300 }));
    await h.clock.advanceAsync(INTERVAL_MS);
    h.stats.set("canary", windowOf(100, 0, { p95: 100 }));
    await h.clock.advanceAsync(INTERVAL_MS);
    const decisions = h.eventsOf("rollout.decision");
    expect(decisions).toHaveLength(2);
    const [held, advanced] = decisions;
    expect(held).toMatchObject({
      route: "web",
      verdict: "hold",
      isFast: false,
      phase: "progressing",
      stepPercent: 10,
      failures: 0,
      metrics: {
        requests: 100,
        failures: 0,
        errorRate: 0,
        baselineRequests: 900,
        baselineErrorRate: 0,
        latencyP95Ratio: 3,
      },
    });
    expect(held?.reason).toMatch(/latencyP95Ratio 3 > max 2 .*holding at 10%/);
    expect(held?.checks).toMatchObject([
      { metric: "errorRate", isPassed: true, value: 0, max: 0.05 },
      { metric: "latencyP95Ratio", isPassed: false, value: 3, max: 2, action: "hold" },
    ]);
    expect(advanced).toMatchObject({ verdict: "advance", stepPercent: 50 });
    expect(h.metrics.decisions).toEqual([
      { route: "web", verdict: "hold" },
      { route: "web", verdict: "advance" },
    ]);
  });

  it("keeps the last decisions in status and in the saved progress", async () => {
    const h = await started();
    h.stats.set("canary", windowOf(3));
    await h.clock.advanceAsync(12 * INTERVAL_MS);
    const status = h.controller.status("web");
    expect(status?.lastDecision).toMatchObject({
      verdict: "inconclusive",
      stepPercent: 10,
      isFast: false,
      metrics: { requests: 3 },
      at: new Date(WALL_START + 12 * INTERVAL_MS).toISOString(),
    });
    const saved = h.persistence.saved.get("web") as { decisions: unknown[] };
    expect(saved.decisions).toHaveLength(10);
    expect(h.eventsOf("rollout.decision")).toHaveLength(12);
  });
});
