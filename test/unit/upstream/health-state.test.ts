import { describe, expect, it } from "vitest";
import { HealthState, type HealthTransition } from "../../../src/upstream/health-state.ts";

const THRESHOLDS = { healthyThreshold: 2, unhealthyThreshold: 3 };

/** Runs a sequence of outcomes ("P" pass, "F" fail) one ms apart; returns each step's answer. */
function run(state: HealthState, outcomes: string): (HealthTransition | undefined)[] {
  return Array.from(outcomes).map((outcome, index) =>
    outcome === "P" ? state.recordPass(index + 1) : state.recordFailure(index + 1, `fail ${index}`),
  );
}

/** Step indexes (0-based) at which a transition happened, with its kind. */
function transitionsOf(answers: (HealthTransition | undefined)[]): string[] {
  return answers.flatMap((answer, index) => (answer === undefined ? [] : [`${index}:${answer}`]));
}

describe("HealthState", () => {
  it("starts unknown, unchecked and not healthy", () => {
    const state = new HealthState(THRESHOLDS);
    expect(state.status).toBe("unknown");
    expect(state.isHealthy).toBe(false);
    expect(state.hasBeenChecked).toBe(false);
    expect(state.lastCheckAtMs).toBeUndefined();
    expect(state.lastFailureReason).toBeUndefined();
  });

  it("can start healthy for an endpoint that was serving before checks began", () => {
    const state = new HealthState(THRESHOLDS, "healthy");
    expect(state.isHealthy).toBe(true);
    expect(state.hasBeenChecked).toBe(false);
    // It is judged by the thresholds, not by the first-check rule.
    expect(transitionsOf(run(state, "FFF"))).toEqual(["2:becameUnhealthy"]);
  });

  it.each([
    // The first check decides on its own, whatever the thresholds.
    { outcomes: "P", expected: ["0:becameHealthy"], status: "healthy" },
    { outcomes: "F", expected: ["0:becameUnhealthy"], status: "unhealthy" },
    // Healthy: it takes 3 consecutive failures to go out.
    { outcomes: "PFF", expected: ["0:becameHealthy"], status: "healthy" },
    { outcomes: "PFFF", expected: ["0:becameHealthy", "3:becameUnhealthy"], status: "unhealthy" },
    { outcomes: "PFFPFF", expected: ["0:becameHealthy"], status: "healthy" },
    // Never healthy yet (a failed first check): one pass brings it in.
    { outcomes: "FP", expected: ["0:becameUnhealthy", "1:becameHealthy"], status: "healthy" },
    // Fallen after being healthy: it takes 2 consecutive passes to come back.
    {
      outcomes: "PFFFPFP",
      expected: ["0:becameHealthy", "3:becameUnhealthy"],
      status: "unhealthy",
    },
    {
      outcomes: "PFFFPP",
      expected: ["0:becameHealthy", "3:becameUnhealthy", "5:becameHealthy"],
      status: "healthy",
    },
    // Flapping on a healthy endpoint never reaches 3 failures in a row.
    { outcomes: "PFPFPFPFFPFF", expected: ["0:becameHealthy"], status: "healthy" },
    // Each change is reported exactly once, however long the run that follows.
    {
      outcomes: "PPPPFFFFFFFPPPPP",
      expected: ["0:becameHealthy", "6:becameUnhealthy", "12:becameHealthy"],
      status: "healthy",
    },
  ])("$outcomes -> $expected", ({ outcomes, expected, status }) => {
    const state = new HealthState(THRESHOLDS);
    expect(transitionsOf(run(state, outcomes))).toEqual(expected);
    expect(state.status).toBe(status);
  });

  it("counts consecutive passes and failures", () => {
    const state = new HealthState(THRESHOLDS);
    run(state, "PPF");
    expect(state.consecutiveFailures).toBe(1);
    expect(state.consecutivePasses).toBe(0);
    state.recordPass(10);
    expect(state.consecutivePasses).toBe(1);
    expect(state.consecutiveFailures).toBe(0);
  });

  it("keeps the last check time, the last failure and the last transition", () => {
    const state = new HealthState(THRESHOLDS);
    state.recordFailure(100, "connection refused");
    expect(state.hasBeenChecked).toBe(true);
    expect(state.lastCheckAtMs).toBe(100);
    expect(state.lastTransitionAtMs).toBe(100);
    state.recordPass(200);
    state.recordPass(300);
    expect(state.lastCheckAtMs).toBe(300);
    // Never healthy before: the first pass brought it in.
    expect(state.lastTransitionAtMs).toBe(200);
    expect(state.lastFailureReason).toBe("connection refused");
    expect(state.lastFailureAtMs).toBe(100);
    state.recordFailure(400, "unexpected status 503");
    expect(state.lastFailureReason).toBe("unexpected status 503");
    // One failure of a healthy endpoint is below unhealthyThreshold: no transition.
    expect(state.lastTransitionAtMs).toBe(200);
  });

  it("thresholds of 1 react to every change", () => {
    const state = new HealthState({ healthyThreshold: 1, unhealthyThreshold: 1 });
    expect(transitionsOf(run(state, "PFPPF"))).toEqual([
      "0:becameHealthy",
      "1:becameUnhealthy",
      "2:becameHealthy",
      "4:becameUnhealthy",
    ]);
  });

  it("judges the counts so far by new thresholds from the next check on", () => {
    const state = new HealthState(THRESHOLDS);
    run(state, "PFF");
    expect(state.isHealthy).toBe(true);
    state.setThresholds({ healthyThreshold: 2, unhealthyThreshold: 5 });
    expect(state.recordFailure(10, "x")).toBeUndefined();
    expect(state.recordFailure(11, "x")).toBeUndefined();
    expect(state.recordFailure(12, "x")).toBe("becameUnhealthy");
  });
});

describe("an endpoint that failed its first check", () => {
  it("becomes healthy on its first pass, like a startup in Envoy", () => {
    const state = new HealthState({ healthyThreshold: 3, unhealthyThreshold: 2 });
    expect(state.recordFailure(0, "timeout")).toBe("becameUnhealthy");
    expect(state.recordPass(1000)).toBe("becameHealthy");
  });

  it("needs healthyThreshold passes once it had been healthy and fell", () => {
    const state = new HealthState({ healthyThreshold: 3, unhealthyThreshold: 1 });
    expect(state.recordPass(0)).toBe("becameHealthy");
    expect(state.recordFailure(1000, "503")).toBe("becameUnhealthy");
    expect(state.recordPass(2000)).toBeUndefined();
    expect(state.recordPass(3000)).toBeUndefined();
    expect(state.recordPass(4000)).toBe("becameHealthy");
  });
});
