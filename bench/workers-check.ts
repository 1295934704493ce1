/**
 * The switchyard-workers target before its rounds: every worker serving, as
 * `GET /api/v1/status` lists them, and each of them under the primary in /proc, so that the
 * CPU time and RSS read over the primary's process tree really include them.
 */
import { sleep } from "./loopback.ts";
import { processTreePids } from "./process-tree.ts";

const POLL_MS = 100;

interface WorkersStatus {
  workers?: Array<{ pid?: unknown; state?: unknown }>;
}

/** Polls status until `count` workers serve; returns their pids, or throws after `timeoutMs`. */
export async function waitForServingWorkers(
  adminUrl: string,
  count: number,
  timeoutMs: number,
  describe: () => string,
): Promise<number[]> {
  const deadline = Date.now() + timeoutMs;
  let pids: number[] = [];
  while (Date.now() < deadline) {
    pids = await servingWorkerPids(adminUrl);
    if (pids.length === count) return pids;
    await sleep(POLL_MS);
  }
  throw new Error(
    `switchyard-workers: ${pids.length} of ${count} workers serving after ${timeoutMs} ms. ${describe()}`.trim(),
  );
}

async function servingWorkerPids(adminUrl: string): Promise<number[]> {
  const response = await fetch(`${adminUrl}/api/v1/status`, { signal: AbortSignal.timeout(1000) });
  const status = (await response.json()) as WorkersStatus;
  const pids: number[] = [];
  for (const worker of status.workers ?? []) {
    if (worker.state === "serving" && typeof worker.pid === "number") pids.push(worker.pid);
  }
  return pids;
}

/** The worker pids that /proc does not show below `primaryPid` (their CPU would be missed). */
export function workersOutsideTree(primaryPid: number, workerPids: readonly number[]): number[] {
  const tree = new Set(processTreePids(primaryPid));
  return workerPids.filter((pid) => !tree.has(pid));
}
