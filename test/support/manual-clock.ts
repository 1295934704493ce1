/** A Clock that only moves when a test says so: `advance(ms)` runs the timers that fall due. */
import type { Clock, TimerHandle } from "../../src/time/clock.ts";

interface PendingTimer {
  dueAt: number;
  order: number;
  callback: () => void;
  isCancelled: boolean;
}

export class ManualClock implements Clock {
  private nowMs: number;
  private readonly wallStartMs: number;
  private order = 0;
  private pending: PendingTimer[] = [];

  constructor(startMs = 0, wallStartMs = Date.UTC(2026, 0, 1)) {
    this.nowMs = startMs;
    this.wallStartMs = wallStartMs - startMs;
  }

  now(): number {
    return this.nowMs;
  }

  wallNow(): number {
    return this.wallStartMs + this.nowMs;
  }

  setTimeout(callback: () => void, delayMs: number): TimerHandle {
    const timer: PendingTimer = {
      dueAt: this.nowMs + Math.max(0, delayMs),
      order: this.order++,
      callback,
      isCancelled: false,
    };
    this.pending.push(timer);
    return {
      cancel: () => {
        timer.isCancelled = true;
      },
    };
  }

  /** Moves time forward by `ms`, running every timer due on the way, in order. */
  advance(ms: number): void {
    const target = this.nowMs + ms;
    for (;;) {
      const next = this.nextDue(target);
      if (next === undefined) break;
      this.nowMs = next.dueAt;
      this.pending = this.pending.filter((t) => t !== next);
      if (!next.isCancelled) next.callback();
    }
    this.nowMs = target;
  }

  /**
   * Like `advance`, for timers whose work goes on in promises: after each timer it lets every
   * pending promise settle, so a timer that schedules the next one from a promise is seen.
   */
  async advanceAsync(ms: number): Promise<void> {
    const target = this.nowMs + ms;
    await settlePromises();
    for (;;) {
      const next = this.nextDue(target);
      if (next === undefined) break;
      this.nowMs = next.dueAt;
      this.pending = this.pending.filter((t) => t !== next);
      if (!next.isCancelled) next.callback();
      await settlePromises();
    }
    this.nowMs = target;
  }

  /** Timers not yet run or cancelled. */
  get pendingCount(): number {
    return this.pending.filter((t) => !t.isCancelled).length;
  }

  private nextDue(limit: number): PendingTimer | undefined {
    let best: PendingTimer | undefined;
    for (const timer of this.pending) {
      if (timer.dueAt > limit) continue;
      if (
        best === undefined ||
        timer.dueAt < best.dueAt ||
        (timer.dueAt === best.dueAt && timer.order < best.order)
      ) {
        best = timer;
      }
    }
    return best;
  }
}

/** Resolves once every promise reaction queued so far (and those they queue) has run. */
export function settlePromises(): Promise<void> {
  return new Promise((resolve) => {
    setImmediate(resolve);
  });
}
