/**
 * Runs the rollouts (SPEC 5 and 12): a ticker about every second evaluates each progressing
 * rollout, with the full decision at the end of each interval and the fast-rollback check in
 * between, and takes the operator's verbs. Every change that moves traffic is written through
 * the runtime's one split writer first; the rollout's phase, step, metrics, state file and
 * webhooks change only once that write succeeded, so they never disagree with live traffic.
 * Work on one route runs one piece at a time (a verb waits for an evaluation in flight).
 */
import type { Config, RolloutConfig } from "../config/schema.ts";
import {
  refusal,
  type Actor,
  type ControlError,
  type ControlResult,
  type RolloutStatus,
} from "../control/control-api.ts";
import type { RolloutView } from "../control/control-plane.ts";
import { CODE } from "../errors/error-codes.ts";
import type { Logger } from "../log/logger.ts";
import type { SplitReader, SplitWriter } from "../runtime/split-write.ts";
import type { Clock, TimerHandle } from "../time/clock.ts";
import { decideAtIntervalEnd, decideFastRollback } from "./decide.ts";
import { planAction, startRefusal, type ActionPlan } from "./rollout-actions.ts";
import { KeyedQueue } from "./keyed-queue.ts";
import { RolloutReporter, type RolloutReporterOptions } from "./rollout-reporter.ts";
import { restoreRollout } from "./rollout-restore.ts";
import {
  identityOf,
  isFinished,
  isRunning,
  rolloutSplitBp,
  statusOf,
  stepPercentOf,
  targetPercentFor,
  targetPercentOf,
  type RouteRollout,
} from "./rollout-state.ts";
import {
  ROLLOUT_ACTIONS,
  type Decision,
  type RolloutAction,
  type RolloutProgress,
  type StatsSource,
} from "./rollout-types.ts";

export type { RolloutMetrics, RolloutNotifier, RolloutPersistence } from "./rollout-reporter.ts";

export const TICK_MS = 1000;
const TIMER_SLACK_MS = 50;

export interface RolloutStats {
  forRoute(route: string, nowMs: number): StatsSource;
  resetFrom(route: string, nowMs: number): void;
}

export interface RolloutControllerOptions extends RolloutReporterOptions {
  splits: SplitWriter & SplitReader;
  stats: RolloutStats;
  logger: Logger;
  clock: Clock;
}

export class RolloutController implements RolloutView {
  private readonly o: RolloutControllerOptions;
  private readonly report: RolloutReporter;
  private readonly rollouts = new Map<string, RouteRollout>();
  private readonly queue = new KeyedQueue();
  private timer: TimerHandle | undefined;
  private isStopped = false;

  constructor(options: RolloutControllerOptions) {
    this.o = options;
    this.report = new RolloutReporter(options);
  }

  /**
   * At startup: resumes saved progress whose rollout is still the file's (with a fresh window),
   * and starts the rollouts that have none.
   */
  async initialize(
    config: Config,
    saved: ReadonlyMap<string, Readonly<Record<string, unknown>>>,
  ): Promise<void> {
    for (const route of config.routes) {
      const policy = route.rollout;
      if (policy === undefined) {
        if (saved.has(route.name)) this.o.persistence.setRollout(route.name, null);
        continue;
      }
      const now = this.o.clock.now();
      const restored = restoreRollout(route.name, policy, saved.get(route.name), now);
      if (restored === undefined) {
        await this.run(route.name, () => this.begin(route.name, policy, "file"));
        continue;
      }
      this.rollouts.set(route.name, restored);
      this.o.stats.resetFrom(route.name, now);
      this.o.logger.info(
        { route: route.name, phase: restored.phase, stepPercent: stepPercentOf(restored) },
        "rollout resumed where it was, with a fresh window",
      );
      // A paused or finished rollout no longer owns the split: the saved one (maybe an
      // operator's) stands.
      if (isRunning(restored.phase)) await this.run(route.name, () => this.enforceStep(route.name));
      this.report.stateChanged(restored);
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

  /**
   * A new config is in force. A rollout restarts only when its target, baseline or steps
   * changed; other edits apply to it as it runs. Removing the block stops it, and the split
   * it left stays until someone changes it.
   */
  async configApplied(config: Config): Promise<void> {
    for (const route of config.routes) {
      const policy = route.rollout;
      const name = route.name;
      const rollout = this.rollouts.get(name);
      if (policy === undefined) {
        if (rollout !== undefined)
          this.stopRollout(name, "the rollout block was removed from the config");
      } else if (rollout === undefined || rollout.policyHash !== identityOf(policy)) {
        await this.run(name, () => this.begin(name, policy, "file"));
      } else {
        rollout.policy = policy;
        // The file may have changed the route's split under a running rollout: its step stands.
        if (isRunning(rollout.phase)) await this.run(name, () => this.enforceStep(name));
      }
    }
    for (const name of this.rollouts.keys()) {
      if (!config.routes.some((r) => r.name === name))
        this.stopRollout(name, "the route was removed");
    }
  }

  // ---- operator actions -----------------------------------------------------------------------

  act(
    route: string,
    action: string,
    actor: Actor,
    config: Config,
  ): Promise<ControlResult<RolloutStatus>> {
    if (!(ROLLOUT_ACTIONS as readonly string[]).includes(action)) {
      const known = ROLLOUT_ACTIONS.join(", ");
      const message = `unknown rollout action "${action}" (one of ${known})`;
      return Promise.resolve(refusal(CODE.SWITCHYARD_UNKNOWN_ACTION, message));
    }
    const routeConfig = config.routes.find((r) => r.name === route);
    if (routeConfig === undefined) {
      return Promise.resolve(refusal(CODE.SWITCHYARD_UNKNOWN_ROUTE, `no route named "${route}"`));
    }
    const policy = routeConfig.rollout;
    if (policy === undefined) {
      const message = `route "${route}" has no rollout block in the config`;
      return Promise.resolve(refusal(CODE.SWITCHYARD_NO_ROLLOUT, message));
    }
    return this.run(route, () => this.actNow(route, action as RolloutAction, actor, policy));
  }

  /** Stops the ticker; work already queued finishes. */
  stop(): void {
    this.isStopped = true;
    this.timer?.cancel();
    this.timer = undefined;
  }

  /** Resolves once every queued piece of work has finished. */
  idle(): Promise<void> {
    return this.queue.idle();
  }

  private async actNow(
    route: string,
    action: RolloutAction,
    actor: Actor,
    policy: RolloutConfig,
  ): Promise<ControlResult<RolloutStatus>> {
    const rollout = this.rollouts.get(route);
    if (action === "start") {
      const refused = startRefusal(rollout);
      if (refused !== undefined) return { ok: false, error: refused };
      const error = await this.begin(route, policy, actor);
      return error === undefined ? this.statusResult(route) : { ok: false, error };
    }
    if (rollout === undefined) {
      const message = `no rollout is running on route "${route}"; start one first`;
      return refusal(CODE.SWITCHYARD_ROLLOUT_IDLE, message);
    }
    const outcome = planAction(rollout, action, actor);
    if (!outcome.ok) return outcome;
    const error = await this.commitAction(rollout, outcome.plan, actor);
    return error === undefined ? this.statusResult(route) : { ok: false, error };
  }

  private async commitAction(
    rollout: RouteRollout,
    plan: ActionPlan,
    actor: Actor,
  ): Promise<ControlError | undefined> {
    if (plan.isSplitWritten) {
      const error = await this.writeSplit(rollout, plan.next, actor);
      if (error !== undefined) return error;
    }
    const now = this.o.clock.now();
    Object.assign(rollout, plan.next);
    if (plan.isFreshStep) this.freshStep(rollout, now);
    this.report.action(rollout, actor, plan.event, plan.reason);
    return undefined;
  }

  // ---- the ticker -----------------------------------------------------------------------------

  private schedule(): void {
    if (this.isStopped || this.timer !== undefined) return;
    this.timer = this.o.clock.setTimeout(() => {
      this.timer = undefined;
      this.tick()
        .catch((error: unknown) => {
          this.o.logger.error({ err: error }, "rollout evaluation failed");
        })
        .finally(() => {
          this.schedule();
        });
    }, TICK_MS);
  }

  /** One evaluation round; public so tests on a manual clock can drive it directly. */
  async tick(): Promise<void> {
    const routes = [...this.rollouts.values()]
      .filter((r) => isRunning(r.phase))
      .map((r) => r.route);
    await Promise.all(routes.map((route) => this.run(route, () => this.evaluate(route))));
  }

  private async evaluate(route: string): Promise<void> {
    const rollout = this.rollouts.get(route);
    if (rollout === undefined || !isRunning(rollout.phase)) return;
    const now = this.o.clock.now();
    const input = {
      policy: rollout.policy,
      progress: { phase: rollout.phase, stepIndex: rollout.stepIndex, failures: rollout.failures },
      stats: wholeWindows(this.o.stats.forRoute(route, now)),
    };
    // Timers fire on the event loop's clock, a fraction of a millisecond before
    // performance.now() shows the full period: a little slack keeps an interval end from
    // slipping to the next tick.
    const isIntervalEnd =
      rollout.phase === "progressing" &&
      now - rollout.intervalStartedMs >= rollout.policy.interval - TIMER_SLACK_MS;
    // Waiting for approval still carries target traffic: a decisive failure rolls back.
    const decision = isIntervalEnd ? decideAtIntervalEnd(input) : decideFastRollback(input);
    if (decision !== undefined) await this.applyDecision(rollout, decision, now);
    await this.pauseIfPastDeadline(rollout, now);
  }

  private async applyDecision(
    rollout: RouteRollout,
    decision: Decision,
    now: number,
  ): Promise<void> {
    const next = decision.next;
    const isNewStep = next.stepIndex !== rollout.stepIndex || isFinished(next.phase);
    if (isNewStep && (await this.writeSplit(rollout, next, "rollout")) !== undefined) return;
    Object.assign(rollout, next);
    // Every evaluation starts a fresh window: a new step is judged on its own traffic.
    rollout.intervalStartedMs = now;
    if (isNewStep) this.freshStep(rollout, now);
    this.report.decision(rollout, decision);
  }

  /** rollout.progressDeadline: a step held longer pauses the rollout with the reason. */
  private async pauseIfPastDeadline(rollout: RouteRollout, now: number): Promise<void> {
    const deadlineMs = rollout.policy.progressDeadline;
    if (deadlineMs === undefined || rollout.phase !== "progressing") return;
    if (now - rollout.stepStartedMs < deadlineMs) return;
    const seconds = Math.round((now - rollout.stepStartedMs) / 1000);
    const reason =
      `the ${stepPercentOf(rollout)}% step was held for ${seconds} s, longer than ` +
      `progressDeadline; paused (switchyard rollout ${rollout.route} resume)`;
    const plan: ActionPlan = {
      next: { phase: "paused", stepIndex: rollout.stepIndex, failures: rollout.failures },
      isSplitWritten: false,
      isFreshStep: false,
      event: "paused",
      reason,
    };
    await this.commitAction(rollout, plan, "rollout");
  }

  // ---- helpers ----------------------------------------------------------------------------------

  /** Starts a rollout at its first step; undefined when it is in force. */
  private async begin(
    route: string,
    policy: RolloutConfig,
    actor: Actor,
  ): Promise<ControlError | undefined> {
    const now = this.o.clock.now();
    const rollout: RouteRollout = {
      route,
      policy,
      policyHash: identityOf(policy),
      phase: "progressing",
      stepIndex: 0,
      failures: 0,
      intervalStartedMs: now,
      stepStartedMs: now,
      decisions: [],
      lastWriteError: undefined,
    };
    const error = await this.writeSplit(rollout, rollout, actor);
    if (error !== undefined) return error;
    this.rollouts.set(route, rollout);
    this.o.stats.resetFrom(route, now);
    this.report.action(
      rollout,
      actor,
      "advanced",
      `rollout started by ${actor}: step ${stepPercentOf(rollout)}%`,
    );
    return undefined;
  }

  /** Puts a running rollout's step split back when something else replaced it. */
  private async enforceStep(route: string): Promise<void> {
    const rollout = this.rollouts.get(route);
    if (rollout === undefined || !isRunning(rollout.phase)) return;
    const inForce = this.o.splits.splitOf(route);
    const wanted = rolloutSplitBp(rollout.policy, targetPercentOf(rollout));
    if (inForce?.source === "rollout" && sameSplit(inForce.entries, wanted)) return;
    await this.writeSplit(rollout, rollout, "rollout");
  }

  /** Writes the split `next` implies; returns the refusal, or undefined once it is in force. */
  private async writeSplit(
    rollout: RouteRollout,
    next: RolloutProgress,
    actor: Actor,
  ): Promise<ControlError | undefined> {
    const percent = targetPercentFor(rollout.policy, next.phase, next.stepIndex);
    const result = await this.o.splits.setSplit({
      route: rollout.route,
      splitBp: rolloutSplitBp(rollout.policy, percent),
      source: "rollout",
      actor,
    });
    if (result.ok) {
      rollout.lastWriteError = undefined;
      return undefined;
    }
    this.report.writeRefused(rollout, result.error);
    return result.error;
  }

  private freshStep(rollout: RouteRollout, now: number): void {
    rollout.intervalStartedMs = now;
    rollout.stepStartedMs = now;
    this.o.stats.resetFrom(rollout.route, now);
  }

  private stopRollout(route: string, reason: string): void {
    this.rollouts.delete(route);
    this.report.stopped(route, reason);
  }

  private run<T>(route: string, work: () => Promise<T>): Promise<T> {
    return this.queue.run(route, work);
  }

  private statusResult(route: string): ControlResult<RolloutStatus> {
    const status = this.status(route);
    if (status === null) {
      return refusal(CODE.SWITCHYARD_ROLLOUT_IDLE, `no rollout on route "${route}"`);
    }
    return { ok: true, value: status };
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

function sameSplit(
  a: readonly { upstream: string; weightBp: number }[],
  b: readonly { upstream: string; weightBp: number }[],
): boolean {
  const inA = new Map(a.filter((e) => e.weightBp > 0).map((e) => [e.upstream, e.weightBp]));
  const inB = b.filter((e) => e.weightBp > 0);
  return inA.size === inB.length && inB.every((e) => inA.get(e.upstream) === e.weightBp);
}
