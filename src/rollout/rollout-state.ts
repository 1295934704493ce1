/**
 * One route's rollout as the controller keeps it, and its persisted form. The policy's hash
 * tells a restart whether the saved progress belongs to the rollout block now in the file.
 */
import { createHash } from "node:crypto";
import type { RolloutConfig } from "../config/schema.ts";
import type { RolloutStatus } from "../control/control-api.ts";
import type { Decision, RolloutPhase } from "./rollout-types.ts";

/** Decisions kept per route for status, the state file and a restart. */
export const RECENT_DECISIONS = 10;

export interface DecisionRecord {
  at: string;
  verdict: string;
  reason: string;
  stepPercent: number;
  isFast: boolean;
  metrics: Decision["metrics"];
}

export interface RouteRollout {
  route: string;
  policy: RolloutConfig;
  policyHash: string;
  phase: RolloutPhase;
  stepIndex: number;
  failures: number;
  /** Clock time the current evaluation interval began (a fresh window). */
  intervalStartedMs: number;
  decisions: DecisionRecord[];
}

export function policyHash(policy: RolloutConfig): string {
  return createHash("sha256").update(JSON.stringify(policy)).digest("hex").slice(0, 16);
}

export function stepPercentOf(rollout: RouteRollout): number {
  return rollout.policy.steps[rollout.stepIndex] ?? 0;
}

/** The target's share now: the step's while running, 100 once promoted, 0 once rolled back. */
export function targetPercentOf(rollout: RouteRollout): number {
  if (rollout.phase === "promoted") return 100;
  if (rollout.phase === "rolledBack") return 0;
  return stepPercentOf(rollout);
}

export function isRunning(phase: RolloutPhase): boolean {
  return phase === "progressing" || phase === "waitingApproval";
}

export function statusOf(rollout: RouteRollout): RolloutStatus {
  const last = rollout.decisions[rollout.decisions.length - 1];
  return {
    phase: rollout.phase,
    target: rollout.policy.target,
    baseline: rollout.policy.baseline,
    stepIndex: rollout.stepIndex,
    // The target's share now: 100 once promoted, 0 once rolled back.
    stepPercent: targetPercentOf(rollout),
    failures: rollout.failures,
    lastDecision: last === undefined ? null : { ...last },
  };
}

export interface PersistedRollout {
  policyHash: string;
  phase: RolloutPhase;
  stepIndex: number;
  failures: number;
  decisions: DecisionRecord[];
}

export function toPersisted(rollout: RouteRollout): PersistedRollout {
  return {
    policyHash: rollout.policyHash,
    phase: rollout.phase,
    stepIndex: rollout.stepIndex,
    failures: rollout.failures,
    decisions: rollout.decisions,
  };
}

const PHASES: readonly RolloutPhase[] = [
  "progressing",
  "waitingApproval",
  "paused",
  "promoted",
  "rolledBack",
];

/** Reads a saved rollout back, or undefined when it does not look like one. */
export function fromPersisted(
  record: Readonly<Record<string, unknown>>,
): PersistedRollout | undefined {
  const { policyHash: hash, phase, stepIndex, failures, decisions } = record;
  if (typeof hash !== "string" || typeof phase !== "string") return undefined;
  if (!PHASES.includes(phase as RolloutPhase)) return undefined;
  if (typeof stepIndex !== "number" || !Number.isInteger(stepIndex) || stepIndex < 0)
    return undefined;
  if (typeof failures !== "number" || !Number.isInteger(failures) || failures < 0) return undefined;
  return {
    policyHash: hash,
    phase: phase as RolloutPhase,
    stepIndex,
    failures,
    decisions: Array.isArray(decisions)
      ? (decisions as DecisionRecord[]).slice(-RECENT_DECISIONS)
      : [],
  };
}
