/**
 * switchyard's Prometheus metrics (SPEC 9) on a registry of their own (never prom-client's
 * global one, so two instances in one process do not collide). The data path reports through
 * ProxyRecorder, upstream state changes through the upstream and health listeners, and the
 * control plane through the setters below. After a reload, `syncSnapshot` sets the gauges
 * from the new snapshot and removes the series of whatever the new config no longer has.
 */
import { collectDefaultMetrics, Counter, Gauge, Registry } from "prom-client";
import type { AttemptOutcome, ProxyRecorder, RequestOutcome } from "../proxy/recorder.ts";
import type { RouteTable } from "../routing/route-table.ts";
import type { Clock } from "../time/clock.ts";
import type { BreakerState } from "../upstream/breaker.ts";
import type { Endpoint } from "../upstream/endpoint.ts";
import type { HealthListener } from "../upstream/health-checker.ts";
import type { OutlierEvent } from "../upstream/outlier-detector.ts";
import type { UpstreamEventListener, UpstreamMap } from "../upstream/upstream-set.ts";
import {
  BREAKER_STATE,
  BREAKER_STATE_VALUES,
  CONFIG_LAST_RELOAD_SUCCESS_TIMESTAMP_SECONDS,
  CONFIG_RELOADS_TOTAL,
  ENDPOINT_EJECTED,
  ENDPOINT_HEALTHY,
  FALLBACKS_TOTAL,
  RELOAD_RESULTS,
  REQUEST_DURATION_SECONDS,
  REQUESTS_TOTAL,
  RETRIES_TOTAL,
  ROLLOUT_DECISIONS_TOTAL,
  ROLLOUT_PHASE,
  ROLLOUT_PHASE_LABELS,
  ROLLOUT_STEP_PERCENT,
  UPSTREAM_WEIGHT_PERCENT,
  type ReloadResult,
  type RolloutPhaseLabel,
} from "./metric-names.ts";
import { ConnectionSeries } from "./connection-series.ts";
import { RequestSeries } from "./request-series.ts";
import { SeriesSet } from "./series-set.ts";

export interface MetricsOptions {
  /** Wall time for the reload timestamp; the system clock by default. */
  clock?: Pick<Clock, "wallNow">;
  /** prom-client's default process and Node.js metrics; on by default. */
  hasProcessMetrics?: boolean;
}

/** What `syncSnapshot` reads of a config snapshot. */
export interface MetricsSnapshot {
  readonly upstreams: UpstreamMap;
  readonly routes: RouteTable;
}

const MS_PER_SECOND = 1000;
const BP_PER_PERCENT = 100;

export class Metrics implements ProxyRecorder, UpstreamEventListener, HealthListener {
  readonly registry = new Registry();
  /** The proxy listener's open and refused client connections. */
  readonly connections: ConnectionSeries;
  readonly #clock: Pick<Clock, "wallNow">;
  readonly #requests: RequestSeries;
  readonly #weights: SeriesSet<Gauge.Internal<string>>;
  readonly #healthy: SeriesSet<Gauge.Internal<string>>;
  readonly #ejected: SeriesSet<Gauge.Internal<string>>;
  readonly #breaker: SeriesSet<Gauge.Internal<string>>;
  readonly #fallbacks: SeriesSet<Counter.Internal>;
  readonly #retries: SeriesSet<Counter.Internal>;
  readonly #rolloutStep: SeriesSet<Gauge.Internal<string>>;
  readonly #rolloutPhase: SeriesSet<Gauge.Internal<string>>;
  readonly #decisions: SeriesSet<Counter.Internal>;
  readonly #reloads: Counter;
  readonly #lastReloadSuccess: Gauge;
  /** The names of the snapshot in force; undefined until the first `removeStale`. */
  #liveRoutes: ReadonlySet<string> | undefined;
  #liveUpstreams: ReadonlySet<string> | undefined;
  #liveEndpoints: ReadonlySet<string> | undefined;

  constructor(options: MetricsOptions = {}) {
    this.#clock = options.clock ?? { wallNow: () => Date.now() };
    const registers = [this.registry];
    this.#requests = new RequestSeries(
      REQUESTS_TOTAL,
      REQUEST_DURATION_SECONDS,
      (route, upstream) => this.#isLiveRoute(route) && this.#isLiveUpstream(upstream),
    );
    this.registry.registerMetric(this.#requests.requestsCollector);
    this.registry.registerMetric(this.#requests.durationCollector);
    this.#weights = new SeriesSet(new Gauge({ ...UPSTREAM_WEIGHT_PERCENT, registers }));
    this.#healthy = new SeriesSet(new Gauge({ ...ENDPOINT_HEALTHY, registers }));
    this.#ejected = new SeriesSet(new Gauge({ ...ENDPOINT_EJECTED, registers }));
    this.#breaker = new SeriesSet(new Gauge({ ...BREAKER_STATE, registers }));
    this.#fallbacks = new SeriesSet(new Counter({ ...FALLBACKS_TOTAL, registers }));
    this.#retries = new SeriesSet(new Counter({ ...RETRIES_TOTAL, registers }));
    this.#rolloutStep = new SeriesSet(new Gauge({ ...ROLLOUT_STEP_PERCENT, registers }));
    this.#rolloutPhase = new SeriesSet(new Gauge({ ...ROLLOUT_PHASE, registers }));
    this.#decisions = new SeriesSet(new Counter({ ...ROLLOUT_DECISIONS_TOTAL, registers }));
    this.#reloads = new Counter({ ...CONFIG_RELOADS_TOTAL, registers });
    // Both results from the start, so that rate() and increase() see the first reload.
    for (const result of RELOAD_RESULTS) this.#reloads.labels(result).inc(0);
    this.#lastReloadSuccess = new Gauge({
      ...CONFIG_LAST_RELOAD_SUCCESS_TIMESTAMP_SECONDS,
      registers,
    });
    this.connections = new ConnectionSeries(this.registry);
    if (options.hasProcessMetrics ?? true) collectDefaultMetrics({ register: this.registry });
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** The Prometheus text exposition of every metric. */
  render(): Promise<string> {
    return this.registry.metrics();
  }

  // ProxyRecorder: the data path.

  requestFinished(outcome: RequestOutcome): void {
    this.#requests.record(outcome.route, outcome.upstream, outcome.status, outcome.durationMs);
  }

  /** No per-attempt metric in SPEC 9: attempts show as retries and in the request's status. */
  attemptFinished(_outcome: AttemptOutcome): void {
    // Nothing to record.
  }

  fallback(route: string, from: string, to: string): void {
    if (!this.#isLiveRoute(route) || !this.#isLiveUpstream(from) || !this.#isLiveUpstream(to)) {
      return;
    }
    this.#fallbacks.child(route, from, to).inc();
  }

  retry(route: string, upstream: string): void {
    if (!this.#isLiveRoute(route) || !this.#isLiveUpstream(upstream)) return;
    this.#retries.child(route, upstream).inc();
  }

  // UpstreamEventListener and HealthListener: state changes of upstreams and endpoints.

  onOutlierEvent(event: OutlierEvent): void {
    const { upstreamName, endpoint } = event;
    if (!this.#isLiveEndpoint(upstreamName, endpoint.url)) return;
    this.#ejected.child(upstreamName, endpoint.url).set(event.type === "ejected" ? 1 : 0);
  }

  onBreakerStateChange(upstream: string, state: BreakerState, _previous: BreakerState): void {
    if (!this.#isLiveUpstream(upstream)) return;
    this.#breaker.child(upstream).set(BREAKER_STATE_VALUES[state]);
  }

  onTransition(endpoint: Endpoint, isHealthy: boolean, _reason: string): void {
    if (!this.#isLiveEndpoint(endpoint.upstreamName, endpoint.url)) return;
    this.#healthy.child(endpoint.upstreamName, endpoint.url).set(isHealthy ? 1 : 0);
  }

  // Control plane.

  /**
   * After a reload or a split change, in the same tick as the snapshot swap: removes what the
   * new snapshot no longer has, then sets the endpoint, breaker and weight gauges from it.
   */
  syncSnapshot(snapshot: MetricsSnapshot): void {
    const routeNames = snapshot.routes.routes.map((route) => route.name);
    this.removeStale(snapshot.upstreams, routeNames);
    this.setEndpoints(snapshot.upstreams);
    for (const route of snapshot.routes.routes) {
      const split: Record<string, number> = {};
      for (const entry of route.split.entries) {
        split[entry.upstream] = entry.weightBp / BP_PER_PERCENT;
      }
      this.setWeights(route.name, split);
      // Every route has a phase; a route with no rollout running is idle.
      if (!this.#rolloutPhase.has(route.name, "idle")) this.rolloutPhase(route.name, "idle");
    }
  }

  /** A route's split in percent; upstreams it no longer lists lose their series. */
  setWeights(route: string, split: Readonly<Record<string, number>>): void {
    this.#weights.removeWhere(
      ([r, upstream]) => r === route && !Object.hasOwn(split, upstream ?? ""),
    );
    for (const [upstream, percent] of Object.entries(split)) {
      this.#weights.child(route, upstream).set(percent);
    }
  }

  /** Sets the healthy, ejected and breaker gauges of every upstream and endpoint given. */
  setEndpoints(upstreams: UpstreamMap): void {
    for (const upstream of upstreams.values()) {
      this.#breaker.child(upstream.name).set(BREAKER_STATE_VALUES[upstream.breaker.state]);
      for (const endpoint of upstream.endpoints) {
        this.#healthy.child(upstream.name, endpoint.url).set(endpoint.isHealthy ? 1 : 0);
        this.#ejected.child(upstream.name, endpoint.url).set(endpoint.isEjected ? 1 : 0);
      }
    }
  }

  /**
   * Removes every series naming a route, upstream or endpoint that `upstreams` and `routes`
   * no longer have, and from then on ignores reports about them (a request in flight across
   * a reload may finish on a route that is gone).
   */
  removeStale(upstreams: UpstreamMap, routes: Iterable<string>): void {
    const liveRoutes = new Set(routes);
    const liveUpstreams = new Set(upstreams.keys());
    const liveEndpoints = new Set<string>();
    for (const upstream of upstreams.values()) {
      for (const endpoint of upstream.endpoints) {
        liveEndpoints.add(endpointKey(upstream.name, endpoint.url));
      }
    }
    this.#liveRoutes = liveRoutes;
    this.#liveUpstreams = liveUpstreams;
    this.#liveEndpoints = liveEndpoints;
    const isGone = (name: string | undefined, live: ReadonlySet<string>): boolean =>
      name === undefined || !live.has(name);
    const isStaleEndpoint = ([upstream, url]: readonly string[]): boolean =>
      isGone(endpointKey(upstream ?? "", url ?? ""), liveEndpoints);
    const isStaleRouteUpstream = ([route, upstream]: readonly string[]): boolean =>
      isGone(route, liveRoutes) || isGone(upstream, liveUpstreams);

    this.#requests.removeWhere(
      (route, upstream) => !liveRoutes.has(route) || !liveUpstreams.has(upstream),
    );
    this.#weights.removeWhere(isStaleRouteUpstream);
    this.#retries.removeWhere(isStaleRouteUpstream);
    this.#rolloutStep.removeWhere(isStaleRouteUpstream);
    this.#fallbacks.removeWhere(
      ([route, from, to]) =>
        isGone(route, liveRoutes) || isGone(from, liveUpstreams) || isGone(to, liveUpstreams),
    );
    this.#rolloutPhase.removeWhere(([route]) => isGone(route, liveRoutes));
    this.#decisions.removeWhere(([route]) => isGone(route, liveRoutes));
    this.#breaker.removeWhere(([upstream]) => isGone(upstream, liveUpstreams));
    this.#healthy.removeWhere(isStaleEndpoint);
    this.#ejected.removeWhere(isStaleEndpoint);
  }

  /** Counts a reload; a successful one also sets the last-success timestamp. */
  configReloaded(result: ReloadResult, atEpochSeconds?: number): void {
    this.#reloads.labels(result).inc();
    if (result === "success") this.configLoaded(atEpochSeconds);
  }

  /** The config in force was loaded (at startup: sets the timestamp, counts no reload). */
  configLoaded(atEpochSeconds?: number): void {
    this.#lastReloadSuccess.set(atEpochSeconds ?? this.#clock.wallNow() / MS_PER_SECOND);
  }

  /** The rollout target's share at the current step; one target per route. */
  rolloutStep(route: string, target: string, percent: number): void {
    this.#rolloutStep.removeWhere(([r, t]) => r === route && t !== target);
    this.#rolloutStep.child(route, target).set(percent);
  }

  /** Sets 1 for `phase` and 0 for the others; `idle` also drops the step gauge. */
  rolloutPhase(route: string, phase: RolloutPhaseLabel): void {
    if (phase === "idle") this.#rolloutStep.removeWhere(([r]) => r === route);
    for (const each of ROLLOUT_PHASE_LABELS) {
      this.#rolloutPhase.child(route, each).set(each === phase ? 1 : 0);
    }
  }

  /** One rollout evaluation; `verdict` is one of the evaluator's fixed verdict names. */
  rolloutDecision(route: string, verdict: string): void {
    this.#decisions.child(route, verdict).inc();
  }

  #isLiveRoute(route: string): boolean {
    return this.#liveRoutes?.has(route) ?? true;
  }

  #isLiveUpstream(upstream: string): boolean {
    return this.#liveUpstreams?.has(upstream) ?? true;
  }

  #isLiveEndpoint(upstream: string, url: string): boolean {
    return this.#liveEndpoints?.has(endpointKey(upstream, url)) ?? true;
  }
}

function endpointKey(upstream: string, url: string): string {
  return `${upstream}\0${url}`;
}
