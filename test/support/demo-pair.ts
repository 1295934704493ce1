/**
 * The stable (1.0.0) and canary (2.0.0) demo backends that rollout tests split traffic
 * between: one pair per test file, started before its tests and closed after them. After each
 * test both get back the error rate and latency they started with.
 */
import { afterAll, afterEach, beforeAll } from "vitest";
import {
  startDemoBackend,
  type DemoBackend,
  type DemoBackendOptions,
} from "../../src/demo/backend.ts";

export interface DemoPair {
  readonly stable: DemoBackend;
  readonly canary: DemoBackend;
}

type Tuning = Pick<DemoBackendOptions, "errorRate" | "latencyMs">;

/** Registers the hooks; read the backends inside tests (they exist from `beforeAll` on). */
export function demoPairForFile(tuning: { stable?: Tuning; canary?: Tuning } = {}): DemoPair {
  const started: { stable?: DemoBackend; canary?: DemoBackend } = {};
  beforeAll(async () => {
    started.stable = await startDemoBackend({ name: "stable", version: "1.0.0", ...tuning.stable });
    started.canary = await startDemoBackend({ name: "canary", version: "2.0.0", ...tuning.canary });
  });
  afterEach(() => {
    for (const [backend, tuned] of [
      [started.stable, tuning.stable],
      [started.canary, tuning.canary],
    ] as const) {
      backend?.setErrorRate(tuned?.errorRate ?? 0);
      backend?.setLatencyMs(tuned?.latencyMs ?? 0);
    }
  });
  afterAll(async () => {
    await started.stable?.close();
    await started.canary?.close();
  });
  const backend = (name: "stable" | "canary"): DemoBackend => {
    const found = started[name];
    if (found === undefined) throw new Error(`the ${name} demo backend starts in beforeAll`);
    return found;
  };
  return {
    get stable() {
      return backend("stable");
    },
    get canary() {
      return backend("canary");
    },
  };
}
