/**
 * The leader's window statistics in fleet mode (SPEC 10): the seconds every member pushed,
 * read from Redis and summed behind the same `StatsSource` the deciders read, so they do not
 * change. Only seconds at least `settleSeconds` old are judged, so every member has had time
 * to push them; a pushed second never changes, so it is read once and kept while any window
 * may need it, and a second still missing is asked for again at each refresh (a late push
 * or a backfill fills it in).
 *
 * The window of W ms is the last ceil(W / 1000) judged seconds: it ends `settleSeconds` + 1
 * seconds before now (the current second is still being recorded), where a replica's own
 * WindowStats ends now.
 */
import type { StatsSource } from "../rollout/rollout-types.ts";
import type { SecondCounts } from "../rollout/second-counts.ts";
import type { Clock } from "../time/clock.ts";
import type { FleetKeys } from "./fleet-keys.ts";
import { expectedRange, seriesField, summarizeFleetWindow } from "./fleet-window.ts";
import type { FleetMember } from "./fleet-window.ts";
import type { RedisLink } from "./redis-link.ts";
import { decodeSecond } from "./stats-codec.ts";

export const DEFAULT_SETTLE_SECONDS = 2;

export interface FleetStatsOptions {
  link: Pick<RedisLink, "run">;
  keys: FleetKeys;
  /** Its wall clock says which fleet second is now. */
  clock: Clock;
  longestWindowMs: number;
  settleSeconds?: number;
  /** A pushed field that did not decode: skipped, to be counted and logged. */
  onCorrupt?: (replica: string, second: number, fields: readonly string[]) => void;
}

type Series = Map<string, SecondCounts>;

export class FleetStats {
  readonly #link: Pick<RedisLink, "run">;
  readonly #keys: FleetKeys;
  readonly #clock: Clock;
  readonly #settleSeconds: number;
  readonly #onCorrupt: FleetStatsOptions["onCorrupt"];
  #windowSeconds: number;
  readonly #pushed = new Map<string, Map<number, Series>>();
  #members: readonly FleetMember[] = [];
  /** The newest judged second as of the last refresh. */
  #lastSecond = -Infinity;
  /** Per route, the first second a fresh window keeps. */
  readonly #cuts = new Map<string, number>();

  constructor(options: FleetStatsOptions) {
    this.#link = options.link;
    this.#keys = options.keys;
    this.#clock = options.clock;
    this.#settleSeconds = options.settleSeconds ?? DEFAULT_SETTLE_SECONDS;
    this.#onCorrupt = options.onCorrupt;
    this.#windowSeconds = windowSecondsOf(options.longestWindowMs);
  }

  /** The newest second judged, as of the last refresh. */
  get lastJudgedSecond(): number {
    return this.#lastSecond;
  }

  /**
   * Reads, in one pipeline, every second of the longest window that `members` should have
   * pushed and that is not held yet, then judges up to the newest settled second. Resolves
   * the seconds judged for the first time that a member had not pushed (the missing-seconds
   * metric). Rejects when Redis fails; what was read before is kept, and the window stays.
   */
  async refresh(members: readonly FleetMember[]): Promise<number> {
    const nowSecond = Math.floor(this.#clock.wallNow() / 1000);
    const lastSecond = nowSecond - 1 - this.#settleSeconds;
    const firstSecond = lastSecond - this.#windowSeconds + 1;
    const wanted: Array<{ replica: string; second: number }> = [];
    for (const member of members) {
      const held = this.#pushed.get(member.replica);
      const [from, to] = expectedRange(member, firstSecond, lastSecond);
      for (let second = from; second <= to; second++) {
        if (held?.has(second) !== true) wanted.push({ replica: member.replica, second });
      }
    }
    const hashes = await this.#read(wanted);
    this.#keep(wanted, hashes);
    this.#forget(members, firstSecond);
    const missing = this.#missingSince(members, this.#lastSecond, lastSecond);
    this.#members = [...members];
    this.#lastSecond = Math.max(this.#lastSecond, lastSecond);
    return missing;
  }

  /** Seconds in (after, upTo] a member should have pushed and did not: newly judged gaps. */
  #missingSince(members: readonly FleetMember[], after: number, upTo: number): number {
    let missing = 0;
    for (const member of members) {
      const held = this.#pushed.get(member.replica);
      const [from, to] = expectedRange(
        member,
        Math.max(after + 1, upTo - this.#windowSeconds),
        upTo,
      );
      for (let second = from; second <= to; second++) if (held?.has(second) !== true) missing++;
    }
    return missing;
  }

  /** The view the decider reads for one route, as of the last refresh. */
  forRoute(route: string): StatsSource {
    return {
      summarize: (upstream, windowMs) => {
        const lastSecond = this.#lastSecond;
        const count = Math.min(this.#windowSeconds, windowSecondsOf(windowMs));
        const firstSecond = Math.max(lastSecond - count + 1, this.#cuts.get(route) ?? -Infinity);
        return summarizeFleetWindow({
          pushed: this.#pushed,
          members: this.#members,
          route,
          upstream,
          firstSecond,
          lastSecond,
        });
      },
    };
  }

  /**
   * A fresh window for a route from wall time `fromWallMs`: the second containing it mixes
   * traffic from before, so windows start at the next one.
   */
  resetFrom(route: string, fromWallMs: number): void {
    this.#cuts.set(route, Math.floor(fromWallMs / 1000) + 1);
  }

  removeRoute(route: string): void {
    this.#cuts.delete(route);
  }

  /** After a reload that changed the longest window. */
  resize(longestWindowMs: number): void {
    this.#windowSeconds = windowSecondsOf(longestWindowMs);
  }

  async #read(wanted: ReadonlyArray<{ replica: string; second: number }>) {
    if (wanted.length === 0) return [];
    return this.#link.run(`HGETALL ${String(wanted.length)} stats seconds`, async (client) => {
      const pipeline = client.multi();
      for (const { replica, second } of wanted) pipeline.hGetAll(this.#keys.stats(replica, second));
      return await pipeline.execAsPipeline();
    });
  }

  #keep(wanted: ReadonlyArray<{ replica: string; second: number }>, hashes: readonly unknown[]) {
    wanted.forEach(({ replica, second }, index) => {
      const hash = hashes[index];
      if (typeof hash !== "object" || hash === null) return;
      const decoded = decodeSecond(hash as Record<string, string>);
      if (decoded === undefined) return;
      if (decoded.corrupt.length > 0) this.#onCorrupt?.(replica, second, decoded.corrupt);
      const series: Series = new Map();
      for (const record of decoded.records) {
        series.set(seriesField(record.route, record.upstream), record);
      }
      let held = this.#pushed.get(replica);
      if (held === undefined) {
        held = new Map();
        this.#pushed.set(replica, held);
      }
      held.set(second, series);
    });
  }

  /** Drops seconds older than every window, and replicas no longer listed. */
  #forget(members: readonly FleetMember[], firstSecond: number): void {
    const listed = new Set(members.map((member) => member.replica));
    for (const [replica, held] of this.#pushed) {
      if (!listed.has(replica)) {
        this.#pushed.delete(replica);
        continue;
      }
      for (const second of held.keys()) if (second < firstSecond) held.delete(second);
    }
  }
}

function windowSecondsOf(windowMs: number): number {
  const seconds = Math.ceil(windowMs / 1000);
  return Number.isFinite(seconds) && seconds > 0 ? seconds : 1;
}
