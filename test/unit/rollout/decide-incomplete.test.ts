/**
 * Fleet windows with missing seconds (SPEC 10): a decisive failure may still count and roll
 * back, nothing else moves the rollout, and the reason names who missed how many seconds.
 */
import { describe, expect, it } from "vitest";
import { decideAtIntervalEnd, decideFastRollback } from "../../../src/rollout/decide.ts";
import type {
  MissingSeconds,
  RolloutProgress,
  WindowSummary,
} from "../../../src/rollout/rollout-types.ts";
import { check, expectAllFinite, fakeStats, policy, win, MINUTE_MS } from "./decide-fixtures.ts";

const R2_GAP: MissingSeconds[] = [{ replica: "r2", seconds: 7, of: 300 }];
const progressing: RolloutProgress = { phase: "progressing", stepIndex: 0, failures: 0 };

function incomplete(summary: WindowSummary, missing = R2_GAP): WindowSummary {
  return { ...summary, missing };
}

describe("an incomplete window", () => {
  it("never advances: passing checks are inconclusive, naming the member and its gap", () => {
    const decision = decideAtIntervalEnd({
      policy: policy(),
      progress: progressing,
      stats: fakeStats({ canary: incomplete(win(1000, 1)), stable: win(1000, 1) }),
    });
    expect(decision.verdict).toBe("inconclusive");
    expect(decision.reason).toBe(
      "inconclusive: window incomplete: r2 missed 7 of 300 s; holding at 5%",
    );
    expect(decision.next).toEqual(progressing);
    expectAllFinite(decision);
  });

  it("may roll back when the partial data already fails decisively", () => {
    const decision = decideAtIntervalEnd({
      policy: policy(),
      progress: { ...progressing, failures: 1 },
      stats: fakeStats({ canary: incomplete(win(1000, 400)), stable: win(1000, 1) }),
    });
    expect(decision.verdict).toBe("rollback");
    expect(decision.reason).toMatch(/errorRate 0\.4 .*\(window incomplete: r2 missed 7 of 300 s\)/);
    expect(decision.next.phase).toBe("rolledBack");
  });

  it("counts a decisive failure below failureLimit as a failure", () => {
    const decision = decideAtIntervalEnd({
      policy: policy(),
      progress: progressing,
      stats: fakeStats({ canary: incomplete(win(1000, 400)) }),
    });
    expect(decision.verdict).toBe("fail");
    expect(decision.next.failures).toBe(1);
  });

  it("does not count a failure the missing seconds could still undo", () => {
    // 6% of 1000 fails max 5%, but its 95% lower bound is below 5%: not decisive.
    const decision = decideAtIntervalEnd({
      policy: policy(),
      progress: progressing,
      stats: fakeStats({ canary: incomplete(win(1000, 60)) }),
    });
    expect(decision.checks[0]?.isPassed).toBe(false);
    expect(decision.checks[0]?.isDecisive).toBe(false);
    expect(decision.verdict).toBe("inconclusive");
    expect(decision.next).toEqual(progressing);
  });

  it("does not hold or promote either", () => {
    const last = { phase: "progressing", stepIndex: 4, failures: 0 } as const;
    const decision = decideAtIntervalEnd({
      policy: policy(),
      progress: last,
      stats: fakeStats({ canary: incomplete(win(1000)), stable: win(1000) }),
    });
    expect(decision.verdict).toBe("inconclusive");
  });

  it("names the gap of a check's own window and every member once, at its worst", () => {
    const twoMinutes = 2 * MINUTE_MS;
    const decision = decideAtIntervalEnd({
      policy: policy({ checks: [check("errorRate", { max: 0.05, window: twoMinutes })] }),
      progress: progressing,
      stats: fakeStats({
        canary: incomplete(win(1000), [{ replica: "r3", seconds: 1, of: 300 }]),
        [`canary@${String(twoMinutes)}`]: incomplete(win(1000), [
          { replica: "r3", seconds: 1, of: 120 },
          { replica: "r2", seconds: 120, of: 120 },
        ]),
      }),
    });
    expect(decision.reason).toBe(
      "inconclusive: window incomplete: r2 missed 120 of 120 s and r3 missed 1 of 300 s; " +
        "holding at 5%",
    );
  });

  it("adds the gap to a too-few-requests reason", () => {
    const decision = decideAtIntervalEnd({
      policy: policy(),
      progress: progressing,
      stats: fakeStats({ canary: incomplete(win(10)) }),
    });
    expect(decision.verdict).toBe("inconclusive");
    expect(decision.reason).toContain("(window incomplete: r2 missed 7 of 300 s)");
  });

  it("is complete when every gap is empty", () => {
    const decision = decideAtIntervalEnd({
      policy: policy(),
      progress: progressing,
      stats: fakeStats({ canary: incomplete(win(1000), []), stable: win(1000) }),
    });
    expect(decision.verdict).toBe("advance");
  });

  it("still allows a fast rollback on decisive partial data", () => {
    const decision = decideFastRollback({
      policy: policy(),
      progress: progressing,
      stats: fakeStats({ canary: incomplete(win(1000, 400)) }),
    });
    expect(decision?.verdict).toBe("rollback");
  });
});
