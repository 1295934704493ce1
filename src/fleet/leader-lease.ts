/**
 * Leader election for the rollout judge (SPEC 10, "One judge"): one replica at a time holds a
 * lease in Redis. A follower tries to take it at every tick (at most a second apart, so a
 * dead leader is replaced within the TTL plus a second); the leader extends it every ttl/3
 * while it is still its own (holder and epoch), and gives it up on its own monotonic clock
 * when no extension succeeded in time (LeaseTimer), whatever Redis does. `stop()` releases
 * it at once. Leader writes carry `fenceToken` so a stale leader's writes are refused
 * (fencing.ts).
 */
import type { Logger } from "../log/logger.ts";
import { SYSTEM_CLOCK } from "../time/clock.ts";
import type { Clock, TimerHandle } from "../time/clock.ts";
import type { FenceToken } from "./fencing.ts";
import type { FleetKeys } from "./fleet-keys.ts";
import { ACQUIRE_LUA, RELEASE_LUA, RENEW_LUA } from "./lease-scripts.ts";
import { LeaseTimer } from "./lease-timer.ts";
import type { RedisLink } from "./redis-link.ts";

/** Why a leader stopped leading. */
export type LeadershipLoss =
  /** A renewal found the lease held by another replica, or expired in Redis. */
  | "taken"
  /** No renewal succeeded in time (Redis away, frozen or slow): given up on our own clock. */
  | "unconfirmed"
  /** A fenced write of ours was refused: someone else leads now. */
  | "fenced"
  /** `stop()`: released. */
  | "stopped";

export interface LeaseEvents {
  /** This replica leads from now on, under `epoch`. */
  leader: (epoch: number) => void;
  /** This replica no longer leads. */
  lost: (reason: LeadershipLoss) => void;
}

export interface LeaderLeaseOptions {
  readonly link: Pick<RedisLink, "run">;
  readonly keys: Pick<FleetKeys, "lease" | "leaseEpoch">;
  readonly replica: string;
  /** fleet.leaseTtl. */
  readonly ttlMs: number;
  /** How often the leader extends the lease (default ttl/3). */
  readonly renewIntervalMs?: number;
  /** How often a follower tries to take it (default the renew interval, at most 1 s). */
  readonly acquireIntervalMs?: number;
  /** Given up this long before the lease could expire in Redis (default ttl/3). */
  readonly safetyMarginMs?: number;
  readonly logger: Logger;
  readonly clock?: Clock;
}

export const LEASE_LOG = {
  leader: "fleet: this replica now leads the fleet's rollouts",
  lost: "fleet: this replica no longer leads the fleet's rollouts",
  failed: "fleet: a lease command failed",
} as const;

const MAX_ACQUIRE_INTERVAL_MS = 1000;

type Role = { readonly kind: "follower" } | { readonly kind: "leader"; readonly epoch: number };

export class LeaderLease {
  readonly #link: Pick<RedisLink, "run">;
  readonly #keys: [string, string];
  readonly #replica: string;
  readonly #ttlMs: number;
  readonly #renewIntervalMs: number;
  readonly #acquireIntervalMs: number;
  readonly #logger: Logger;
  readonly #clock: Clock;
  readonly #timer: LeaseTimer;
  readonly #listeners: { [E in keyof LeaseEvents]: Set<LeaseEvents[E]> } = {
    leader: new Set(),
    lost: new Set(),
  };
  #role: Role = { kind: "follower" };
  #leader: string | null = null;
  #isStarted = false;
  #isStopped = false;
  #tickTimer: TimerHandle | undefined;
  #stepDownTimer: TimerHandle | undefined;
  #inFlight: Promise<void> | undefined;

  constructor(options: LeaderLeaseOptions) {
    this.#link = options.link;
    this.#keys = [options.keys.lease, options.keys.leaseEpoch];
    this.#replica = options.replica;
    this.#ttlMs = options.ttlMs;
    this.#renewIntervalMs = options.renewIntervalMs ?? options.ttlMs / 3;
    this.#acquireIntervalMs =
      options.acquireIntervalMs ?? Math.min(this.#renewIntervalMs, MAX_ACQUIRE_INTERVAL_MS);
    this.#logger = options.logger;
    this.#clock = options.clock ?? SYSTEM_CLOCK;
    this.#timer = new LeaseTimer({
      ttlMs: options.ttlMs,
      marginMs: options.safetyMarginMs ?? options.ttlMs / 3,
    });
  }

  /** Leads now: the lease is held and was confirmed recently enough by our own clock. */
  get isLeader(): boolean {
    return this.#role.kind === "leader" && this.#timer.isValid(this.#clock.now());
  }

  /** The epoch this replica leads under, undefined when it does not lead. */
  get epoch(): number | undefined {
    return this.isLeader && this.#role.kind === "leader" ? this.#role.epoch : undefined;
  }

  /** What a leader write carries (fencing.ts); undefined when this replica does not lead. */
  get fenceToken(): FenceToken | undefined {
    const epoch = this.epoch;
    return epoch === undefined ? undefined : { replica: this.#replica, epoch };
  }

  /** The leader as last seen in Redis (this replica when it leads), null when unknown or none. */
  get leader(): string | null {
    return this.isLeader ? this.#replica : this.#leader;
  }

  get replica(): string {
    return this.#replica;
  }

  /** Calls `listener` on each `event`; returns a function that stops it. */
  on<E extends keyof LeaseEvents>(event: E, listener: LeaseEvents[E]): () => void {
    const listeners = this.#listeners[event] as Set<LeaseEvents[E]>;
    listeners.add(listener);
    return () => {
      listeners.delete(listener);
    };
  }

  /** Starts ticking: the first attempt to take the lease is made at once. */
  start(): void {
    if (this.#isStarted) return;
    this.#isStarted = true;
    this.#scheduleTick(0);
  }

  /**
   * Stops ticking and releases the lease when it is ours, so another replica takes over at its
   * next tick. Waits for a command in flight first (bounded by the link's timeout), so that a
   * lease taken by that command is released too. Never rejects.
   */
  async stop(): Promise<void> {
    if (this.#isStopped) return;
    this.#isStopped = true;
    this.#tickTimer?.cancel();
    await this.#inFlight;
    this.#stepDown("stopped");
    if (!this.#isStarted) return;
    try {
      await this.#link.run("lease release", (client) =>
        client.eval(RELEASE_LUA, { keys: this.#keys, arguments: [this.#replica] }),
      );
    } catch (error) {
      // The lease then expires by its TTL: later, but no less safe.
      this.#logger.warn({ err: error, replica: this.#replica }, LEASE_LOG.failed);
    }
  }

  /** A fenced write of ours was refused: stop leading now rather than at the next renewal. */
  fenced(): void {
    if (this.#role.kind === "leader") this.#stepDown("fenced");
  }

  #scheduleTick(delayMs: number): void {
    if (this.#isStopped) return;
    this.#tickTimer = this.#clock.setTimeout(() => {
      this.#inFlight = this.#tick().finally(() => {
        this.#inFlight = undefined;
      });
    }, delayMs);
  }

  async #tick(): Promise<void> {
    const startedAt = this.#clock.now();
    try {
      if (this.#role.kind === "leader") await this.#renew(this.#role.epoch);
      else await this.#acquire();
    } catch (error) {
      // Nothing to decide on a failed command: the step-down deadline is on our own clock.
      this.#logger.debug({ err: error, replica: this.#replica }, LEASE_LOG.failed);
    }
    const interval = this.#role.kind === "leader" ? this.#renewIntervalMs : this.#acquireIntervalMs;
    this.#scheduleTick(Math.max(0, startedAt + interval - this.#clock.now()));
  }

  async #acquire(): Promise<void> {
    const sentAt = this.#clock.now();
    const reply = await this.#link.run("lease acquire", (client) =>
      client.eval(ACQUIRE_LUA, {
        keys: this.#keys,
        arguments: [this.#replica, String(this.#ttlMs)],
      }),
    );
    const [isOurs, epoch, holder] = parseReply(reply, 3);
    if (this.#isStopped) return;
    this.#leader = typeof holder === "string" ? holder : null;
    if (isOurs !== 1 || typeof epoch !== "number") return;
    this.#timer.confirmed(sentAt);
    if (!this.#timer.isValid(this.#clock.now())) {
      // Answered too late to trust; the next tick extends the lease, still ours, and leads.
      this.#timer.reset();
      return;
    }
    this.#role = { kind: "leader", epoch };
    this.#scheduleStepDown();
    this.#logger.info({ replica: this.#replica, epoch }, LEASE_LOG.leader);
    this.#emit("leader", epoch);
  }

  async #renew(epoch: number): Promise<void> {
    const sentAt = this.#clock.now();
    const reply = await this.#link.run("lease renew", (client) =>
      client.eval(RENEW_LUA, {
        keys: this.#keys,
        arguments: [this.#replica, String(epoch), String(this.#ttlMs)],
      }),
    );
    const [isOurs, holder] = parseReply(reply, 2);
    // An answer for a term that ended meanwhile (given up, or stopped) changes nothing.
    if (this.#role.kind !== "leader" || this.#role.epoch !== epoch || this.#isStopped) return;
    if (isOurs === 1) {
      this.#timer.confirmed(sentAt);
      this.#scheduleStepDown();
      return;
    }
    this.#leader = typeof holder === "string" ? holder : null;
    this.#stepDown("taken");
  }

  /** Gives up at the deadline unless a renewal moves it first. */
  #scheduleStepDown(): void {
    this.#stepDownTimer?.cancel();
    this.#stepDownTimer = this.#clock.setTimeout(() => {
      if (this.#role.kind !== "leader") return;
      // Timers run on a coarser clock than now(): one may fire a little early; look again then.
      if (this.#timer.isValid(this.#clock.now())) {
        this.#scheduleStepDown();
        return;
      }
      this.#leader = null;
      this.#stepDown("unconfirmed");
    }, this.#timer.msLeft(this.#clock.now()));
  }

  #stepDown(reason: LeadershipLoss): void {
    const wasLeader = this.#role.kind === "leader";
    this.#role = { kind: "follower" };
    this.#timer.reset();
    this.#stepDownTimer?.cancel();
    if (!wasLeader) return;
    this.#logger.info({ replica: this.#replica, reason }, LEASE_LOG.lost);
    this.#emit("lost", reason);
  }

  #emit<E extends keyof LeaseEvents>(event: E, value: Parameters<LeaseEvents[E]>[0]): void {
    for (const listener of this.#listeners[event]) {
      try {
        (listener as (value: Parameters<LeaseEvents[E]>[0]) => void)(value);
      } catch (error) {
        // A listener's bug must not stop the lease from ticking.
        this.#logger.error({ err: error, event }, "fleet: a lease listener failed");
      }
    }
  }
}

/** A script's array reply, `length` items long. */
function parseReply(reply: unknown, length: number): unknown[] {
  if (!Array.isArray(reply) || reply.length < length - 1) {
    throw new Error(`unexpected reply from a lease script: ${JSON.stringify(reply)}`);
  }
  return reply as unknown[];
}
