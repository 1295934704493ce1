/**
 * What the control plane reads of the processes that serve (SPEC 11): the worker list, the
 * breaker and ejection view, whether any worker serves, and a wait for every worker to apply
 * the latest change (so an admin write answers once it is in force everywhere). One process
 * (`workers: 1`) is its own one worker.
 */
import type { Endpoint } from "../upstream/endpoint.ts";
import type { Upstream } from "../upstream/upstream.ts";
import type { WorkerParts } from "./worker-parts.ts";
import type { BreakerView } from "./worker-resilience.ts";
import { singleProcessWorker, type WorkerStatus } from "./worker-status.ts";

/** How long an admin write waits for the workers to apply it (SPEC 11: within 100 ms). */
const SETTLE_TIMEOUT_MS = 1000;

export interface WorkersView {
  list(): WorkerStatus[];
  breakerOf(upstream: Upstream): BreakerView;
  /** How many workers have the endpoint ejected. */
  ejectedIn(endpoint: Endpoint): number;
  readonly isServing: boolean;
  /** Resolves once every serving worker applied the latest change, or after a second. */
  settled(): Promise<void>;
}

export const SINGLE_PROCESS_VIEW: WorkersView = {
  list: () => [singleProcessWorker()],
  breakerOf: (upstream) => ({ state: upstream.breaker.state, workers: 1 }),
  ejectedIn: (endpoint) => (endpoint.isEjected ? 1 : 0),
  isServing: true,
  settled: () => Promise.resolve(),
};

export function workersViewOf(parts: WorkerParts, onLate: (version: number) => void): WorkersView {
  const { pool, resilience } = parts;
  return {
    list: () => pool.status(),
    breakerOf: (upstream) => resilience.breakerOf(upstream.name),
    ejectedIn: (endpoint) => resilience.ejectedIn(endpoint.upstreamName, endpoint.url),
    get isServing() {
      return pool.isServing;
    },
    async settled() {
      if (!(await pool.settled(SETTLE_TIMEOUT_MS))) onLate(pool.version);
    },
  };
}
