/**
 * Runs the rollouts (SPEC 5): a ticker about every second evaluates each progressing rollout,
 * with the full decision at the end of each interval and the fast-rollback check in between,
 * and applies the verdicts through the control plane (weights with source "rollout"). It starts
 * rollouts on a new or changed `rollout` block or on `start`, takes the operator's actions,
 * persists progress, and reports every decision to the event log, metrics, logs and webhooks.
 */
import type { Config, RolloutConfig } from "../config/schema.ts";
import type { Actor, ControlResult, RolloutStatus, WeightsChange } from "../control/control-api.ts";
import type { RolloutView } from "../control/control-plane.ts";
import type { EventLog } from "../events/event-log.ts";
import type { Logger } from "../log/logger.ts";
import type { Clock, TimerHandle } from "../time/clock.ts";
import { decideAtIntervalEnd, decideFastRollback } from "./decide.ts";
import {
  fromPersisted,
  isRunning,
  policyHash,
  RECENT_DECISIONS,
  statusOf,
  stepPercentOf,
  targetPercentOf,
  toPersisted,
  type RouteRollout,
} from "./rollout-state.ts";
import {
  ROLLOUT_ACTIONS,
  type Decision,
  type RolloutAction,
  type RolloutPhase,
  type StatsSource,
} from "./rollout-types.ts";
import type { WebhookPayload } from "./webhooks.ts";

export const TICK_MS = 1000;
const TIMER_SLACK_MS = 50;

export interface SplitWriter {
  changeSplit(
    route: string,
    actor: Actor,
    source: "admin" | "rollout",
    weights: unknown,
  ): ControlResult<WeightsChange>;
}

export interface RolloutStats {
  forRoute(route: string, nowMs: number): StatsSource;
  resetFrom(route: string, nowMs: number): void;
}

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

export interface RolloutControllerOptions {
  splits: SplitWriter;
  stats: RolloutStats;
  notifier: RolloutNotifier;
  metrics: RolloutMetrics;
  persistence: RolloutPersistence;
  events: EventLog;
  logger: Logger;
  clock: Clock;
}

type WebhookEvent = WebhookPayload["event"];

export class RolloutController implements RolloutView {
  private readonly o: RolloutControllerOptions;
  private readonly rollouts = new Map<string, RouteRollout>();
  private timer: TimerHandle | undefined;
  private isStopped = false;

  constructor(options: RolloutControllerOptions) {
    this.o = options;
  }

  /**
   * At startup: resumes saved progress whose policy is still the file's (with a fresh window),
   * and starts the rollouts that have none.
   */
  initialize(config: Config, saved: ReadonlyMap<string, Readonly<Record<string, unknown>>>): void {
    for (const route of config.routes) {
      const policy = route.rollout;
      if (policy === undefined) {
        if (saved.has(route.name)) this.o.persistence.setRollout(route.name, null);
        continue;
      }
      const record = saved.get(route.name);
      const persisted = record === undefined ? undefined : fromPersisted(record);
      if (
        persisted !== undefined &&
        persisted.policyHash === policyHash(policy) &&
        persisted.stepIndex < policy.steps.length
      ) {
        const rollout: RouteRollout = {
          route: route.name,
          policy,
          policyHash: persisted.policyHash,
          phase: persisted.phase,
          stepIndex: persisted.stepIndex,
          failures: persisted.failures,
          intervalStartedMs: this.o.clock.now(),
          decisions: persisted.decisions,
        };
        this.rollouts.set(route.name, rollout);
        this.o.stats.resetFrom(route.name, this.o.clock.now());
        this.o.logger.info(
          { route: route.name, phase: rollout.phase, stepPercent: stepPercentOf(rollout) },
          "rollout resumed where it was, with a fresh window",
        );
        // A paused or finished rollout no longer owns the split: the saved one (maybe an
        // operator's) stands.
        if (isRunning(rollout.phase)) this.applyWeights(rollout, "rollout");
        this.reportPhase(rollout);
      } else {
        this.begin(route.name, policy, "file");
      }
    }
    this.schedule();
  }

  // ---- RolloutView (what the control plane asks) --------------------------------------------

  status(route: string): RolloutStatus | null {
    const rollout = this.rollouts.get(route);
    return rollout === undefined ? null : statusOf(rollout);
  }

  isBlockingWeights(route: string): boolean {
    const rollout = this.rollouts.get(route);
    return rollout !== undefined && isRunning(rollout.phase);
  }

  configApplied(config: Config, previous: Config): void {
    const before = new Map(previous.routes.map((r) => [r.name, r.rollout]));
    for (const route of config.routes) {
      const policy = route.rollout;
      const rollout = this.rollouts.get(route.name);
      if (policy === undefined) {
        if (rollout !== undefined) {
          // Removing the block stops the rollout; the split it left stays until someone changes it.
          this.rollouts.delete(route.name);
          this.o.persistence.setRollout(route.name, null);
          this.o.metrics.rolloutPhase(route.name, "idle");
          this.o.events.append("rollout.stopped", {
            route: route.name,
            reason: "the rollout block was removed from the config",
          });
        }
        continue;
      }
      const previousPolicy = before.get(route.name);
      const isNewOrChanged =
        previousPolicy === undefined || policyHash(previousPolicy) !== policyHash(policy);
      if (isNewOrChanged) {
        this.begin(route.name, policy, "file");
      } else if (rollout !== undefined && isRunning(rollout.phase)) {
        // The file may have changed the route's split under a running rollout: its step stands.
        this.applyWeights(rollout, "rollout");
      }
    }
    for (const name of this.rollouts.keys()) {
      if (!config.routes.some((r) => r.name === name)) {
        this.rollouts.delete(name);
        this.o.persistence.setRollout(name, null);
      }
    }
  }

  // ---- operator actions -----------------------------------------------------------------------

  act(route: string, action: string, actor: Actor, config: Config): ControlResult<RolloutStatus> {
    if (!(ROLLOUT_ACTIONS as readonly string[]).includes(action)) {
      return refusal(
        404,
        "SWITCHYARD_UNKNOWN_ACTION",
        `unknown rollout action "${action}" (one of ${ROLLOUT_ACTIONS.join(", ")})`,
      );
    }
    const routeConfig = config.routes.find((r) => r.name === route);
    if (routeConfig === undefined) {
      return refusal(404, "SWITCHYARD_UNKNOWN_ROUTE", `no route named "${route}"`);
    }
    if (routeConfig.rollout === undefined) {
      return refusal(
        409,
        "SWITCHYARD_NO_ROLLOUT",
        `route "${route}" has no rollout block in the config`,
      );
    }
    if (action === "start") {
      this.begin(route, routeConfig.rollout, actor);
      return this.ok(route);
    }
    const rollout = this.rollouts.get(route);
    if (rollout === undefined) {
      return refusal(
        409,
        "SWITCHYARD_ROLLOUT_IDLE",
        `no rollout is running on route "${route}"; start one first`,
      );
    }
    const phase = rollout.phase;
    const now = this.o.clock.now();
    switch (action as RolloutAction) {
      case "pause":
        if (!isRunning(phase)) return this.wrongPhase(rollout, action);
        rollout.phase = "paused";
        this.record(rollout, actor, "paused", `paused by ${actor}`);
        break;
      case "resume":
        if (phase !== "paused") return this.wrongPhase(rollout, action);
        rollout.phase = "progressing";
        rollout.intervalStartedMs = now;
        this.o.stats.resetFrom(route, now);
        this.record(rollout, actor, undefined, `resumed by ${actor}`);
        break;
      case "approve":
        if (phase !== "waitingApproval") return this.wrongPhase(rollout, action);
        rollout.phase = "progressing";
        rollout.stepIndex = Math.min(rollout.stepIndex + 1, rollout.policy.steps.length - 1);
        rollout.intervalStartedMs = now;
        this.o.stats.resetFrom(route, now);
        this.applyWeights(rollout, actor);
        this.record(
          rollout,
          actor,
          "advanced",
          `approved by ${actor}: step ${stepPercentOf(rollout)}%`,
        );
        break;
      case "promote":
        if (phase === "promoted") return this.wrongPhase(rollout, action);
        rollout.phase = "promoted";
        this.applyWeights(rollout, actor);
        this.record(rollout, actor, "promoted", `promoted by ${actor}: target at 100%`);
        break;
      case "abort":
        if (phase === "rolledBack") return this.wrongPhase(rollout, action);
        rollout.phase = "rolledBack";
        this.applyWeights(rollout, actor);
        this.record(rollout, actor, "rolledBack", `aborted by ${actor}: target at 0%`);
        break;
      case "start":
        break;
    }
    return this.ok(route);
  }

  stop(): void {
    this.isStopped = true;
    this.timer?.cancel();
    this.timer = undefined;
  }

  // ---- the ticker -----------------------------------------------------------------------------

  private schedule(): void {
    if (this.isStopped || this.timer !== undefined) return;
    this.timer = this.o.clock.setTimeout(() => {
      this.timer = undefined;
      try {
        this.tick();
      } catch (error) {
        this.o.logger.error({ err: error }, "rollout evaluation failed");
      }
      this.schedule();
    }, TICK_MS);
  }

  /** One evaluation round; public so tests on a manual clock can drive it directly. */
  tick(): void {
    const now = this.o.clock.now();
    for (const rollout of this.rollouts.values()) {
      if (!isRunning(rollout.phase)) continue;
      const stats = wholeWindows(this.o.stats.forRoute(rollout.route, now));
      const input = {
        policy: rollout.policy,
        progress: {
          phase: rollout.phase,
          stepIndex: rollout.stepIndex,
          failures: rollout.failures,
        },
        stats,
      };
      // Timers fire on the event loop's clock, a fraction of a millisecond before
      // performance.now() shows the full period: a little slack keeps an interval end from
      // slipping to the next tick.
      const isIntervalEnd =
        rollout.phase === "progressing" &&
        now - rollout.intervalStartedMs >= rollout.policy.interval - TIMER_SLACK_MS;
      if (isIntervalEnd) {
        this.applyDecision(rollout, decideAtIntervalEnd(input), now);
      } else {
        // Waiting for approval still carries target traffic: a decisive failure rolls back.
        const fast = decideFastRollback(input);
        if (fast !== undefined) this.applyDecision(rollout, fast, now);
      }
    }
  }

  private applyDecision(rollout: RouteRollout, decision: Decision, now: number): void {
    const previousStep = rollout.stepIndex;
    rollout.phase = decision.next.phase;
    rollout.stepIndex = decision.next.stepIndex;
    rollout.failures = decision.next.failures;
    // Every evaluation starts a fresh window: a new step is judged on its own traffic.
    rollout.intervalStartedMs = now;
    if (rollout.stepIndex !== previousStep || isFinished(rollout.phase)) {
      this.o.stats.resetFrom(rollout.route, now);
      this.applyWeights(rollout, "rollout");
    }
    const record = {
      at: new Date(this.o.clock.wallNow()).toISOString(),
      verdict: decision.verdict,
      reason: decision.reason,
      stepPercent: targetPercentOf(rollout),
      isFast: decision.isFast,
      metrics: decision.metrics,
    };
    rollout.decisions.push(record);
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
    this.reportPhase(rollout);
    this.persist(rollout);
    const event = webhookEventFor(decision);
    if (event !== undefined) this.notify(rollout, event, decision.reason, decision.metrics);
  }

  // ---- helpers ----------------------------------------------------------------------------------

  private begin(route: string, policy: RolloutConfig, actor: Actor): void {
    const now = this.o.clock.now();
    const rollout: RouteRollout = {
      route,
      policy,
      policyHash: policyHash(policy),
      phase: "progressing",
      stepIndex: 0,
      failures: 0,
      intervalStartedMs: now,
      decisions: [],
    };
    this.rollouts.set(route, rollout);
    this.o.stats.resetFrom(route, now);
    this.applyWeights(rollout, actor);
    this.record(
      rollout,
      actor,
      "advanced",
      `rollout started by ${actor}: step ${stepPercentOf(rollout)}%`,
    );
  }

  /** Logs, persists and notifies an operator's (or the file's) change of phase or step. */
  private record(
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
    this.reportPhase(rollout);
    this.persist(rollout);
    if (event !== undefined) this.notify(rollout, event, reason, {});
  }

  private applyWeights(rollout: RouteRollout, actor: Actor): void {
    const targetPercent = targetPercentOf(rollout);
    const { target, baseline } = rollout.policy;
    const result = this.o.splits.changeSplit(rollout.route, actor, "rollout", {
      [baseline]: round2(100 - targetPercent),
      [target]: targetPercent,
    });
    if (!result.ok) {
      this.o.logger.error(
        { route: rollout.route, error: result.error },
        "rollout could not apply its weights",
      );
    }
    this.o.metrics.rolloutStep(rollout.route, target, targetPercent);
  }

  private reportPhase(rollout: RouteRollout): void {
    this.o.metrics.rolloutPhase(rollout.route, rollout.phase);
  }

  private persist(rollout: RouteRollout): void {
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
      stepPercent: targetPercentOf(rollout),
      split: {
        [rollout.policy.baseline]: round2(100 - targetPercent),
        [rollout.policy.target]: targetPercent,
      },
      reason,
      metrics: { ...metrics },
      at: new Date(this.o.clock.wallNow()).toISOString(),
    });
  }

  private ok(route: string): ControlResult<RolloutStatus> {
    const status = this.status(route);
    if (status === null)
      return refusal(409, "SWITCHYARD_ROLLOUT_IDLE", `no rollout on route "${route}"`);
    return { ok: true, value: status };
  }

  private wrongPhase(rollout: RouteRollout, action: string): ControlResult<RolloutStatus> {
    return refusal(
      409,
      "SWITCHYARD_ROLLOUT_PHASE",
      `cannot ${action} the rollout on route "${rollout.route}" while it is ${rollout.phase}`,
    );
  }
}

/**
 * Window statistics sum whole seconds, the current partial one included, and the ticker runs
 * at a fixed phase within the second: asking for one second more makes a window cover at least
 * its length (and at most a second more) whatever that phase, instead of as little as a few
 * milliseconds of the current second for a 1 s interval.
 */
function wholeWindows(stats: StatsSource): StatsSource {
  return {
    summarize: (upstream, windowMs) => stats.summarize(upstream, windowMs + 999),
  };
}

function isFinished(phase: RolloutPhase): boolean {
  return phase === "promoted" || phase === "rolledBack";
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

function refusal(
  status: 400 | 404 | 409,
  code: string,
  message: string,
): { ok: false; error: { status: 400 | 404 | 409; code: string; message: string } } {
  return { ok: false, error: { status, code, message } };
}
