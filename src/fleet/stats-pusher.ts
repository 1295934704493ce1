/**
 * Pushes this replica's window statistics to Redis, one closed second at a time (SPEC 10),
 * for the leader to sum. Every second, each second closed since the last successful push
 * goes out in one MULTI (a hash per second, with an expiry past the longest window), so a
 * tick either lands whole or is retried whole at the next one: seconds missed while Redis was
 * away are backfilled, as far back as the window the ring still holds. After a reconnect the
 * whole window is pushed again, for a Redis that restarted empty. Never on the request path;
 * failures are counted, never thrown.
 */
import type { SecondCounts } from "../rollout/second-counts.ts";
import type { Clock, TimerHandle } from "../time/clock.ts";
import type { FleetKeys } from "./fleet-keys.ts";
import type { FleetSeconds } from "./fleet-seconds.ts";
import type { RedisLink } from "./redis-link.ts";
import { encodeSecond, statsTtlSeconds } from "./stats-codec.ts";

/** After a second ends, this long before pushing it: records reported as it ended get in. */
export const PUSH_DELAY_MS = 100;

export interface StatsPusherOptions {
  link: Pick<RedisLink, "run" | "isConnected" | "on">;
  keys: FleetKeys;
  replica: string;
  /** The replica's WindowStats (readSecond, with the clock it stamps records with). */
  stats: { readSecond(second: number): SecondCounts[] };
  seconds: FleetSeconds;
  clock: Clock;
  longestWindowMs: number;
  /** Each failed push (for `switchyard_fleet_redis_errors_total`). */
  onError?: (error: unknown) => void;
}

export class StatsPusher {
  readonly #options: StatsPusherOptions;
  /** The first local second this replica pushes: the one it started in. */
  readonly #firstLocal: number;
  /** The oldest local second not yet known to be in Redis. */
  #unpushed: number;
  #windowSeconds: number;
  #ttlSeconds: number;
  #errors = 0;
  #reconnects = 0;
  #timer: TimerHandle | undefined;
  #isStopped = true;
  readonly #stopListening: () => void;

  constructor(options: StatsPusherOptions) {
    this.#options = options;
    this.#firstLocal = options.seconds.currentLocal();
    this.#unpushed = this.#firstLocal;
    this.#windowSeconds = Math.max(1, Math.ceil(options.longestWindowMs / 1000));
    this.#ttlSeconds = statsTtlSeconds(options.longestWindowMs);
    this.#stopListening = options.link.on("up", () => {
      this.#reconnects += 1;
      this.#unpushed = this.#firstLocal;
    });
  }

  /** The first fleet second this replica pushes: its join second for the merger. */
  get firstSecond(): number {
    return this.#options.seconds.toFleet(this.#firstLocal);
  }

  /** Pushes that failed so far. */
  get errorCount(): number {
    return this.#errors;
  }

  /** Closed seconds waiting for a push (backfill included). */
  get pendingSeconds(): number {
    const current = this.#options.seconds.currentLocal();
    return current - this.#oldestPushable(current);
  }

  /** Pushes every second, shortly after each second ends, until stop(). */
  start(): void {
    if (!this.#isStopped) return;
    this.#isStopped = false;
    this.#schedule();
  }

  stop(): void {
    this.#isStopped = true;
    this.#timer?.cancel();
    this.#timer = undefined;
    this.#stopListening();
  }

  /** After a reload that changed the longest window. */
  resize(longestWindowMs: number): void {
    this.#windowSeconds = Math.max(1, Math.ceil(longestWindowMs / 1000));
    this.#ttlSeconds = statsTtlSeconds(longestWindowMs);
  }

  /**
   * Pushes every closed second not pushed yet, in one MULTI. False when there was nothing
   * to push or it failed (counted; retried next time), true when they all landed.
   */
  async pushClosed(): Promise<boolean> {
    const { link, keys, replica, seconds, stats } = this.#options;
    const current = seconds.currentLocal();
    const from = this.#oldestPushable(current);
    if (from >= current || !link.isConnected) return false;
    const ttl = this.#ttlSeconds;
    const reconnects = this.#reconnects;
    try {
      await link.run(`push ${String(current - from)} stats seconds`, async (client) => {
        const multi = client.multi();
        for (let local = from; local < current; local++) {
          const key = keys.stats(replica, seconds.toFleet(local));
          multi.hSet(key, encodeSecond(stats.readSecond(local))).expire(key, ttl);
        }
        await multi.exec();
      });
    } catch (error) {
      this.#errors += 1;
      this.#options.onError?.(error);
      return false;
    }
    // A reconnect while this ran asked for the whole window again: leave that to the next tick.
    if (this.#reconnects === reconnects) this.#unpushed = current;
    return true;
  }

  /** Seconds older than the window are no longer held (or needed): they are given up. */
  #oldestPushable(current: number): number {
    return Math.max(this.#unpushed, current - this.#windowSeconds, this.#firstLocal);
  }

  #schedule(): void {
    if (this.#isStopped) return;
    const { clock } = this.#options;
    const intoSecond = ((clock.now() % 1000) + 1000) % 1000;
    this.#timer = clock.setTimeout(
      () => {
        void this.pushClosed().finally(() => {
          this.#schedule();
        });
      },
      1000 - intoSecond + PUSH_DELAY_MS,
    );
  }
}
