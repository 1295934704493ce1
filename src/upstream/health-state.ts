/**
 * The active-health verdict of one endpoint: consecutive passes and failures against the
 * configured thresholds. Pure: callers pass `nowMs` and the outcome of each check; the state
 * answers with the transition it caused, if any, so the caller logs and emits only on change.
 *
 * An endpoint that was never checked is `unknown` and gets no traffic. Its first check decides
 * at once, in either direction (one pass makes it healthy, one failure unhealthy), so that at
 * startup, and for endpoints a reload adds, the first round of checks settles every endpoint
 * without waiting `healthyThreshold` intervals. After that the thresholds apply.
 */

export type HealthStatus = "unknown" | "healthy" | "unhealthy";

export type HealthTransition = "becameHealthy" | "becameUnhealthy";

export interface HealthThresholds {
  /** Consecutive passes that bring an unhealthy endpoint back. */
  readonly healthyThreshold: number;
  /** Consecutive failures that take a healthy endpoint out. */
  readonly unhealthyThreshold: number;
}

export class HealthState {
  #thresholds: HealthThresholds;
  #status: HealthStatus;
  #hasBeenChecked = false;
  #consecutivePasses = 0;
  #consecutiveFailures = 0;
  #lastCheckAtMs: number | undefined;
  #lastFailureAtMs: number | undefined;
  #lastFailureReason: string | undefined;
  #lastTransitionAtMs: number | undefined;

  /**
   * `initialStatus` is "unknown" for an endpoint nobody has checked yet, "healthy" for one that
   * was already serving before checks were configured for it (it keeps serving until the
   * thresholds say otherwise).
   */
  constructor(thresholds: HealthThresholds, initialStatus: "unknown" | "healthy" = "unknown") {
    this.#thresholds = thresholds;
    this.#status = initialStatus;
    this.#hasBeenHealthy = initialStatus === "healthy";
  }

  get status(): HealthStatus {
    return this.#status;
  }

  /** True only once checks said so (or the endpoint was serving before checks began). */
  get isHealthy(): boolean {
    return this.#status === "healthy";
  }

  /** At least one check has completed (pass or fail). */
  get hasBeenChecked(): boolean {
    return this.#hasBeenChecked;
  }

  get consecutivePasses(): number {
    return this.#consecutivePasses;
  }

  get consecutiveFailures(): number {
    return this.#consecutiveFailures;
  }

  get lastCheckAtMs(): number | undefined {
    return this.#lastCheckAtMs;
  }

  /** When the latest failed check completed; kept after later passes, for status views. */
  get lastFailureAtMs(): number | undefined {
    return this.#lastFailureAtMs;
  }

  get lastFailureReason(): string | undefined {
    return this.#lastFailureReason;
  }

  get lastTransitionAtMs(): number | undefined {
    return this.#lastTransitionAtMs;
  }

  get thresholds(): HealthThresholds {
    return this.#thresholds;
  }

  /** A reload may change the thresholds; the counts so far are kept and judged by the new ones. */
  setThresholds(thresholds: HealthThresholds): void {
    this.#thresholds = thresholds;
  }

  #hasBeenHealthy = false;

  recordPass(nowMs: number): HealthTransition | undefined {
    this.#noteCheck(nowMs);
    this.#consecutivePasses++;
    this.#consecutiveFailures = 0;
    // An endpoint that has never been healthy (a failed or slow first probe at startup) needs
    // one pass, as on startup in Envoy; one that was healthy and fell needs healthyThreshold.
    const isEnough =
      this.#status === "unknown" ||
      (this.#status === "unhealthy" &&
        (!this.#hasBeenHealthy || this.#consecutivePasses >= this.#thresholds.healthyThreshold));
    if (!isEnough) return undefined;
    this.#status = "healthy";
    this.#hasBeenHealthy = true;
    this.#lastTransitionAtMs = nowMs;
    return "becameHealthy";
  }

  recordFailure(nowMs: number, reason: string): HealthTransition | undefined {
    this.#noteCheck(nowMs);
    this.#consecutiveFailures++;
    this.#consecutivePasses = 0;
    this.#lastFailureAtMs = nowMs;
    this.#lastFailureReason = reason;
    const isEnough =
      this.#status === "unknown" ||
      (this.#status === "healthy" &&
        this.#consecutiveFailures >= this.#thresholds.unhealthyThreshold);
    if (!isEnough) return undefined;
    this.#status = "unhealthy";
    this.#lastTransitionAtMs = nowMs;
    return "becameUnhealthy";
  }

  #noteCheck(nowMs: number): void {
    this.#hasBeenChecked = true;
    this.#lastCheckAtMs = nowMs;
  }
}
