/**
 * Whether the link to Redis is up, and what to report: the events and log lines of the link
 * come from here, on transitions only, so a Redis that stays away for an hour is one warning,
 * not one per reconnect attempt. A new reason while down (the server came back but refuses
 * the password) is worth a line too, at most one per quiet interval.
 */

export type LinkTransition =
  /** Both connections are ready again (or for the first time). */
  | { readonly kind: "up"; readonly failuresWhileDown: number }
  /** A link that was up lost a connection. */
  | { readonly kind: "down"; readonly reason: string }
  /** The first attempt at startup failed; the link was never up, so nothing went down. */
  | { readonly kind: "unreachable"; readonly reason: string }
  /** Still down, for another reason than the one last reported. */
  | { readonly kind: "stillDown"; readonly reason: string; readonly failuresWhileDown: number };

type State = "starting" | "up" | "down";

export class LinkStatus {
  readonly #quietMs: number;
  #state: State = "starting";
  #failuresWhileDown = 0;
  #reportedReason: string | undefined;
  #reportedAtMs = 0;

  /** `quietMs`: the least time between two lines about new reasons while down. */
  constructor(quietMs: number) {
    this.#quietMs = quietMs;
  }

  get isUp(): boolean {
    return this.#state === "up";
  }

  /**
   * The connections' readiness after an event, the error it carried (as one line), if any, and
   * the time; the transition to report, or undefined when there is nothing new to say.
   */
  observe(isReady: boolean, reason: string | undefined, nowMs: number): LinkTransition | undefined {
    if (isReady) {
      if (this.#state === "up") return undefined;
      const failuresWhileDown = this.#failuresWhileDown;
      this.#state = "up";
      this.#failuresWhileDown = 0;
      return { kind: "up", failuresWhileDown };
    }
    if (this.#state === "up") {
      this.#state = "down";
      this.#failuresWhileDown = reason === undefined ? 0 : 1;
      return this.#reported({ kind: "down", reason: reason ?? "connection closed" }, nowMs);
    }
    if (reason === undefined) return undefined;
    this.#failuresWhileDown += 1;
    if (this.#state === "starting") {
      this.#state = "down";
      return this.#reported({ kind: "unreachable", reason }, nowMs);
    }
    if (reason === this.#reportedReason || nowMs - this.#reportedAtMs < this.#quietMs) {
      return undefined;
    }
    const failuresWhileDown = this.#failuresWhileDown;
    return this.#reported({ kind: "stillDown", reason, failuresWhileDown }, nowMs);
  }

  #reported<T extends LinkTransition & { reason: string }>(transition: T, nowMs: number): T {
    this.#reportedReason = transition.reason;
    this.#reportedAtMs = nowMs;
    return transition;
  }
}
