/**
 * The system clock, counting the timer callbacks it has run. A component's timer firing is an
 * event a test can wait for (e.g. a debounce ran out, so the component wants to act now)
 * instead of sleeping for "long enough".
 */
import { SYSTEM_CLOCK, type Clock, type TimerHandle } from "../../src/time/clock.ts";

export class CountingClock implements Clock {
  /** Timer callbacks that have run to their end. */
  fired = 0;

  now(): number {
    return SYSTEM_CLOCK.now();
  }

  wallNow(): number {
    return SYSTEM_CLOCK.wallNow();
  }

  setTimeout(callback: () => void, delayMs: number): TimerHandle {
    return SYSTEM_CLOCK.setTimeout(() => {
      try {
        callback();
      } finally {
        this.fired++;
      }
    }, delayMs);
  }
}
