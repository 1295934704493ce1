/**
 * What a rollout webhook receives (SPEC 7): one JSON object per decision, POSTed to every
 * webhook that subscribes to its event.
 */
import type { WEBHOOK_EVENTS } from "../config/schema.ts";
import type { RolloutPhase } from "./rollout-types.ts";

export type WebhookEvent = (typeof WEBHOOK_EVENTS)[number];

/** One configured webhook (`rollout.webhooks[]`). */
export interface WebhookTarget {
  readonly url: string;
  readonly events: readonly WebhookEvent[];
}

export interface WebhookPayload {
  readonly event: WebhookEvent;
  readonly route: string;
  /** The rollout's phase after the decision. */
  readonly phase: RolloutPhase;
  /** The target's percentage at the current step. */
  readonly stepPercent: number;
  /** The route's split after the decision: percent by upstream name. */
  readonly split: Readonly<Record<string, number>>;
  /** One sentence a person reads. */
  readonly reason: string;
  /**
   * The numbers behind the decision (requests, failures, errorRate, each check's value); empty
   * for an operator's action.
   */
  readonly metrics: Readonly<Record<string, unknown>>;
  /** When the decision was made, ISO 8601. */
  readonly at: string;
  /**
   * Unique per decision or action, the same in each retry of a delivery and in the event log
   * (`rollout.decision`, `rollout.action`): a receiver drops a payload it has already seen.
   */
  readonly decisionId: string;
}
