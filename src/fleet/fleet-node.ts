/**
 * This replica's part in a fleet (SPEC 10): the shared state it follows, the lease that makes
 * one replica the judge, membership, and the statistics it pushes (and, while it leads, sums
 * for the rollout deciders). Nothing here is on the request path. Built by fleet-start.ts
 * once Redis was tried; started after the rollouts and stopped before them, releasing the
 * lease first so another replica takes over at once.
 */
import type { FleetConfig } from "../config/schema.ts";
import type { LoggedEvent } from "../events/event-log.ts";
import type { Logger } from "../log/logger.ts";
import type { FleetMetrics } from "../metrics/fleet-metrics.ts";
import type { RolloutStats } from "../rollout/rollout-controller.ts";
import type { WindowStats } from "../rollout/window-stats.ts";
import type { Clock, TimerHandle } from "../time/clock.ts";
import { emptyDocumentBody, type FleetDocument } from "./fleet-document.ts";
import type { FleetKeys } from "./fleet-keys.ts";
import { FleetSeconds } from "./fleet-seconds.ts";
import { FleetStats } from "./fleet-stats.ts";
import type { FleetMember } from "./fleet-window.ts";
import { LeaderLease } from "./leader-lease.ts";
import { Membership, withConfigDiffers, type Member, type MemberStatus } from "./membership.ts";
import type { RedisLink } from "./redis-link.ts";
import type { SharedStateStore } from "./shared-state-store.ts";
import { StatsPusher } from "./stats-pusher.ts";

/** A `?local=true` write in force on this replica only (SPEC 10's emergency lever). */
export interface LocalWrite {
  /** What it changed, in words: `weights of route web`. */
  what: string;
  actor: string;
  /** ISO 8601. */
  at: string;
}

/** `fleet` in `GET /api/v1/status` (SPEC 10). */
export interface FleetStatus {
  name: string;
  replica: string;
  connected: boolean;
  leader: string | null;
  isLeader: boolean;
  stateVersion: number;
  members: MemberStatus[];
  /** Local writes that make this replica differ from the fleet until Redis is back. */
  divergent: LocalWrite[];
}

/** What follows the fleet here (fleet-parts.ts). */
export interface FleetFollower {
  /** A newer shared document (or, after local writes, the current one again). */
  onDocument(document: FleetDocument): void;
  /** Redis is back: the fleet's state replaced these local writes. */
  onLocalWritesDropped(writes: readonly LocalWrite[]): void;
  readonly metrics: FleetMetrics;
}

export interface FleetNodeOptions {
  readonly fleet: FleetConfig;
  readonly replica: string;
  readonly link: RedisLink;
  readonly keys: FleetKeys;
  readonly store: SharedStateStore;
  readonly windowStats: WindowStats;
  readonly longestWindowMs: number;
  /** This replica's config hash now (it changes on reload). */
  readonly configHash: () => string;
  readonly logger: Logger;
  readonly clock: Clock;
}

const MEMBERS_INTERVAL_MS = 1000;

export class FleetNode {
  readonly lease: LeaderLease;
  readonly #o: FleetNodeOptions;
  readonly #membership: Membership;
  readonly #pusher: StatsPusher;
  readonly #stats: FleetStats;
  #follower: FleetFollower | undefined;
  #appliedVersion = 0;
  #members: Member[] = [];
  #localWrites: LocalWrite[] = [];
  #stopWatch: (() => void) | undefined;
  #timer: TimerHandle | undefined;
  #isStopped = false;

  constructor(options: FleetNodeOptions) {
    this.#o = options;
    const { link, keys, replica, logger, clock, fleet } = options;
    this.lease = new LeaderLease({ link, keys, replica, ttlMs: fleet.leaseTtl, logger, clock });
    this.#pusher = new StatsPusher({
      link,
      keys,
      replica,
      stats: options.windowStats,
      seconds: new FleetSeconds(clock),
      clock,
      longestWindowMs: options.longestWindowMs,
    });
    this.#membership = new Membership({
      link,
      keys,
      replica,
      leaseTtlMs: fleet.leaseTtl,
      configHash: options.configHash,
      stateVersion: () => this.#appliedVersion,
      firstSecond: this.#pusher.firstSecond,
      logger,
      clock,
    });
    this.#stats = new FleetStats({
      link,
      keys,
      clock,
      longestWindowMs: options.longestWindowMs,
      onCorrupt: (member, second, fields) => {
        logger.warn({ member, second, fields }, "fleet: skipped statistics that did not decode");
      },
    });
  }

  get replica(): string {
    return this.#o.replica;
  }

  get appliedVersion(): number {
    return this.#appliedVersion;
  }

  get isLeader(): boolean {
    return this.lease.isLeader;
  }

  get memberCount(): number {
    return this.#members.length;
  }

  get redisErrors(): number {
    return this.#o.link.errorCount + this.#pusher.errorCount;
  }

  get isConnected(): boolean {
    return this.#o.link.isConnected;
  }

  /** What applies a newer shared document here: the runtime and the rollouts (app-parts.ts). */
  follow(follower: FleetFollower): void {
    this.#follower = follower;
  }

  /** Applies `document` unless this replica already has it or a newer one. */
  apply(document: FleetDocument): void {
    if (document.version <= this.#appliedVersion) return;
    this.#appliedVersion = document.version;
    this.#follower?.onDocument(document);
  }

  noteLocalWrite(write: LocalWrite): void {
    this.#localWrites.push(write);
  }

  /** The statistics the rollouts judge on: the whole fleet's, summed (only the leader judges). */
  rolloutStats(): RolloutStats {
    const { windowStats, clock } = this.#o;
    return {
      forRoute: (route) => this.#stats.forRoute(route),
      resetFrom: (route, nowMs) => {
        windowStats.resetFrom(route, nowMs);
        this.#stats.resetFrom(route, clock.wallNow());
      },
    };
  }

  /** Why no replica judges the fleet's rollouts now; undefined while one does. */
  holdReason(): string | undefined {
    if (!this.#o.link.isConnected) {
      return "fleet: Redis cannot be reached; no rollout decision is taken until it is back, and the split in force stays";
    }
    if (this.lease.leader === null) {
      return "fleet: no replica holds the lease yet; decisions resume once one does";
    }
    return undefined;
  }

  /** A reload changed the longest rollout window. */
  resize(longestWindowMs: number): void {
    this.#pusher.resize(longestWindowMs);
    this.#stats.resize(longestWindowMs);
  }

  start(): void {
    this.#membership.start();
    this.lease.start();
    this.#pusher.start();
    this.#stopWatch = this.#o.store.watch((document) => {
      this.apply(document);
    });
    this.#schedule(0);
  }

  /** Gives the lease up at once (SIGTERM): another replica judges from its next tick. */
  async releaseLease(): Promise<void> {
    await this.lease.stop();
  }

  async stop(): Promise<void> {
    this.#isStopped = true;
    this.#timer?.cancel();
    this.#stopWatch?.();
    this.#pusher.stop();
    await this.lease.stop();
    await this.#membership.stop();
    await this.#o.link.close();
  }

  status(): FleetStatus {
    const leader = this.lease.leader;
    return {
      name: this.#o.fleet.name,
      replica: this.#o.replica,
      connected: this.#o.link.isConnected,
      leader,
      isLeader: this.lease.isLeader,
      stateVersion: this.#appliedVersion,
      divergent: [...this.#localWrites],
      // The first pushed second is the leader's business, not the operator's.
      members: withConfigDiffers(this.#members, leader).map(
        ({ firstSecond: _firstSecond, ...member }) => member,
      ),
    };
  }

  /** The fleet's events after `sinceId`; undefined while Redis cannot be read. */
  async events(sinceId: number | undefined): Promise<LoggedEvent[] | undefined> {
    const read = await this.#o.store.eventsSince(sinceId ?? 0);
    return read.ok ? [...read.events] : undefined;
  }

  #schedule(delayMs: number): void {
    if (this.#isStopped) return;
    this.#timer = this.#o.clock.setTimeout(() => {
      this.#refresh()
        .catch((error: unknown) => {
          this.#o.logger.debug({ err: error }, "fleet: reading the members failed");
        })
        .finally(() => {
          this.#schedule(MEMBERS_INTERVAL_MS);
        });
    }, delayMs);
  }

  /**
   * Each second: local writes dropped once Redis is back, the members, and on the leader the
   * fleet's statistics they pushed.
   */
  async #refresh(): Promise<void> {
    if (!this.#o.link.isConnected) return;
    await this.#dropLocalWrites();
    this.#members = await this.#membership.members();
    if (!this.lease.isLeader) return;
    const missing = await this.#stats.refresh(this.#members.map(fleetMemberOf));
    this.#follower?.metrics.missingSeconds(missing);
  }

  /** The fleet's state in force again over `?local=true` writes (SPEC 10), even unchanged. */
  async #dropLocalWrites(): Promise<void> {
    if (this.#localWrites.length === 0) return;
    const read = await this.#o.store.read();
    if (read.kind !== "found" && read.kind !== "empty") return;
    const dropped = this.#localWrites;
    this.#localWrites = [];
    const document =
      read.kind === "found" ? read.document : { ...emptyDocumentBody(), version: read.version };
    this.#appliedVersion = Math.max(this.#appliedVersion, document.version);
    this.#follower?.onDocument(document);
    this.#follower?.onLocalWritesDropped(dropped);
  }
}

/**
 * A member's seconds are expected from the first one it pushes; a member that did not say
 * (an older build) from the first whole second after it joined.
 */
function fleetMemberOf(member: Member): FleetMember {
  return {
    replica: member.replica,
    joinedAtSecond: member.firstSecond ?? Math.ceil(Date.parse(member.joinedAt) / 1000),
  };
}
