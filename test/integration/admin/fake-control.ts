/**
 * A small, real ControlApi for admin and CLI tests: routes with splits in percent, upstreams,
 * an event log and a scripted reload outcome. It validates weights the way the control plane
 * does (known upstreams, 0..100, sum 100) so refusals travel the whole way.
 */
import type {
  Actor,
  ControlApi,
  ControlError,
  ControlResult,
  ReloadOutcome,
  RolloutStatus,
  RouteStatus,
  StatusView,
  UpstreamStatus,
  WeightsChange,
} from "../../../src/control/control-api.ts";
import type { LoggedEvent } from "../../../src/events/event-log.ts";

export interface FakeRoute extends RouteStatus {
  /** The split from the file, restored by clearWeights. */
  fileSplit: Record<string, number>;
}

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
      endpoints: [
        { url: "http://10.0.0.11:8080", healthy: true, ejected: false },
        { url: "http://10.0.0.12:8080", healthy: false, ejected: true },
      ],
    },
    {
      name: "canary",
      breaker: "open",
      endpoints: [{ url: "http://10.0.0.21:8080", healthy: true, ejected: false }],
    },
  ];
  configHash = "3f2a9c1d5e7b8a0c4d6e8f1a2b3c4d5e";
  isReadyNow = true;
  isDrainingNow = false;
  /** What the next reload answers. */
  nextReload: ReloadOutcome = { applied: true, changed: true, hash: "newhash0001", error: null };
  effective: unknown = {
    admin: { tokens: [{ name: "ops", scope: "write", token: "<redacted>" }] },
  };
  readonly loggedEvents: LoggedEvent[] = [];
  readonly calls: {
    method: string;
    route?: string;
    actor: Actor;
    weights?: unknown;
    action?: string;
  }[] = [];

  status(): StatusView {
    return {
      routes: this.routes.map(({ fileSplit: _fileSplit, ...route }) => route),
      upstreams: this.upstreams,
      config: {
        file: "config/switchyard.yaml",
        hash: this.configHash,
        loadedAt: "2025-01-02T03:04:05.000Z",
        lastError: null,
      },
      ready: this.isReadyNow,
      draining: this.isDrainingNow,
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
    const found = this.routes.find((candidate) => candidate.name === route);
    if (found === undefined) return unknownRoute(route);
    if (found.rollout?.phase === "progressing") {
      return {
        ok: false,
        error: {
          status: 409,
          code: "SWITCHYARD_ROLLOUT_RUNNING",
          message: `A rollout is running on route "${route}"; pause or abort it first.`,
        },
      };
    }
    const asked = weights as Record<string, number>;
    const fields: Record<string, string> = {};
    for (const [name, percent] of Object.entries(asked)) {
      if (!(name in found.split)) fields[`weights.${name}`] = "is not an upstream of this route";
      else if (percent < 0 || percent > 100) fields[`weights.${name}`] = "must be 0..100";
    }
    const sum = Object.values(asked).reduce((total, percent) => total + percent, 0);
    if (Object.keys(fields).length === 0 && sum !== 100) fields.weights = `sum to ${sum}, not 100`;
    if (Object.keys(fields).length > 0) {
      return {
        ok: false,
        error: { status: 400, code: "SWITCHYARD_INVALID_WEIGHTS", message: "Invalid.", fields },
      };
    }
    return { ok: true, value: this.apply(found, { ...asked }, "admin") };
  }

  // eslint-disable-next-line @typescript-eslint/require-await -- as setWeights
  async clearWeights(route: string, actor: Actor): Promise<ControlResult<WeightsChange>> {
    this.calls.push({ method: "clearWeights", route, actor });
    const found = this.routes.find((candidate) => candidate.name === route);
    if (found === undefined) return unknownRoute(route);
    return { ok: true, value: this.apply(found, { ...found.fileSplit }, "file") };
  }

  reload(actor: Actor): Promise<ReloadOutcome> {
    this.calls.push({ method: "reload", actor });
    if (this.nextReload.applied) this.configHash = this.nextReload.hash;
    return Promise.resolve(this.nextReload);
  }

  /** Every action is accepted on a known route: a paused rollout at step 0 stands in. */
  // eslint-disable-next-line @typescript-eslint/require-await -- as setWeights
  async rolloutAction(
    route: string,
    action: string,
    actor: Actor,
  ): Promise<ControlResult<RolloutStatus>> {
    this.calls.push({ method: "rolloutAction", route, actor, action });
    const found = this.routes.find((candidate) => candidate.name === route);
    if (found === undefined) return unknownRoute(route);
    const phase = action === "pause" ? "paused" : action === "promote" ? "promoted" : "progressing";
    const status: RolloutStatus = {
      phase,
      target: "canary",
      baseline: "stable",
      stepIndex: 0,
      stepPercent: 5,
      failures: 0,
      lastDecision: null,
    };
    found.rollout = status;
    return { ok: true, value: status };
  }

  isReady(): boolean {
    return this.isReadyNow;
  }

  isDraining(): boolean {
    return this.isDrainingNow;
  }

  private apply(
    route: FakeRoute,
    after: Record<string, number>,
    source: "admin" | "file",
  ): WeightsChange {
    const before = route.split;
    route.split = after;
    route.splitSource = source;
    return { route: route.name, before, after, splitSource: source };
  }
}

function unknownRoute(route: string): { ok: false; error: ControlError } {
  return {
    ok: false,
    error: { status: 404, code: "SWITCHYARD_UNKNOWN_ROUTE", message: `No route named "${route}".` },
  };
}
