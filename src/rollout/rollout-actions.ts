/**
 * What an operator's verb does to a running rollout (SPEC 5 and 12), decided without side
 * effects: the next phase and step, whether the split moves, the webhook event and the reason
 * the event log shows, or why the verb is refused in this phase. `start` is the controller's:
 * it builds a new rollout.
 */
import { controlError, type Actor, type ControlError } from "../control/control-api.ts";
import { CODE } from "../errors/error-codes.ts";
import { isRunning, stepPercentOf, type RouteRollout } from "./rollout-state.ts";
import type { RolloutAction, RolloutProgress } from "./rollout-types.ts";
import type { WebhookPayload } from "./webhooks.ts";

export interface ActionPlan {
  next: RolloutProgress;
  /** The split must be written (and succeed) before the plan is committed. */
  isSplitWritten: boolean;
  /** The step is judged afresh: a new window, and progressDeadline counts from now. */
  isFreshStep: boolean;
  event: WebhookPayload["event"] | undefined;
  reason: string;
}

export type ActionOutcome = { ok: true; plan: ActionPlan } | { ok: false; error: ControlError };

export function planAction(
  rollout: RouteRollout,
  action: Exclude<RolloutAction, "start">,
  actor: Actor,
): ActionOutcome {
  const { phase, stepIndex, failures } = rollout;
  switch (action) {
    case "pause":
      if (!isRunning(phase)) return wrongPhase(rollout, action);
      return plan(
        { phase: "paused", stepIndex, failures },
        false,
        false,
        "paused",
        `paused by ${actor}`,
      );
    case "resume":
      if (phase !== "paused") return wrongPhase(rollout, action);
      // An operator may have set weights while paused: the step's split comes back.
      return plan(
        { phase: "progressing", stepIndex, failures },
        true,
        true,
        undefined,
        `resumed by ${actor}: the ${stepPercentOf(rollout)}% step's split is back in force`,
      );
    case "approve": {
      if (phase !== "waitingApproval") return wrongPhase(rollout, action);
      const nextIndex = Math.min(stepIndex + 1, rollout.policy.steps.length - 1);
      const percent = rollout.policy.steps[nextIndex] ?? 0;
      return plan(
        { phase: "progressing", stepIndex: nextIndex, failures },
        true,
        true,
        "advanced",
        `approved by ${actor}: step ${percent}%`,
      );
    }
    case "promote":
      if (phase === "promoted") return wrongPhase(rollout, action);
      return plan(
        { phase: "promoted", stepIndex, failures },
        true,
        false,
        "promoted",
        `promoted by ${actor}: target at 100%`,
      );
    case "abort":
      if (phase === "rolledBack") return wrongPhase(rollout, action);
      return plan(
        { phase: "rolledBack", stepIndex, failures },
        true,
        false,
        "rolledBack",
        `aborted by ${actor}: target at 0%`,
      );
  }
}

/** `start` is refused while a rollout is under way: restarting it would silently drop its step. */
export function startRefusal(rollout: RouteRollout | undefined): ControlError | undefined {
  if (rollout === undefined) return undefined;
  if (!isRunning(rollout.phase) && rollout.phase !== "paused") return undefined;
  return controlError(
    CODE.SWITCHYARD_ROLLOUT_PHASE,
    `a rollout is already ${rollout.phase} on route "${rollout.route}" at ` +
      `${stepPercentOf(rollout)}%; abort it first (switchyard rollout ${rollout.route} abort)`,
  );
}

function plan(
  next: RolloutProgress,
  isSplitWritten: boolean,
  isFreshStep: boolean,
  event: ActionPlan["event"],
  reason: string,
): ActionOutcome {
  return { ok: true, plan: { next, isSplitWritten, isFreshStep, event, reason } };
}

function wrongPhase(rollout: RouteRollout, action: string): ActionOutcome {
  const message = `cannot ${action} the rollout on route "${rollout.route}" while it is ${rollout.phase}`;
  return { ok: false, error: controlError(CODE.SWITCHYARD_ROLLOUT_PHASE, message) };
}
