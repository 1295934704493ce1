/**
 * The rollout verdict (SPEC 5) for random policies, progress and window statistics.
 *
 * "Below the threshold's bound", made precise from src/rollout/check-metrics.ts:
 * - at an interval end, a `rollback` check fails on its plain threshold: the metric's value on
 *   the check's window (with at least minRequests target requests) is above `max` or below
 *   `min`. A canary whose every rollback check is within its thresholds is never failed nor
 *   rolled back, and one whose check is past them always is (fail, or rollback at failureLimit);
 * - between interval ends, the fast rollback needs the 95% confidence bound nearest the
 *   threshold to be past it: the Wilson lower bound of the error rate above `max` (for
 *   `availability`, 1 - the Wilson upper bound below `min`; for `errorRateDelta`, Newcombe's
 *   lower bound above `max`). Latencies have no such bound: they must be past the threshold
 *   by half of it, on at least twice minRequests. Anything short of that never rolls back fast.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { RolloutConfig } from "../../src/config/schema.ts";
import { decideAtIntervalEnd, decideFastRollback } from "../../src/rollout/decide.ts";
import type { RolloutPhase, RolloutProgress, Verdict } from "../../src/rollout/rollout-types.ts";
import { propertyRuns } from "./property-runs.ts";
import {
  TARGET,
  anyPolicy,
  progressFor,
  statsFrom,
  windowsFor,
  type WindowTable,
} from "./rollout-arbitraries.ts";
import { evidenceOf, requestsIn } from "./rollout-oracle.ts";

const MOVING_ON: readonly Verdict[] = ["advance", "promote", "waitForApproval"];
const COUNTING_FAILURE: readonly Verdict[] = ["fail", "rollback"];

type Scenario = [RolloutConfig, RolloutProgress, WindowTable];

function scenario(phases?: readonly RolloutPhase[]): fc.Arbitrary<Scenario> {
  return anyPolicy.chain((policy) =>
    fc.tuple(fc.constant(policy), progressFor(policy, phases), windowsFor(policy)),
  );
}

function rollbackEvidence(policy: RolloutConfig, table: WindowTable) {
  return policy.checks
    .filter((check) => check.action === "rollback")
    .map((check) => evidenceOf(check, policy, table));
}

describe("rollout decisions (property)", () => {
  it("never move on with fewer than minRequests target requests in the interval", () => {
    fc.assert(
      fc.property(scenario(["progressing"]), ([policy, progress, table]) => {
        const decision = decideAtIntervalEnd({ policy, progress, stats: statsFrom(table) });
        const requests = requestsIn(table[`${TARGET}@${policy.interval}`]);
        if (requests < policy.minRequests) {
          expect(decision.verdict).toBe("inconclusive");
          expect(decision.next).toEqual(progress);
        }
        if (MOVING_ON.includes(decision.verdict)) {
          expect(requests).toBeGreaterThanOrEqual(policy.minRequests);
        }
      }),
      propertyRuns(500),
    );
  });

  it("count a failure at an interval end exactly when a rollback check is past its threshold", () => {
    fc.assert(
      fc.property(scenario(["progressing"]), ([policy, progress, table]) => {
        const decision = decideAtIntervalEnd({ policy, progress, stats: statsFrom(table) });
        if (requestsIn(table[`${TARGET}@${policy.interval}`]) < policy.minRequests) return;
        const isFailing = rollbackEvidence(policy, table).some((e) => e.isPastThreshold);
        expect(COUNTING_FAILURE.includes(decision.verdict), decision.reason).toBe(isFailing);
        expect(decision.next.phase === "rolledBack").toBe(decision.verdict === "rollback");
        if (decision.verdict === "rollback") {
          expect(progress.failures + 1).toBeGreaterThanOrEqual(policy.failureLimit);
        }
      }),
      propertyRuns(500),
    );
  });

  it("never roll back fast unless a rollback check's 95% bound is past its threshold", () => {
    fc.assert(
      fc.property(scenario(), ([policy, progress, table]) => {
        const decision = decideFastRollback({ policy, progress, stats: statsFrom(table) });
        if (decision === undefined) return;
        expect(["progressing", "waitingApproval"]).toContain(progress.phase);
        expect(decision.verdict).toBe("rollback");
        // The bound is stricter than the threshold: a decisive check is past both.
        const decisive = rollbackEvidence(policy, table).filter(
          (e) => e.isPastBound && e.isPastThreshold && e.requests >= policy.minRequests,
        );
        expect(decisive.length, decision.reason).toBeGreaterThan(0);
      }),
      propertyRuns(500),
    );
  });

  it("roll back fast when a rollback check's 95% bound is clearly past its threshold", () => {
    fc.assert(
      fc.property(scenario(["progressing", "waitingApproval"]), ([policy, progress, table]) => {
        const decision = decideFastRollback({ policy, progress, stats: statsFrom(table) });
        const isDecisive = rollbackEvidence(policy, table).some((e) => e.isClearlyPastBound);
        if (isDecisive) expect(decision?.verdict).toBe("rollback");
      }),
      propertyRuns(300),
    );
  });
});
