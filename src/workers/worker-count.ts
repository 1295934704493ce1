/**
 * How many worker processes `workers` asks for on this machine. A number is taken as written;
 * `auto` is one per CPU the cgroup's quota allows (src/workers/cpu-quota.ts), a fractional
 * quota rounded up (1.5 CPUs can keep two processes busy part of the time), at least 1, and
 * never more than the cores this process may run on.
 */
import { availableParallelism } from "node:os";
import type { WorkersSetting } from "../config/workers-schema.ts";
import { readCpuQuota, SYSTEM_CGROUP_FILES, type CgroupFiles } from "./cpu-quota.ts";

export interface WorkerCountSources {
  readonly cgroup?: CgroupFiles;
  /** The cores this process may run on (CPU affinity included): os.availableParallelism(). */
  readonly availableParallelism?: number;
}

export async function resolveWorkerCount(
  setting: WorkersSetting,
  sources: WorkerCountSources = {},
): Promise<number> {
  if (setting !== "auto") return setting;
  const quota = await readCpuQuota(sources.cgroup ?? SYSTEM_CGROUP_FILES);
  return workersForQuota(quota, sources.availableParallelism ?? availableParallelism());
}

/** `auto` for a quota in CPUs (undefined: none) on a machine with `available` cores. */
export function workersForQuota(quotaCpus: number | undefined, available: number): number {
  const cores = Math.max(1, available);
  if (quotaCpus === undefined) return cores;
  return Math.min(cores, Math.max(1, Math.ceil(quotaCpus)));
}
