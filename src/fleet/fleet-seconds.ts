/**
 * Which second is which across a fleet. WindowStats stamps records with the monotonic clock
 * (immune to wall-clock steps), but replicas can only agree on wall seconds. So a replica
 * labels its local (monotonic) second m as fleet second m + offset, the offset being the
 * wall-minus-monotonic difference rounded to whole seconds once, when this is built: the
 * labels are one-to-one and gap-free, and a replica's fleet second W starts within half a
 * second (plus its wall clock's error) of wall second W. A later wall-clock step does not
 * move the labels; a restart picks up the corrected offset.
 */
import type { Clock } from "../time/clock.ts";
import { secondOf } from "../rollout/window-series.ts";

export class FleetSeconds {
  readonly #clock: Clock;
  /** Fleet second minus local second. */
  readonly offsetSeconds: number;

  constructor(clock: Clock) {
    this.#clock = clock;
    this.offsetSeconds = Math.round((clock.wallNow() - clock.now()) / 1000);
  }

  toFleet(localSecond: number): number {
    return localSecond + this.offsetSeconds;
  }

  toLocal(fleetSecond: number): number {
    return fleetSecond - this.offsetSeconds;
  }

  /** The local second being recorded now: every earlier one is closed. */
  currentLocal(): number {
    return secondOf(this.#clock.now());
  }

  /** The fleet second being recorded now. */
  currentFleet(): number {
    return this.toFleet(this.currentLocal());
  }
}
