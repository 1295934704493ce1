/**
 * A rollout read back from the state file at startup: resumed where it was when it is still
 * the rollout the file describes (same target, baseline and steps), with a fresh window.
 */
import type { RolloutConfig } from "../config/schema.ts";
import { fromPersisted, identityOf, wholeBlockHash, type RouteRollout } from "./rollout-state.ts";

export function restoreRollout(
  route: string,
  policy: RolloutConfig,
  record: Readonly<Record<string, unknown>> | undefined,
  nowMs: number,
): RouteRollout | undefined {
  const persisted = record === undefined ? undefined : fromPersisted(record);
  if (persisted === undefined || persisted.stepIndex >= policy.steps.length) return undefined;
  const identity = identityOf(policy);
  // Progress saved before the identity was narrowed to target, baseline and steps.
  const isSame =
    persisted.policyHash === identity || persisted.policyHash === wholeBlockHash(policy);
  if (!isSame) return undefined;
  return {
    route,
    policy,
    policyHash: identity,
    phase: persisted.phase,
    stepIndex: persisted.stepIndex,
    failures: persisted.failures,
    intervalStartedMs: nowMs,
    stepStartedMs: nowMs,
    decisions: persisted.decisions,
    lastWriteError: undefined,
  };
}
