/**
 * Tells the world about a rollout change once it is committed: the log, the event log, the
 * metrics and the webhooks (the writer saved it). Nothing here decides anything; the controller
 * calls it only after the split write behind a change succeeded.
 */
import type { RolloutConfig } from "../config/schema.ts";
import type { Actor, ControlError } from "../control/control-api.ts";
import type { EventLog } from "../events/event-log.ts";
import type { Logger } from "../log/logger.ts";
import type { Clock } from "../time/clock.ts";
import { stepPercentOf, targetPercentOf, type RouteRollout } from "./rollout-state.ts";
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

/** An event as it is logged: its type and fields. */
export interface LogEntry {
  readonly type: string;
  readonly fields: Readonly<Record<string, unknown>>;
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

  /** The event an operator's (or the file's) change is logged as. */
  actionEvent(rollout: RouteRollout, actor: Actor, reason: string, decisionId: string): LogEntry {
    return {
      type: "rollout.action",
      fields: {
        route: rollout.route,
        actor,
        phase: rollout.phase,
        stepPercent: targetPercentOf(rollout),
        reason,
        decisionId,
      },
    };
  }

  /** The event an evaluation's verdict is logged as, with the numbers behind it. */
  decisionEvent(rollout: RouteRollout, decision: Decision, decisionId: string): LogEntry {
    return {
      type: "rollout.decision",
      fields: {
        route: rollout.route,
        verdict: decision.verdict,
        reason: decision.reason,
        isFast: decision.isFast,
        phase: rollout.phase,
        stepPercent: targetPercentOf(rollout),
        failures: rollout.failures,
        metrics: decision.metrics,
        checks: decision.checks,
        decisionId,
      },
    };
  }

  /** An operator's (or the file's) change of phase or step, once committed. */
  action(
    rollout: RouteRollout,
    actor: Actor,
    event: WebhookEvent | undefined,
    logged: LogEntry,
  ): void {
    const reason = String(logged.fields.reason);
    this.o.logger.info(
      { route: rollout.route, actor, phase: rollout.phase, stepPercent: stepPercentOf(rollout) },
      `rollout: ${reason}`,
    );
    this.o.events.append(logged.type, logged.fields);
    this.stateChanged(rollout);
    if (event !== undefined) this.notify(rollout, event, reason, {}, logged.fields.decisionId);
  }

  /** An evaluation's verdict, once committed (the decision is in `rollout.decisions`). */
  decision(rollout: RouteRollout, decision: Decision, logged: LogEntry): void {
    this.o.metrics.rolloutDecision(rollout.route, decision.verdict);
    this.o.events.append(logged.type, logged.fields);
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
    if (event !== undefined) {
      this.notify(rollout, event, decision.reason, decision.metrics, logged.fields.decisionId);
    }
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
    this.o.metrics.rolloutPhase(route, "idle");
    this.o.events.append("rollout.stopped", { route, reason });
  }

  /** Metrics follow the rollout's phase and step (the writer saved it). */
  stateChanged(rollout: RouteRollout): void {
    this.o.metrics.rolloutStep(rollout.route, rollout.policy.target, targetPercentOf(rollout));
    this.o.metrics.rolloutPhase(rollout.route, rollout.phase);
  }

  private notify(
    rollout: RouteRollout,
    event: WebhookEvent,
    reason: string,
    metrics: Readonly<Record<string, unknown>>,
    decisionId: unknown,
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
      decisionId: String(decisionId),
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
