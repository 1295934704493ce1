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
import { randomUUID } from "node:crypto";
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
  fromPersisted,
  identityOf,
  isFinished,
  isRunning,
  isSameProgress,
  rolloutSplitBp,
  statusOf,
  stepPercentOf,
  targetPercentOf,
  toPersisted,
  withDecision,
  type PersistedRollout,
  type RouteRollout,
} from "./rollout-state.ts";
import type { LogEntry } from "./rollout-reporter.ts";
import { LocalRolloutWriter, type RolloutWriter } from "./rollout-writer.ts";
import {
  ROLLOUT_ACTIONS,
  type Decision,
  type RolloutAction,
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
  /** How changes are committed (default: the split writer, then the state file). */
  writer?: RolloutWriter;
  /** Whether this process judges the rollouts now (fleet mode: the leader only). Default yes. */
  isJudge?: () => boolean;
  /** The id of each decision and action (default a random UUID). */
  newId?: () => string;
  /** Fleet mode: why no replica judges now, shown in a running rollout's status. */
  holdReason?: () => string | undefined;
}

/** How a change is committed. */
interface CommitHow {
  readonly isSplitWritten: boolean;
  readonly actor: Actor;
  readonly isDecision: boolean;
  readonly logged: LogEntry;
  readonly isFromFile?: boolean;
}

/** A commit's outcome: in force, the fleet's own record taken over instead, or refused. */
type Committed = "committed" | "adopted" | { readonly error: ControlError };

export class RolloutController implements RolloutView {
  private readonly o: RolloutControllerOptions;
  private readonly report: RolloutReporter;
  private readonly rollouts = new Map<string, RouteRollout>();
  private readonly queue = new KeyedQueue();
  private readonly writer: RolloutWriter;
  private readonly newId: () => string;
  /** The record each route's commit in flight writes: its own write coming back is no news. */
  private readonly committing = new Map<string, PersistedRollout>();
  private timer: TimerHandle | undefined;
  private isStopped = false;

  constructor(options: RolloutControllerOptions) {
    this.o = options;
    this.report = new RolloutReporter(options);
    this.writer = options.writer ?? new LocalRolloutWriter(options.splits, options.persistence);
    this.newId = options.newId ?? randomUUID;
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
        if (saved.has(route.name)) this.writer.forget(route.name);
        continue;
      }
      const now = this.o.clock.now();
      const restored = restoreRollout(route.name, policy, saved.get(route.name), now);
      if (restored === undefined) {
        await this.run(route.name, () => this.begin(route.name, policy, "file", true));
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
    if (rollout === undefined) return null;
    const holdReason = isRunning(rollout.phase) ? this.o.holdReason?.() : undefined;
    return holdReason === undefined ? statusOf(rollout) : { ...statusOf(rollout), holdReason };
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
        await this.run(name, () => this.begin(name, policy, "file", true));
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

  /**
   * Fleet mode: the shared records, newer than what this process holds. Each rollout of the
   * config whose shared record is the same rollout (same identity) but at other progress is
   * taken over as it is there, with a fresh window; the others are left alone.
   */
  adoptShared(records: Readonly<Record<string, unknown>>, config: Config): void {
    for (const route of config.routes) {
      const record = records[route.name];
      if (route.rollout === undefined || typeof record !== "object" || record === null) continue;
      const persisted = fromPersisted(record as Record<string, unknown>);
      if (persisted !== undefined) this.adoptRecord(route.name, route.rollout, persisted);
    }
  }

  /**
   * Fleet mode: this replica now judges. It knows neither the window its predecessor judged
   * nor when the step began, so every rollout starts a fresh window and step clock.
   */
  freshWindows(): void {
    const now = this.o.clock.now();
    for (const rollout of this.rollouts.values()) this.freshStep(rollout, now);
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
      const error = await this.begin(route, policy, actor, false);
      return error === undefined ? this.statusResult(route) : { ok: false, error };
    }
    if (rollout === undefined) {
      const message = `no rollout is running on route "${route}"; start one first`;
      return refusal(CODE.SWITCHYARD_ROLLOUT_IDLE, message);
    }
    const outcome = planAction(rollout, action, actor);
    if (!outcome.ok) return outcome;
    const error = await this.commitAction(rollout, outcome.plan, actor, false);
    return error === undefined ? this.statusResult(route) : { ok: false, error };
  }

  private async commitAction(
    rollout: RouteRollout,
    plan: ActionPlan,
    actor: Actor,
    isDecision: boolean,
  ): Promise<ControlError | undefined> {
    const candidate: RouteRollout = { ...rollout, ...plan.next };
    const logged = this.report.actionEvent(candidate, actor, plan.reason, this.newId());
    const how = { isSplitWritten: plan.isSplitWritten, actor, isDecision, logged };
    const committed = await this.commit(rollout, candidate, how);
    if (committed !== "committed") return errorOf(committed);
    const now = this.o.clock.now();
    Object.assign(rollout, plan.next);
    if (plan.isFreshStep) this.freshStep(rollout, now);
    this.report.action(rollout, actor, plan.event, logged);
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
    if (this.o.isJudge?.() === false) return;
    const routes = [...this.rollouts.values()]
      .filter((r) => isRunning(r.phase))
      .map((r) => r.route);
    await Promise.all(routes.map((route) => this.run(route, () => this.evaluate(route))));
  }

  private async evaluate(route: string): Promise<void> {
    const rollout = this.rollouts.get(route);
    if (rollout === undefined || !isRunning(rollout.phase)) return;
    // Leadership may have moved while this waited in the queue.
    if (this.o.isJudge?.() === false) return;
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
    const candidate: RouteRollout = { ...rollout, ...next };
    candidate.decisions = withDecision(rollout.decisions, {
      at: new Date(this.o.clock.wallNow()).toISOString(),
      verdict: decision.verdict,
      reason: decision.reason,
      stepPercent: targetPercentOf(candidate),
      isFast: decision.isFast,
      metrics: decision.metrics,
    });
    const logged = this.report.decisionEvent(candidate, decision, this.newId());
    const how = { isSplitWritten: isNewStep, actor: "rollout", isDecision: true, logged };
    if ((await this.commit(rollout, candidate, how)) !== "committed") return;
    Object.assign(rollout, next);
    rollout.decisions = candidate.decisions;
    // Every evaluation starts a fresh window: a new step is judged on its own traffic.
    rollout.intervalStartedMs = now;
    if (isNewStep) this.freshStep(rollout, now);
    this.report.decision(rollout, decision, logged);
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
    await this.commitAction(rollout, plan, "rollout", true);
  }

  // ---- helpers ----------------------------------------------------------------------------------

  /** Starts a rollout at its first step; undefined when it is in force. */
  private async begin(
    route: string,
    policy: RolloutConfig,
    actor: Actor,
    isFromFile: boolean,
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
    const reason = `rollout started by ${actor}: step ${stepPercentOf(rollout)}%`;
    const logged = this.report.actionEvent(rollout, actor, reason, this.newId());
    const how = { isSplitWritten: true, actor, isDecision: false, logged, isFromFile };
    const committed = await this.commit(undefined, rollout, how);
    if (committed === "adopted") return undefined;
    if (committed !== "committed") return committed.error;
    this.rollouts.set(route, rollout);
    this.o.stats.resetFrom(route, now);
    this.report.action(rollout, actor, "advanced", logged);
    return undefined;
  }

  /** Puts a running rollout's step split back when something else replaced it. */
  private async enforceStep(route: string): Promise<void> {
    const rollout = this.rollouts.get(route);
    if (rollout === undefined || !isRunning(rollout.phase)) return;
    const inForce = this.o.splits.splitOf(route);
    const wanted = rolloutSplitBp(rollout.policy, targetPercentOf(rollout));
    if (inForce?.source === "rollout" && sameSplit(inForce.entries, wanted)) return;
    const logged: LogEntry = {
      type: "rollout.splitRestored",
      fields: { route, phase: rollout.phase, stepPercent: targetPercentOf(rollout) },
    };
    await this.commit(rollout, rollout, {
      isSplitWritten: true,
      actor: "rollout",
      isDecision: false,
      logged,
    });
  }

  /**
   * Commits `candidate`, the rollout `rollout` becomes (undefined: a new one). A refusal is
   * reported once; when the fleet's record moved on meanwhile, it is taken over.
   */
  private async commit(
    rollout: RouteRollout | undefined,
    candidate: RouteRollout,
    how: CommitHow,
  ): Promise<Committed> {
    const record = toPersisted(candidate);
    this.committing.set(candidate.route, record);
    const result = await this.writer
      .commit({
        route: candidate.route,
        splitBp: how.isSplitWritten
          ? rolloutSplitBp(candidate.policy, targetPercentOf(candidate))
          : undefined,
        record,
        basis: rollout === undefined ? undefined : toPersisted(rollout),
        isFromFile: how.isFromFile ?? false,
        actor: how.actor,
        isDecision: how.isDecision,
        event: how.logged,
      })
      .finally(() => {
        this.committing.delete(candidate.route);
      });
    if (result.ok && result.adopted !== undefined) {
      this.adoptRecord(candidate.route, candidate.policy, result.adopted);
      return "adopted";
    }
    if (result.ok) {
      if (rollout !== undefined) rollout.lastWriteError = undefined;
      return "committed";
    }
    if (result.shared !== undefined && result.shared !== null) {
      this.adoptRecord(candidate.route, candidate.policy, result.shared);
    }
    this.report.writeRefused(rollout ?? candidate, result.error);
    return { error: result.error };
  }

  /** Takes over a shared record of the same rollout at other progress (fleet mode). */
  private adoptRecord(route: string, policy: RolloutConfig, record: PersistedRollout): void {
    const held = this.rollouts.get(route);
    if (held !== undefined && isSameProgress(toPersisted(held), record)) return;
    const ours = this.committing.get(route);
    if (ours !== undefined && isSameProgress(ours, record)) return;
    const now = this.o.clock.now();
    const adopted = restoreRollout(route, policy, { ...record }, now);
    if (adopted === undefined) return;
    this.rollouts.set(route, adopted);
    this.o.stats.resetFrom(route, now);
    this.report.stateChanged(adopted);
  }

  private freshStep(rollout: RouteRollout, now: number): void {
    rollout.intervalStartedMs = now;
    rollout.stepStartedMs = now;
    this.o.stats.resetFrom(rollout.route, now);
  }

  private stopRollout(route: string, reason: string): void {
    this.rollouts.delete(route);
    this.writer.forget(route);
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

function errorOf(committed: Committed): ControlError | undefined {
  return typeof committed === "object" ? committed.error : undefined;
}

function sameSplit(
  a: readonly { upstream: string; weightBp: number }[],
  b: readonly { upstream: string; weightBp: number }[],
): boolean {
  const inA = new Map(a.filter((e) => e.weightBp > 0).map((e) => [e.upstream, e.weightBp]));
  const inB = b.filter((e) => e.weightBp > 0);
  return inA.size === inB.length && inB.every((e) => inA.get(e.upstream) === e.weightBp);
}
