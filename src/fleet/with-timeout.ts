/**
 * A bound on how long a caller waits for Redis. A command already written to the socket cannot
 * be taken back (a frozen Redis still holds it, and may run it when it wakes up): the bound
 * only stops the waiting, so a caller must treat a timed-out write as "unknown", not "not done".
 */
import { SYSTEM_CLOCK } from "../time/clock.ts";
import type { Clock } from "../time/clock.ts";

export class CommandTimeoutError extends Error {
  readonly timeoutMs: number;

  constructor(what: string, timeoutMs: number) {
    super(`${what}: no answer from Redis within ${String(timeoutMs)} ms`);
    this.name = "CommandTimeoutError";
    this.timeoutMs = timeoutMs;
  }
}

/** `promise`'s outcome, or a CommandTimeoutError once `timeoutMs` has passed without one. */
export function withTimeout<T>(
  promise: Promise<T>,
  timeoutMs: number,
  what: string,
  clock: Clock = SYSTEM_CLOCK,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = clock.setTimeout(() => {
      reject(new CommandTimeoutError(what, timeoutMs));
    }, timeoutMs);
    promise.then(
      (value) => {
        timer.cancel();
        resolve(value);
      },
      (error: unknown) => {
        timer.cancel();
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}
