/**
 * A small ControlApi for admin and CLI tests: fixed routes, upstreams and config that a test
 * can set as it likes (an open breaker, an ejected endpoint, a scripted reload outcome), with
 * the control plane's rules for changing them. Weights are checked by the control plane's own
 * parser; refusals carry its codes and messages (404 unknown route, 400 with each field's
 * problem, 409 while a rollout is progressing or waiting for approval); rollout actions follow
 * its phases; endpoint states are set by index and refused with the runtime's own 404s; every
 * change is an event. The control contract suite
 * (test/integration/control/control-contract.ts) runs against this fake and the real control
 * plane alike, so the two cannot drift apart.
 */
import type {
  Actor,
  ControlApi,
  ControlError,
  ControlResult,
  EndpointAdminState,
  EndpointView,
  ReloadOutcome,
  RolloutStatus,
  RouteStatus,
  SplitSource,
  StatusView,
  UpstreamStatus,
  WeightsChange,
} from "../../../src/control/control-api.ts";
import { parseWeightsInput } from "../../../src/control/weights-input.ts";
import {
  unknownEndpointError,
  unknownUpstreamError,
} from "../../../src/runtime/endpoint-state-write.ts";
import { entriesToPercent } from "../../../src/routing/split-entries.ts";
import type { LoggedEvent } from "../../../src/events/event-log.ts";
import { ROLLOUT_ACTIONS, type RolloutAction } from "../../../src/rollout/rollout-types.ts";

/** A route's `rollout` block, as far as the fake needs it. */
export interface FakeRolloutPolicy {
  target: string;
  baseline: string;
  steps: readonly number[];
}

export interface FakeRoute extends RouteStatus {
  /** The split from the file, restored by clearWeights. */
  fileSplit: Record<string, number>;
  /** Present when the route has a rollout block; `rollout` is then its state. */
  policy?: FakeRolloutPolicy;
}

/** The steps of the fake's `api` rollout (SPEC's default steps). */
export const FAKE_ROLLOUT_STEPS = [5, 10, 25, 50, 100] as const;

export class FakeControl implements ControlApi {
  routes: FakeRoute[] = [
    {
      name: "web",
      split: { stable: 95, canary: 5 },
      fileSplit: { stable: 95, canary: 5 },
      splitSource: "file",
      rollout: null,
    },
    {
      name: "api",
      split: { stable: 90, canary: 10 },
      fileSplit: { stable: 90, canary: 10 },
      splitSource: "rollout",
      policy: { target: "canary", baseline: "stable", steps: FAKE_ROLLOUT_STEPS },
      rollout: {
        phase: "progressing",
        target: "canary",
        baseline: "stable",
        stepIndex: 1,
        stepPercent: 10,
        failures: 0,
        lastDecision: { verdict: "advance" },
      },
    },
  ];
  upstreams: UpstreamStatus[] = [
    {
      name: "stable",
      breaker: "closed",
      breakerWorkers: 1,
      endpoints: [
        { url: "http://10.0.0.11:8080", healthy: true, ejected: false, state: "ready" },
        { url: "http://10.0.0.12:8080", healthy: false, ejected: true, state: "ready" },
      ],
    },
    {
      name: "canary",
      breaker: "open",
      breakerWorkers: 1,
      endpoints: [{ url: "http://10.0.0.21:8080", healthy: true, ejected: false, state: "ready" }],
    },
  ];
  configHash = "3f2a9c1d5e7b8a0c4d6e8f1a2b3c4d5e";
  isReadyNow = true;
  isDrainingNow = false;
  /** Startup-only keys the file changed (status `config.restartRequired`). */
  restartRequired: string[] = [];
  /** What the next reload answers; status then shows its hash and restartRequired. */
  nextReload: ReloadOutcome = {
    applied: true,
    changed: true,
    hash: "newhash0001",
    error: null,
    restartRequired: [],
  };
  effective: unknown = {
    admin: { tokens: [{ name: "ops", scope: "write", token: "<redacted>" }] },
  };
  /** The event log, oldest first; a test may push events of its own. */
  readonly loggedEvents: LoggedEvent[] = [];
  readonly calls: {
    method: string;
    route?: string;
    actor: Actor;
    weights?: unknown;
    action?: string;
    upstream?: string;
    index?: number;
    state?: EndpointAdminState;
  }[] = [];

  status(): StatusView {
    return {
      routes: this.routes.map(({ fileSplit: _fileSplit, policy: _policy, ...route }) => route),
      upstreams: this.upstreams,
      config: {
        file: "config/switchyard.yaml",
        hash: this.configHash,
        loadedAt: "2025-01-02T03:04:05.000Z",
        lastError: null,
        restartRequired: [...this.restartRequired],
      },
      ready: this.isReadyNow,
      draining: this.isDrainingNow,
      fleet: null,
      workers: [
        { id: 1, pid: 4242, startedAt: "2025-01-02T03:00:00.000Z", restarts: 0, state: "serving" },
      ],
    };
  }

  effectiveConfig(): unknown {
    return this.effective;
  }

  events(sinceId: number | undefined): LoggedEvent[] {
    return this.loggedEvents.filter((event) => event.id > (sinceId ?? 0));
  }

  // eslint-disable-next-line @typescript-eslint/require-await -- the real control plane writes asynchronously
  async setWeights(
    route: string,
    weights: unknown,
    actor: Actor,
  ): Promise<ControlResult<WeightsChange>> {
    this.calls.push({ method: "setWeights", route, actor, weights });
    const found = this.findWritable(route);
    if (!found.ok) return found;
    const parsed = parseWeightsInput(
      weights,
      new Set(this.upstreams.map((upstream) => upstream.name)),
      Object.keys(found.value.fileSplit),
    );
    if (!parsed.ok) {
      return refusal(
        400,
        "SWITCHYARD_INVALID_WEIGHTS",
        `the weights are invalid: ${Object.values(parsed.fields).join("; ")}`,
        parsed.fields,
      );
    }
    return { ok: true, value: this.apply(found.value, entriesToPercent(parsed.entries), actor) };
  }

  // eslint-disable-next-line @typescript-eslint/require-await -- as setWeights
  async clearWeights(route: string, actor: Actor): Promise<ControlResult<WeightsChange>> {
    this.calls.push({ method: "clearWeights", route, actor });
    const found = this.findWritable(route);
    if (!found.ok) return found;
    const target = found.value;
    if (target.splitSource === "file") {
      const split = { ...target.split };
      return { ok: true, value: { route, before: split, after: split, splitSource: "file" } };
    }
    return { ok: true, value: this.apply(target, { ...target.fileSplit }, actor, "file") };
  }

  // eslint-disable-next-line @typescript-eslint/require-await -- as setWeights
  async setEndpointState(
    upstream: string,
    index: number,
    state: EndpointAdminState,
    actor: Actor,
  ): Promise<ControlResult<EndpointView>> {
    this.calls.push({ method: "setEndpointState", upstream, index, state, actor });
    const found = this.upstreams.find((candidate) => candidate.name === upstream);
    if (found === undefined) return { ok: false, error: unknownUpstreamError(upstream) };
    const endpoint = found.endpoints[index];
    if (endpoint === undefined) {
      return { ok: false, error: unknownEndpointError(upstream, index, found.endpoints.length) };
    }
    const before = endpoint.state;
    if (before !== state) {
      endpoint.state = state;
      const change = { upstream, index, url: endpoint.url, before, after: state };
      this.append("endpoint.stateChanged", { ...change, actor, source: "admin" });
    }
    return { ok: true, value: { upstream, index, before, ...endpoint } };
  }

  reload(actor: Actor): Promise<ReloadOutcome> {
    this.calls.push({ method: "reload", actor });
    if (this.nextReload.applied) this.configHash = this.nextReload.hash;
    this.restartRequired = [...this.nextReload.restartRequired];
    return Promise.resolve(this.nextReload);
  }

  // eslint-disable-next-line @typescript-eslint/require-await -- as setWeights
  async rolloutAction(
    route: string,
    action: string,
    actor: Actor,
  ): Promise<ControlResult<RolloutStatus>> {
    this.calls.push({ method: "rolloutAction", route, actor, action });
    if (!(ROLLOUT_ACTIONS as readonly string[]).includes(action)) {
      return refusal(
        404,
        "SWITCHYARD_UNKNOWN_ACTION",
        `unknown rollout action "${action}" (one of ${ROLLOUT_ACTIONS.join(", ")})`,
      );
    }
    const found = this.routes.find((candidate) => candidate.name === route);
    if (found === undefined) return unknownRoute(route);
    const { policy, rollout } = found;
    if (policy === undefined) {
      return refusal(
        409,
        "SWITCHYARD_NO_ROLLOUT",
        `route "${route}" has no rollout block in the config`,
      );
    }
    const isUnderWay =
      rollout !== null && ["progressing", "waitingApproval", "paused"].includes(rollout.phase);
    if (action === "start" && isUnderWay) {
      return refusal(
        409,
        "SWITCHYARD_ROLLOUT_PHASE",
        `a rollout is already ${rollout.phase} on route "${route}" at ${String(rollout.stepPercent)}%; abort it first (switchyard rollout ${route} abort)`,
      );
    }
    if (action === "start" || rollout === null) {
      if (action !== "start") {
        return refusal(
          409,
          "SWITCHYARD_ROLLOUT_IDLE",
          `no rollout is running on route "${route}"; start one first`,
        );
      }
      const started = rolloutStatus(policy, "progressing", 0);
      const reason = `rollout started by ${actor}: step ${String(started.stepPercent)}%`;
      return this.act(found, policy, started, actor, reason);
    }
    return this.moveRollout(found, policy, rollout, action as RolloutAction, actor);
  }

  isReady(): boolean {
    return this.isReadyNow;
  }

  isDraining(): boolean {
    return this.isDrainingNow;
  }

  /** Actions on a running rollout, by the control plane's phase rules. */
  private moveRollout(
    route: FakeRoute,
    policy: FakeRolloutPolicy,
    rollout: RolloutStatus,
    action: RolloutAction,
    actor: Actor,
  ): ControlResult<RolloutStatus> {
    const { phase, stepIndex } = rollout;
    const isRunning = phase === "progressing" || phase === "waitingApproval";
    const wrongPhase = refusal(
      409,
      "SWITCHYARD_ROLLOUT_PHASE",
      `cannot ${action} the rollout on route "${route.name}" while it is ${phase}`,
    );
    switch (action) {
      case "pause":
        if (!isRunning) return wrongPhase;
        return this.record(route, { ...rollout, phase: "paused" }, actor, `paused by ${actor}`);
      case "resume":
        if (phase !== "paused") return wrongPhase;
        return this.record(
          route,
          { ...rollout, phase: "progressing" },
          actor,
          `resumed by ${actor}`,
        );
      case "approve": {
        if (phase !== "waitingApproval") return wrongPhase;
        const next = Math.min(stepIndex + 1, policy.steps.length - 1);
        const approved = rolloutStatus(policy, "progressing", next, rollout);
        const reason = `approved by ${actor}: step ${String(approved.stepPercent)}%`;
        return this.act(route, policy, approved, actor, reason);
      }
      case "promote":
      case "abort": {
        const isPromote = action === "promote";
        const finished = isPromote ? "promoted" : "rolledBack";
        if (phase === finished) return wrongPhase;
        const reason = isPromote
          ? `promoted by ${actor}: target at 100%`
          : `aborted by ${actor}: target at 0%`;
        const next = rolloutStatus(policy, finished, stepIndex, rollout);
        return this.act(route, policy, next, actor, reason);
      }
      case "start":
        return wrongPhase;
    }
  }

  /** A rollout change that moves the split: the weights first, then the action's event. */
  private act(
    route: FakeRoute,
    policy: FakeRolloutPolicy,
    next: RolloutStatus,
    actor: Actor,
    reason: string,
  ): ControlResult<RolloutStatus> {
    const targetPercent = next.stepPercent;
    const split = {
      [policy.baseline]: Math.round((100 - targetPercent) * 100) / 100,
      [policy.target]: targetPercent,
    };
    this.apply(route, split, actor, "rollout");
    return this.record(route, next, actor, reason);
  }

  private record(
    route: FakeRoute,
    next: RolloutStatus,
    actor: Actor,
    reason: string,
  ): ControlResult<RolloutStatus> {
    route.rollout = next;
    this.append("rollout.action", {
      route: route.name,
      actor,
      phase: next.phase,
      stepPercent: next.stepPercent,
      reason,
    });
    return { ok: true, value: { ...next } };
  }

  /** The route an operator may change the split of: known, and no rollout running on it. */
  private findWritable(route: string): ControlResult<FakeRoute> {
    const found = this.routes.find((candidate) => candidate.name === route);
    if (found === undefined) return unknownRoute(route);
    const phase = found.rollout?.phase;
    if (phase === "progressing" || phase === "waitingApproval") {
      return refusal(
        409,
        "SWITCHYARD_ROLLOUT_RUNNING",
        `a rollout is running on route "${route}"; pause it first (switchyard rollout ${route} pause)`,
      );
    }
    return { ok: true, value: found };
  }

  private apply(
    route: FakeRoute,
    after: Record<string, number>,
    actor: Actor,
    source: SplitSource = "admin",
  ): WeightsChange {
    const before = route.split;
    route.split = after;
    route.splitSource = source;
    this.append("weights.changed", {
      route: route.name,
      actor,
      before,
      after,
      splitSource: source,
    });
    return { route: route.name, before, after, splitSource: source };
  }

  private append(type: string, fields: Record<string, unknown>): void {
    const lastId = this.loggedEvents.at(-1)?.id ?? 0;
    this.loggedEvents.push({ ...fields, id: lastId + 1, at: new Date().toISOString(), type });
  }
}

/** A rollout's status at `stepIndex`; the target's share is 100 promoted, 0 rolled back. */
function rolloutStatus(
  policy: FakeRolloutPolicy,
  phase: RolloutStatus["phase"],
  stepIndex: number,
  previous?: RolloutStatus,
): RolloutStatus {
  const stepPercent =
    phase === "promoted" ? 100 : phase === "rolledBack" ? 0 : (policy.steps[stepIndex] ?? 0);
  return {
    phase,
    target: policy.target,
    baseline: policy.baseline,
    stepIndex,
    stepPercent,
    failures: previous?.failures ?? 0,
    lastDecision: previous?.lastDecision ?? null,
  };
}

function refusal(
  status: ControlError["status"],
  code: ControlError["code"],
  message: string,
  fields?: Record<string, string>,
): { ok: false; error: ControlError } {
  return {
    ok: false,
    error: { status, code, message, ...(fields === undefined ? {} : { fields }) },
  };
}

function unknownRoute(route: string): { ok: false; error: ControlError } {
  return refusal(404, "SWITCHYARD_UNKNOWN_ROUTE", `no route named "${route}"`);
}
