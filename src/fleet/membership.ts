/**
 * Fleet membership (SPEC 10): every replica heartbeats each second, and a replica is a member
 * until `leaseTtl` passes without one. Times are Redis's own (membership-scripts.ts), so the
 * replicas' clocks may disagree. A replica that stops leaves at once; one that dies drops out
 * by itself: stale members are removed whenever the list is read.
 */
import type { Logger } from "../log/logger.ts";
import { SYSTEM_CLOCK } from "../time/clock.ts";
import type { Clock, TimerHandle } from "../time/clock.ts";
import type { FleetKeys } from "./fleet-keys.ts";
import { HEARTBEAT_LUA, LIVE_MEMBERS_LUA } from "./membership-scripts.ts";
import type { RedisLink } from "./redis-link.ts";

/** A member as `GET /api/v1/status` shows it under `fleet.members`, before `configDiffers`. */
export interface Member {
  readonly replica: string;
  /** The last heartbeat, ISO 8601 (Redis time). */
  readonly seenAt: string;
  readonly configHash: string;
  readonly stateVersion: number;
  /** When this member's process first heartbeat, ISO 8601 (Redis time). */
  readonly joinedAt: string;
  /**
   * The first fleet second its statistics are pushed for (its pusher's), when it said: the
   * leader expects its seconds from there. Not shown in status.
   */
  readonly firstSecond?: number;
}

export interface MemberStatus extends Member {
  /** Its config hash is not the leader's (false when the leader is unknown or not listed). */
  readonly configDiffers: boolean;
}

export interface MembershipOptions {
  readonly link: Pick<RedisLink, "run">;
  readonly keys: Pick<FleetKeys, "members" | "member">;
  readonly replica: string;
  /** fleet.leaseTtl: a member is gone after this long without a heartbeat. */
  readonly leaseTtlMs: number;
  /** This replica's config hash now (it changes on reload). */
  readonly configHash: () => string;
  /** The shared state version this replica has applied. */
  readonly stateVersion: () => number;
  /** The first fleet second this replica pushes statistics for (stats-pusher.ts). */
  readonly firstSecond?: number;
  readonly logger: Logger;
  /** Default 1 s. */
  readonly heartbeatIntervalMs?: number;
  readonly clock?: Clock;
}

export const MEMBERSHIP_LOG = {
  failed: "fleet: a heartbeat failed",
} as const;

const DEFAULT_HEARTBEAT_INTERVAL_MS = 1000;
/** A member's details outlive its membership a little, then Redis drops them. */
const DETAILS_TTL_IN_LEASE_TTLS = 3;

export class Membership {
  readonly #options: MembershipOptions;
  readonly #intervalMs: number;
  readonly #clock: Clock;
  #hasJoined = false;
  #isStarted = false;
  #isStopped = false;
  #timer: TimerHandle | undefined;
  #inFlight: Promise<void> | undefined;
  #heartbeats = 0;

  constructor(options: MembershipOptions) {
    this.#options = options;
    this.#intervalMs = options.heartbeatIntervalMs ?? DEFAULT_HEARTBEAT_INTERVAL_MS;
    this.#clock = options.clock ?? SYSTEM_CLOCK;
  }

  /** Heartbeats that Redis confirmed so far. */
  get heartbeats(): number {
    return this.#heartbeats;
  }

  /** Heartbeats now, then every interval. */
  start(): void {
    if (this.#isStarted) return;
    this.#isStarted = true;
    this.#schedule(0);
  }

  /** Stops heartbeating and leaves the fleet at once (bounded by the link). Never rejects. */
  async stop(): Promise<void> {
    if (this.#isStopped) return;
    this.#isStopped = true;
    this.#timer?.cancel();
    await this.#inFlight;
    if (!this.#isStarted) return;
    const { keys, replica } = this.#options;
    try {
      await this.#options.link.run("leave", (client) =>
        client.multi().zRem(keys.members, replica).del(keys.member(replica)).exec(),
      );
    } catch (error) {
      // It then drops out after leaseTtl, as a dead replica does.
      this.#options.logger.warn({ err: error, replica }, "fleet: could not leave the fleet");
    }
  }

  /** The live members, stale ones removed, sorted by replica id. */
  async members(): Promise<Member[]> {
    const { link, keys, leaseTtlMs } = this.#options;
    const live = await link.run("members", (client) =>
      client.eval(LIVE_MEMBERS_LUA, { keys: [keys.members], arguments: [String(leaseTtlMs)] }),
    );
    const scored = pairs(live);
    const details = await link.run("member details", async (client) => {
      const multi = client.multi();
      for (const [replica] of scored) multi.hGetAll(keys.member(replica));
      return scored.length === 0 ? [] : multi.exec();
    });
    return scored
      .map(([replica, seenAtMs], i) => memberOf(replica, seenAtMs, details[i]))
      .sort((a, b) => (a.replica < b.replica ? -1 : a.replica > b.replica ? 1 : 0));
  }

  #schedule(delayMs: number): void {
    if (this.#isStopped) return;
    this.#timer = this.#clock.setTimeout(() => {
      this.#inFlight = this.#beat().finally(() => {
        this.#inFlight = undefined;
      });
    }, delayMs);
  }

  async #beat(): Promise<void> {
    const startedAt = this.#clock.now();
    const { link, keys, replica, leaseTtlMs } = this.#options;
    try {
      await link.run("heartbeat", (client) =>
        client.eval(HEARTBEAT_LUA, {
          keys: [keys.members, keys.member(replica)],
          arguments: [
            replica,
            this.#options.configHash(),
            String(this.#options.stateVersion()),
            String(leaseTtlMs * DETAILS_TTL_IN_LEASE_TTLS),
            this.#hasJoined ? "0" : "1",
            String(this.#options.firstSecond ?? ""),
          ],
        }),
      );
      this.#hasJoined = true;
      this.#heartbeats += 1;
    } catch (error) {
      // Redis away: the link says so once; the next heartbeat tries again.
      this.#options.logger.debug({ err: error, replica }, MEMBERSHIP_LOG.failed);
    }
    this.#schedule(Math.max(0, startedAt + this.#intervalMs - this.#clock.now()));
  }
}

/** Flags the members whose config hash is not the leader's. */
export function withConfigDiffers(
  members: readonly Member[],
  leader: string | null,
): MemberStatus[] {
  const leaderHash = members.find((m) => m.replica === leader)?.configHash;
  return members.map((member) => ({
    ...member,
    configDiffers: leaderHash !== undefined && member.configHash !== leaderHash,
  }));
}

/** `[replica, score, replica, score, ...]` as pairs. */
function pairs(reply: unknown): [string, number][] {
  if (!Array.isArray(reply)) throw new Error("unexpected reply listing the members");
  const out: [string, number][] = [];
  for (let i = 0; i + 1 < reply.length; i += 2) {
    out.push([String(reply[i]), Number(reply[i + 1])]);
  }
  return out;
}

function memberOf(replica: string, seenAtMs: number, details: unknown): Member {
  const fields = (details ?? {}) as Record<string, string | undefined>;
  const joinedAtMs = Number(fields.joinedAt ?? seenAtMs);
  const firstSecond = Number(fields.firstSecond ?? "");
  return {
    replica,
    seenAt: new Date(seenAtMs).toISOString(),
    configHash: fields.configHash ?? "",
    stateVersion: Number(fields.stateVersion ?? 0),
    joinedAt: new Date(Number.isFinite(joinedAtMs) ? joinedAtMs : seenAtMs).toISOString(),
    ...(fields.firstSecond !== undefined &&
    fields.firstSecond !== "" &&
    Number.isSafeInteger(firstSecond)
      ? { firstSecond }
      : {}),
  };
}
