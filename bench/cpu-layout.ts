/**
 * Which core each process runs on. The load generator and the backend share the first allowed
 * core; the proxy under test gets the second to itself, so a proxy's req/s is what one core
 * of it delivers. Pinning needs `taskset` and two allowed cores; without them everything runs
 * unpinned and the results say so.
 */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";

export type CoreRole = "load" | "proxy";

export interface CpuLayout {
  readonly isPinned: boolean;
  /** CPU numbers, or undefined when unpinned. */
  readonly loadCore: number | undefined;
  readonly proxyCore: number | undefined;
  /** One line for the results: where things ran, or why they were not pinned. */
  readonly description: string;
  /** The command line that runs `command args` on the core for `role`. */
  wrap(role: CoreRole, command: string, args: readonly string[]): [string, string[]];
}

export function detectCpuLayout(): CpuLayout {
  const allowed = allowedCpus();
  const hasTaskset = spawnSync("taskset", ["--version"], { stdio: "ignore" }).status === 0;
  const loadCore = allowed[0];
  const proxyCore = allowed[1];
  if (!hasTaskset || loadCore === undefined || proxyCore === undefined) {
    const why = hasTaskset ? `only ${allowed.length} allowed core(s)` : "taskset not installed";
    return {
      isPinned: false,
      loadCore: undefined,
      proxyCore: undefined,
      description: `unpinned (${why}): every process shares every core`,
      wrap: (_role, command, args) => [command, [...args]],
    };
  }
  return {
    isPinned: true,
    loadCore,
    proxyCore,
    description:
      `taskset: load generator and backend on CPU ${loadCore}, ` +
      `proxy under test on CPU ${proxyCore}`,
    wrap: (role, command, args) => [
      "taskset",
      ["-c", String(role === "proxy" ? proxyCore : loadCore), command, ...args],
    ],
  };
}

/** The CPUs this process may run on, from /proc/self/status (Linux); [] when unknown. */
function allowedCpus(): number[] {
  let status: string;
  try {
    status = readFileSync("/proc/self/status", "utf8");
  } catch {
    return [];
  }
  const list = /^Cpus_allowed_list:\s*(.+)$/m.exec(status)?.[1] ?? "";
  const cpus: number[] = [];
  for (const part of list.split(",")) {
    const [from, to] = part.split("-").map(Number);
    if (from === undefined || !Number.isInteger(from)) continue;
    const last = to !== undefined && Number.isInteger(to) ? to : from;
    for (let cpu = from; cpu <= last; cpu++) cpus.push(cpu);
  }
  return cpus;
}
