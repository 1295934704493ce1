/**
 * What a test started, closed after it: `track(x)` for anything with `close()`, `defer(fn)` for
 * anything else. Cleanups run after each test, newest first, so a proxy closes before the
 * backends it forwards to.
 */
import { afterEach } from "vitest";

export interface Closable {
  close(): Promise<void>;
}

export interface Cleanups {
  /** Closes `closable` after the test; returns it, so `track(await startX())` reads in one line. */
  track: <T extends Closable>(closable: T) => T;
  /** Runs `cleanup` after the test. */
  defer: (cleanup: () => Promise<void> | void) => void;
  /** Runs the cleanups registered so far, newest first (afterEach does this too). */
  runAll: () => Promise<void>;
}

/** A cleanup list of its own, run by the caller (e.g. in a hook other than afterEach). */
export function createCleanups(): Cleanups {
  const pending: (() => Promise<void> | void)[] = [];
  return {
    track(closable) {
      pending.push(() => closable.close());
      return closable;
    },
    defer(cleanup) {
      pending.push(cleanup);
    },
    async runAll() {
      for (const cleanup of pending.splice(0).reverse()) await cleanup();
    },
  };
}

/** Registers an afterEach hook (call it at the top level of a test file) that runs the list. */
export function cleanupAfterEach(): Cleanups {
  const cleanups = createCleanups();
  afterEach(async () => {
    await cleanups.runAll();
  });
  return cleanups;
}
