/**
 * Time as an injected dependency: decisions take `now` from a Clock, and timers are scheduled
 * through it, so tests drive time with a manual clock instead of sleeping.
 */
export interface TimerHandle {
  /** Cancels the timer; calling it twice is harmless. */
  cancel(): void;
}

export interface Clock {
  /** Milliseconds, monotonic within a process (not wall time). */
  now(): number;
  /** Wall-clock milliseconds since the epoch, for timestamps shown to people. */
  wallNow(): number;
  /** Runs `callback` once after `delayMs`; the timer does not keep the process alive. */
  setTimeout(callback: () => void, delayMs: number): TimerHandle;
}

export const SYSTEM_CLOCK: Clock = {
  now: () => performance.now(),
  wallNow: () => Date.now(),
  setTimeout(callback, delayMs) {
    const timer = setTimeout(callback, delayMs);
    timer.unref();
    return {
      cancel: () => {
        clearTimeout(timer);
      },
    };
  },
};
