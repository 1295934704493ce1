/**
 * How the demo answers SIGINT and SIGTERM. While it sets up and tells its story, a signal ends
 * it at once: exiting, rather than dying of the signal, runs the 'exit' handlers, so the demo's
 * Redis does not outlive it. While it keeps serving, the first signal stops it gently (the
 * switchyards, then the backends and Redis) and a second one ends it at once.
 */
const EXIT_CODES: Readonly<Record<string, number>> = { SIGINT: 130, SIGTERM: 143 };

export interface DemoSignals {
  /** Resolves at the next signal, which then no longer ends the demo at once. */
  next(): Promise<void>;
}

export function handleDemoSignals(): DemoSignals {
  let onSignal: (() => void) | undefined;
  const handle = (signal: NodeJS.Signals): void => {
    const gently = onSignal;
    onSignal = undefined;
    if (gently === undefined) process.exit(EXIT_CODES[signal] ?? 1);
    else gently();
  };
  process.on("SIGINT", handle);
  process.on("SIGTERM", handle);
  return {
    next: () =>
      new Promise<void>((resolve) => {
        onSignal = resolve;
      }),
  };
}
