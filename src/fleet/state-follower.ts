/**
 * Keeps a replica on the fleet's newest state (SPEC 10: "in force on every replica within
 * 1 s"). The published version is only a hint, lost while the subscriber is disconnected, so
 * the follower also polls the version every interval and as soon as the link is back up. A
 * version below what this replica has seen, or no document at all, means Redis lost its data:
 * the follower puts the last known state back (the store's seed). One check at a time: a hint
 * during a check makes one more check afterwards, never a pile of them.
 */
import type { Logger } from "../log/logger.ts";
import type { Clock, TimerHandle } from "../time/clock.ts";
import type { FleetDocument } from "./fleet-document.ts";
import type { FleetKeys } from "./fleet-keys.ts";
import type { RedisLink } from "./redis-link.ts";
import type { SharedStateStore } from "./shared-state-store.ts";

export interface StateFollowerOptions {
  readonly store: SharedStateStore;
  readonly link: RedisLink;
  readonly keys: FleetKeys;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly pollIntervalMs: number;
  readonly onNewVersion: (document: FleetDocument) => void;
}

export class StateFollower {
  readonly #options: StateFollowerOptions;
  #applied = 0;
  #reportedCorrupt = -1;
  #timer: TimerHandle | undefined;
  #stopLinkUp: (() => void) | undefined;
  #running = false;
  #again = false;
  #stopped = false;

  constructor(options: StateFollowerOptions) {
    this.#options = options;
  }

  start(): void {
    const { link, keys, logger } = this.#options;
    this.#stopLinkUp = link.on("up", () => {
      this.#check();
    });
    // The subscription is renewed by the link after each reconnect; a missed hint is polled.
    link
      .subscribe(keys.stateChannel, () => {
        this.#check();
      })
      .catch((error: unknown) => {
        logger.warn({ err: error }, "fleet: state hints not confirmed yet; polling meanwhile");
      });
    this.#schedule();
    this.#check();
  }

  stop(): void {
    this.#stopped = true;
    this.#timer?.cancel();
    this.#stopLinkUp?.();
  }

  #schedule(): void {
    if (this.#stopped) return;
    this.#timer = this.#options.clock.setTimeout(() => {
      this.#check();
      this.#schedule();
    }, this.#options.pollIntervalMs);
  }

  #check(): void {
    if (this.#stopped) return;
    if (this.#running) {
      this.#again = true;
      return;
    }
    this.#running = true;
    this.#follow()
      .catch((error: unknown) => {
        this.#options.logger.error({ err: error }, "fleet: following the shared state failed");
      })
      .finally(() => {
        this.#running = false;
        if (this.#again) {
          this.#again = false;
          this.#check();
        }
      });
  }

  async #follow(): Promise<void> {
    const { store } = this.#options;
    let version: number;
    try {
      version = await store.peekVersion();
    } catch {
      return; // Redis is away: the next poll or the link's "up" tries again.
    }
    // Version 0 with nothing known is a new fleet: nothing to put back, nothing to read.
    if (version < store.seenVersion || (version === 0 && store.lastKnown !== undefined)) {
      const seeded = await store.seed();
      if (seeded.ok) this.#again = true;
      if (!seeded.ok && seeded.reason !== "notNeeded") return;
    }
    if (version > this.#applied) await this.#apply();
  }

  async #apply(): Promise<void> {
    const read = await this.#options.store.read();
    if (read.kind === "corrupt" && read.version !== this.#reportedCorrupt) {
      this.#reportedCorrupt = read.version;
      this.#options.logger.error(
        { version: read.version, reason: read.reason },
        "fleet: the shared state in Redis is corrupt; keeping the last state applied",
      );
    }
    if (read.kind !== "found" || read.version <= this.#applied || this.#stopped) return;
    this.#applied = read.version;
    this.#options.onNewVersion(read.document);
  }
}
