/**
 * Shared bucket rotation for breakers. opossum otherwise starts an interval timer per breaker
 * to rotate its rolling window; with `rotateBucketController` it listens for "rotate" on an
 * emitter instead. One emitter and one interval timer per distinct window length serve every
 * breaker with that window; the timer stops when the last of them is released.
 */
import { EventEmitter } from "node:events";

/** Buckets in a breaker's rolling window (opossum's `rollingCountBuckets`). */
export const BUCKETS_PER_WINDOW = 10;

interface Rotation {
  readonly emitter: EventEmitter;
  readonly timer: NodeJS.Timeout;
  userCount: number;
}

export class BucketRotations {
  private readonly byWindowMs = new Map<number, Rotation>();

  /** The emitter that rotates windows of `windowMs`; pair every call with `release`. */
  acquire(windowMs: number): EventEmitter {
    const existing = this.byWindowMs.get(windowMs);
    if (existing !== undefined) {
      existing.userCount++;
      return existing.emitter;
    }
    const emitter = new EventEmitter();
    // Every breaker with this window listens: no "possible leak" warning past 10 of them.
    emitter.setMaxListeners(0);
    const bucketMs = Math.max(1, Math.floor(windowMs / BUCKETS_PER_WINDOW));
    const timer = setInterval(() => emitter.emit("rotate"), bucketMs);
    timer.unref();
    this.byWindowMs.set(windowMs, { emitter, timer, userCount: 1 });
    return emitter;
  }

  release(windowMs: number): void {
    const rotation = this.byWindowMs.get(windowMs);
    if (rotation === undefined) return;
    rotation.userCount--;
    if (rotation.userCount > 0) return;
    clearInterval(rotation.timer);
    this.byWindowMs.delete(windowMs);
  }

  /** Interval timers running (one per window length in use). */
  get timerCount(): number {
    return this.byWindowMs.size;
  }
}
