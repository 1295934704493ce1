/**
 * One route's rollout as the controller keeps it, and its persisted form. The rollout's
 * identity (its target, baseline and steps) tells a reload or a restart whether the progress
 * belongs to the rollout block now in the file: other edits (checks, interval, webhooks) apply
 * to the running rollout.
 */
import { createHash } from "node:crypto";
import type { RolloutConfig } from "../config/schema.ts";
import { percentToBp, FULL_SPLIT_BP } from "../config/units.ts";
import type { SplitEntry } from "../routing/split.ts";
import type { RolloutStatus } from "../control/control-api.ts";
import { ROLLOUT_PHASES, type Decision, type RolloutPhase } from "./rollout-types.ts";

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
  /** identityOf(policy) when the rollout began. */
  policyHash: string;
  phase: RolloutPhase;
  stepIndex: number;
  failures: number;
  /** Clock time the current evaluation interval began (a fresh window). */
  intervalStartedMs: number;
  /** Clock time the current step began to run (progressDeadline counts from here). */
  stepStartedMs: number;
  decisions: DecisionRecord[];
  /** The last refused split write, reported once until a write succeeds. */
  lastWriteError: string | undefined;
}

/** What makes a rollout the same rollout: a change of these restarts it at the first step. */
export function identityOf(policy: RolloutConfig): string {
  const { target, baseline, steps } = policy;
  return hash(JSON.stringify({ target, baseline, steps }));
}

/** The identity earlier versions saved (the whole block), so their progress still resumes. */
export function wholeBlockHash(policy: RolloutConfig): string {
  return hash(JSON.stringify(policy));
}

function hash(text: string): string {
  return createHash("sha256").update(text).digest("hex").slice(0, 16);
}

/** `decisions` with `record` added, the oldest dropped past RECENT_DECISIONS. */
export function withDecision(
  decisions: readonly DecisionRecord[],
  record: DecisionRecord,
): DecisionRecord[] {
  return [...decisions, record].slice(-RECENT_DECISIONS);
}

/** Two records of the same progress: what a fleet write checks it was decided on. */
export function isSameProgress(a: PersistedRollout, b: PersistedRollout): boolean {
  const lastA = a.decisions[a.decisions.length - 1]?.at;
  const lastB = b.decisions[b.decisions.length - 1]?.at;
  return (
    a.policyHash === b.policyHash &&
    a.phase === b.phase &&
    a.stepIndex === b.stepIndex &&
    a.failures === b.failures &&
    lastA === lastB
  );
}

export function stepPercentOf(rollout: RouteRollout): number {
  return rollout.policy.steps[rollout.stepIndex] ?? 0;
}

/** The target's share in a phase: the step's while running, 100 promoted, 0 rolled back. */
export function targetPercentFor(
  policy: RolloutConfig,
  phase: RolloutPhase,
  stepIndex: number,
): number {
  if (phase === "promoted") return 100;
  if (phase === "rolledBack") return 0;
  return policy.steps[stepIndex] ?? 0;
}

export function targetPercentOf(rollout: RouteRollout): number {
  return targetPercentFor(rollout.policy, rollout.phase, rollout.stepIndex);
}

/** The split that gives the target `targetPercent` and the baseline the rest, in basis points. */
export function rolloutSplitBp(policy: RolloutConfig, targetPercent: number): SplitEntry[] {
  const targetBp = percentToBp(targetPercent) ?? 0;
  return [
    { upstream: policy.baseline, weightBp: FULL_SPLIT_BP - targetBp },
    { upstream: policy.target, weightBp: targetBp },
  ];
}

export function isFinished(phase: RolloutPhase): boolean {
  return phase === "promoted" || phase === "rolledBack";
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

/** Reads a saved rollout back, or undefined when it does not look like one. */
export function fromPersisted(
  record: Readonly<Record<string, unknown>>,
): PersistedRollout | undefined {
  const { policyHash: hash, phase, stepIndex, failures, decisions } = record;
  if (typeof hash !== "string" || typeof phase !== "string") return undefined;
  if (!(ROLLOUT_PHASES as readonly string[]).includes(phase)) return undefined;
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
