/**
 * Tells the world about a rollout change once it is committed: the log, the event log, the
 * metrics, the state file and the webhooks. Nothing here decides anything; the controller
 * calls it only after the split write behind a change succeeded.
 */
import type { RolloutConfig } from "../config/schema.ts";
import type { Actor, ControlError } from "../control/control-api.ts";
import type { EventLog } from "../events/event-log.ts";
import type { Logger } from "../log/logger.ts";
import type { Clock } from "../time/clock.ts";
import {
  RECENT_DECISIONS,
  stepPercentOf,
  targetPercentOf,
  toPersisted,
  type RouteRollout,
} from "./rollout-state.ts";
import type { Decision, RolloutPhase } from "./rollout-types.ts";
import type { WebhookPayload } from "./webhooks.ts";

export interface RolloutNotifier {
  notify(webhooks: RolloutConfig["webhooks"], payload: WebhookPayload): void;
}

export interface RolloutMetrics {
  rolloutStep(route: string, target: string, percent: number): void;
  rolloutPhase(route: string, phase: RolloutPhase | "idle"): void;
  rolloutDecision(route: string, verdict: string): void;
}

export interface RolloutPersistence {
  setRollout(route: string, record: Readonly<Record<string, unknown>> | null): void;
}

export interface RolloutReporterOptions {
  notifier: RolloutNotifier;
  metrics: RolloutMetrics;
  persistence: RolloutPersistence;
  events: EventLog;
  logger: Logger;
  clock: Clock;
}

type WebhookEvent = WebhookPayload["event"];

export class RolloutReporter {
  private readonly o: RolloutReporterOptions;

  constructor(options: RolloutReporterOptions) {
    this.o = options;
  }

  /** An operator's (or the file's) change of phase or step. */
  action(
    rollout: RouteRollout,
    actor: Actor,
    event: WebhookEvent | undefined,
    reason: string,
  ): void {
    this.o.logger.info(
      { route: rollout.route, actor, phase: rollout.phase, stepPercent: stepPercentOf(rollout) },
      `rollout: ${reason}`,
    );
    this.o.events.append("rollout.action", {
      route: rollout.route,
      actor,
      phase: rollout.phase,
      stepPercent: targetPercentOf(rollout),
      reason,
    });
    this.stateChanged(rollout);
    if (event !== undefined) this.notify(rollout, event, reason, {});
  }

  /** An evaluation's verdict, with the numbers behind it. */
  decision(rollout: RouteRollout, decision: Decision): void {
    rollout.decisions.push({
      at: new Date(this.o.clock.wallNow()).toISOString(),
      verdict: decision.verdict,
      reason: decision.reason,
      stepPercent: targetPercentOf(rollout),
      isFast: decision.isFast,
      metrics: decision.metrics,
    });
    if (rollout.decisions.length > RECENT_DECISIONS) rollout.decisions.shift();
    this.o.metrics.rolloutDecision(rollout.route, decision.verdict);
    this.o.events.append("rollout.decision", {
      route: rollout.route,
      verdict: decision.verdict,
      reason: decision.reason,
      isFast: decision.isFast,
      phase: rollout.phase,
      stepPercent: targetPercentOf(rollout),
      failures: rollout.failures,
      metrics: decision.metrics,
      checks: decision.checks,
    });
    const level = decision.verdict === "rollback" || decision.verdict === "fail" ? "warn" : "info";
    this.o.logger[level](
      {
        route: rollout.route,
        verdict: decision.verdict,
        metrics: decision.metrics,
        phase: rollout.phase,
      },
      `rollout decision: ${decision.reason}`,
    );
    this.stateChanged(rollout);
    const event = webhookEventFor(decision);
    if (event !== undefined) this.notify(rollout, event, decision.reason, decision.metrics);
  }

  /** The split a change needs was refused: said once until a write succeeds again. */
  writeRefused(rollout: RouteRollout, error: ControlError): void {
    if (rollout.lastWriteError === error.message) return;
    rollout.lastWriteError = error.message;
    this.o.logger.error(
      { route: rollout.route, error },
      "rollout could not apply its split; its state stays until a write succeeds",
    );
    this.o.events.append("rollout.writeRefused", {
      route: rollout.route,
      phase: rollout.phase,
      stepPercent: targetPercentOf(rollout),
      code: error.code,
      reason: error.message,
    });
  }

  stopped(route: string, reason: string): void {
    this.o.persistence.setRollout(route, null);
    this.o.metrics.rolloutPhase(route, "idle");
    this.o.events.append("rollout.stopped", { route, reason });
  }

  /** Metrics and the state file follow the rollout's phase and step. */
  stateChanged(rollout: RouteRollout): void {
    this.o.metrics.rolloutStep(rollout.route, rollout.policy.target, targetPercentOf(rollout));
    this.o.metrics.rolloutPhase(rollout.route, rollout.phase);
    this.o.persistence.setRollout(rollout.route, { ...toPersisted(rollout) });
  }

  private notify(
    rollout: RouteRollout,
    event: WebhookEvent,
    reason: string,
    metrics: Readonly<Record<string, unknown>>,
  ): void {
    if (rollout.policy.webhooks.length === 0) return;
    const targetPercent = targetPercentOf(rollout);
    this.o.notifier.notify(rollout.policy.webhooks, {
      event,
      route: rollout.route,
      phase: rollout.phase,
      stepPercent: targetPercent,
      split: {
        [rollout.policy.baseline]: round2(100 - targetPercent),
        [rollout.policy.target]: targetPercent,
      },
      reason,
      metrics: { ...metrics },
      at: new Date(this.o.clock.wallNow()).toISOString(),
    });
  }
}

function webhookEventFor(decision: Decision): WebhookEvent | undefined {
  switch (decision.verdict) {
    case "advance":
      return "advanced";
    case "promote":
      return "promoted";
    case "rollback":
      return "rolledBack";
    case "waitForApproval":
      return "paused";
    case "hold":
    case "fail":
    case "inconclusive":
      return "held";
  }
}

function round2(value: number): number {
  return Math.round(value * 100) / 100;
}
