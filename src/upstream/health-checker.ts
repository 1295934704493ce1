/**
 * Active health checks: probes every endpoint of every upstream that has a `healthCheck`, on
 * the configured interval (jittered by up to 10% so endpoints are not probed in lockstep), and
 * sets `endpoint.isHealthy` from each endpoint's HealthState. Only transitions are logged and
 * reported to the listener.
 *
 * A new endpoint starts out of traffic and is probed at once; its first check decides (see
 * HealthState). On reload, call `update()` with the new upstreams before swapping them in, so
 * that endpoints the reload adds are already out of traffic when the new snapshot serves.
 *
 * An endpoint an operator put in maintenance is not probed (as in HAProxy: nothing is sent to
 * it, and a box taken down on purpose raises no health alarm); its last verdict stays as it
 * was. When it leaves maintenance its checks start afresh, like a new endpoint's: it takes
 * traffic again once a check passes. Call `followAdminState()` when an endpoint's state changes.
 */
import type { HealthCheckConfig } from "../config/schema.ts";
import type { Logger } from "../log/logger.ts";
import { SYSTEM_CLOCK, type Clock, type TimerHandle } from "../time/clock.ts";
import type { Endpoint } from "./endpoint.ts";
import {
  describeProbeError,
  HttpProber,
  type HealthProber,
  type ProbeResult,
} from "./health-probe.ts";
import { HealthState, type HealthTransition } from "./health-state.ts";
import type { UpstreamMap } from "./upstream-set.ts";

/** Told about every change of an endpoint's health, once per change. */
export interface HealthListener {
  onTransition(endpoint: Endpoint, isHealthy: boolean, reason: string): void;
}

export type CreateProber = (endpoint: Endpoint, config: HealthCheckConfig) => HealthProber;

export interface HealthCheckerOptions {
  upstreams: UpstreamMap;
  logger: Logger;
  clock?: Clock;
  /** Uniform in [0, 1); drives the interval jitter. */
  random?: () => number;
  listener?: HealthListener;
  /** How probes are made; an HTTP GET through a per-endpoint undici Client by default. */
  createProber?: CreateProber;
}

/** What status views may read of an endpoint's health. */
export type HealthView = Omit<HealthState, "recordPass" | "recordFailure" | "setThresholds">;

export const MAX_JITTER_FRACTION = 0.1;

/** The wait before the next probe: `intervalMs` plus up to 10% of it. */
export function jitteredIntervalMs(intervalMs: number, random: () => number): number {
  return intervalMs * (1 + MAX_JITTER_FRACTION * random());
}

const createHttpProber: CreateProber = (endpoint, config) =>
  new HttpProber(endpoint.url, config.timeout);

interface ProbeAttempt {
  readonly controller: AbortController;
  timeoutTimer: TimerHandle | undefined;
  isSettled: boolean;
}

interface EndpointCheck {
  readonly endpoint: Endpoint;
  readonly state: HealthState;
  config: HealthCheckConfig;
  prober: HealthProber;
  nextTimer: TimerHandle | undefined;
  attempt: ProbeAttempt | undefined;
}

export class HealthChecker {
  /** Resolves once every endpoint checked from the start has completed its first check. */
  readonly firstRoundDone: Promise<void>;
  readonly #logger: Logger;
  readonly #clock: Clock;
  readonly #random: () => number;
  readonly #listener: HealthListener | undefined;
  readonly #createProber: CreateProber;
  readonly #checks = new Map<Endpoint, EndpointCheck>();
  readonly #awaitingFirstCheck = new Set<EndpointCheck>();
  /** Endpoints in maintenance whose upstream has checks: the settings to start them with. */
  readonly #parked = new Map<Endpoint, HealthCheckConfig>();
  readonly #closingProbers = new Set<Promise<void>>();
  /** Every endpoint of the current upstreams, checked or not. */
  #known = new Set<Endpoint>();
  #isFirstRoundDone = false;
  #isStopped = false;
  #resolveFirstRound: () => void = () => undefined;

  constructor(options: HealthCheckerOptions) {
    this.#logger = options.logger;
    this.#clock = options.clock ?? SYSTEM_CLOCK;
    this.#random = options.random ?? Math.random;
    this.#listener = options.listener;
    this.#createProber = options.createProber ?? createHttpProber;
    this.firstRoundDone = new Promise((resolve) => {
      this.#resolveFirstRound = resolve;
    });
    this.#apply(options.upstreams);
  }

  get isFirstRoundDone(): boolean {
    return this.#isFirstRoundDone;
  }

  /** The health state of a checked endpoint; undefined for endpoints without checks. */
  healthOf(endpoint: Endpoint): HealthView | undefined {
    return this.#checks.get(endpoint)?.state;
  }

  /**
   * Follows a reload: starts checking added endpoints, stops checking the ones that are gone,
   * keeps the state of kept ones and applies their new check settings.
   */
  update(upstreams: UpstreamMap): void {
    if (this.#isStopped) return;
    this.#apply(upstreams);
  }

  /**
   * An operator changed `endpoint.adminState`: maintenance stops its checks, leaving maintenance
   * starts them afresh (out of traffic until a check passes).
   */
  followAdminState(endpoint: Endpoint): void {
    if (this.#isStopped) return;
    if (endpoint.adminState === "maintenance") {
      const check = this.#checks.get(endpoint);
      if (check !== undefined) this.#park(endpoint, check.config);
      this.#settleFirstRound();
      return;
    }
    const config = this.#parked.get(endpoint);
    if (config === undefined) return;
    this.#parked.delete(endpoint);
    this.#start(endpoint, config, "unknown");
  }

  /** Cancels every timer and probe and closes the probe connections. */
  async stop(): Promise<void> {
    this.#isStopped = true;
    this.#parked.clear();
    for (const check of this.#checks.values()) this.#retire(check);
    this.#checks.clear();
    this.#awaitingFirstCheck.clear();
    await Promise.all(this.#closingProbers);
  }

  #apply(upstreams: UpstreamMap): void {
    const current = new Set<Endpoint>();
    for (const upstream of upstreams.values()) {
      const config = upstream.config.healthCheck;
      for (const endpoint of upstream.endpoints) {
        current.add(endpoint);
        const check = this.#checks.get(endpoint);
        if (config === undefined) {
          if (check !== undefined) this.#uncheck(check);
          this.#parked.delete(endpoint);
          endpoint.isHealthy = true;
        } else if (endpoint.adminState === "maintenance") {
          this.#park(endpoint, config);
        } else if (check === undefined) {
          // An endpoint that was serving unchecked keeps serving until checks say otherwise.
          const wasParked = this.#parked.delete(endpoint);
          const wasServing = !wasParked && this.#known.has(endpoint) && endpoint.isHealthy;
          this.#start(endpoint, config, wasServing ? "healthy" : "unknown");
        } else {
          this.#reconfigure(check, config);
        }
      }
    }
    for (const [endpoint, check] of this.#checks) {
      if (!current.has(endpoint)) {
        this.#retire(check);
        this.#checks.delete(endpoint);
      }
    }
    for (const endpoint of this.#parked.keys()) {
      if (!current.has(endpoint)) this.#parked.delete(endpoint);
    }
    this.#known = current;
    this.#settleFirstRound();
  }

  #start(endpoint: Endpoint, config: HealthCheckConfig, initial: "unknown" | "healthy"): void {
    const check: EndpointCheck = {
      endpoint,
      state: new HealthState(config, initial),
      config,
      prober: this.#createProber(endpoint, config),
      nextTimer: undefined,
      attempt: undefined,
    };
    endpoint.isHealthy = check.state.isHealthy;
    this.#checks.set(endpoint, check);
    if (!this.#isFirstRoundDone) this.#awaitingFirstCheck.add(check);
    this.#probe(check);
  }

  #reconfigure(check: EndpointCheck, config: HealthCheckConfig): void {
    const previous = check.config;
    check.config = config;
    check.state.setThresholds(config);
    if (previous.timeout !== config.timeout) {
      // The probe connection is built with the timeout: replace it and probe again now.
      this.#cancel(check);
      this.#closeProber(check.prober);
      check.prober = this.#createProber(check.endpoint, config);
      this.#probe(check);
    } else if (previous.interval !== config.interval && check.nextTimer !== undefined) {
      check.nextTimer.cancel();
      this.#scheduleNext(check);
    }
    // A new path or expectStatus applies from the next probe on.
  }

  /** Maintenance: no probes; the settings are kept for when it ends. */
  #park(endpoint: Endpoint, config: HealthCheckConfig): void {
    const check = this.#checks.get(endpoint);
    if (check !== undefined) {
      this.#retire(check);
      this.#checks.delete(endpoint);
    }
    this.#parked.set(endpoint, config);
  }

  /** The upstream no longer has a health check: the endpoint counts as healthy again. */
  #uncheck(check: EndpointCheck): void {
    this.#retire(check);
    this.#checks.delete(check.endpoint);
    if (!check.endpoint.isHealthy) {
      check.endpoint.isHealthy = true;
      this.#report(check.endpoint, true, "health check removed");
    }
  }

  #retire(check: EndpointCheck): void {
    this.#cancel(check);
    this.#awaitingFirstCheck.delete(check);
    this.#closeProber(check.prober);
  }

  /** Drops the pending timer and any probe in flight, without recording an outcome. */
  #cancel(check: EndpointCheck): void {
    check.nextTimer?.cancel();
    check.nextTimer = undefined;
    const attempt = check.attempt;
    if (attempt === undefined) return;
    check.attempt = undefined;
    attempt.isSettled = true;
    attempt.timeoutTimer?.cancel();
    attempt.controller.abort();
  }

  #probe(check: EndpointCheck): void {
    check.nextTimer = undefined;
    const config = check.config;
    const attempt: ProbeAttempt = {
      controller: new AbortController(),
      timeoutTimer: undefined,
      isSettled: false,
    };
    check.attempt = attempt;
    const finish = (result: ProbeResult): void => {
      if (attempt.isSettled) return;
      attempt.isSettled = true;
      attempt.timeoutTimer?.cancel();
      check.attempt = undefined;
      this.#record(check, result);
      this.#scheduleNext(check);
    };
    // Our own deadline decides, even for a prober that ignores the signal.
    attempt.timeoutTimer = this.#clock.setTimeout(() => {
      finish({ isPass: false, reason: `timeout after ${config.timeout} ms` });
      attempt.controller.abort();
    }, config.timeout);
    let probing: Promise<ProbeResult>;
    try {
      probing = check.prober.probe(config, attempt.controller.signal);
    } catch (error) {
      probing = Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
    void probing.then(finish, (error: unknown) => {
      finish({ isPass: false, reason: describeProbeError(error) });
    });
  }

  #scheduleNext(check: EndpointCheck): void {
    const delayMs = jitteredIntervalMs(check.config.interval, this.#random);
    check.nextTimer = this.#clock.setTimeout(() => {
      this.#probe(check);
    }, delayMs);
  }

  #record(check: EndpointCheck, result: ProbeResult): void {
    const { state, endpoint } = check;
    const nowMs = this.#clock.now();
    const transition = result.isPass
      ? state.recordPass(nowMs)
      : state.recordFailure(nowMs, result.reason);
    endpoint.isHealthy = state.isHealthy;
    if (this.#awaitingFirstCheck.delete(check)) this.#settleFirstRound();
    if (transition !== undefined) {
      this.#report(endpoint, transition === "becameHealthy", transitionReason(state, transition));
    }
  }

  #report(endpoint: Endpoint, isHealthy: boolean, reason: string): void {
    const fields = { upstream: endpoint.upstreamName, endpoint: endpoint.url, reason };
    if (isHealthy) this.#logger.info(fields, "endpoint healthy");
    else this.#logger.warn(fields, "endpoint unhealthy");
    if (this.#listener === undefined) return;
    try {
      this.#listener.onTransition(endpoint, isHealthy, reason);
    } catch (error) {
      // A broken listener must not stop the checks.
      this.#logger.error({ err: error }, "health transition listener failed");
    }
  }

  #settleFirstRound(): void {
    if (this.#isFirstRoundDone || this.#awaitingFirstCheck.size > 0) return;
    this.#isFirstRoundDone = true;
    this.#resolveFirstRound();
  }

  #closeProber(prober: HealthProber): void {
    const closing = prober.close().catch(() => undefined);
    this.#closingProbers.add(closing);
    void closing.then(() => this.#closingProbers.delete(closing));
  }
}

function transitionReason(state: HealthState, transition: HealthTransition): string {
  if (transition === "becameUnhealthy") return state.lastFailureReason ?? "check failed";
  const passes = state.consecutivePasses;
  return passes === 1 ? "check passed" : `${passes} consecutive checks passed`;
}
