/**
 * CPU time during a measurement, from /proc (Linux): how busy each core was, and how much of a
 * core the process under test used (summed over its process tree for a target that forks). A
 * proxy near 100% is the bottleneck; a load core near 100% means the client and backend
 * limited the result, not the proxy.
 */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { measuredPids, type MeasuredProcesses } from "./process-tree.ts";

export interface CpuSnapshot {
  atMs: number;
  /** Per CPU number: [busy ticks, all ticks]. */
  cores: Map<number, [number, number]>;
  /**
   * utime + stime of the watched processes, in ticks; undefined when the first one is
   * unreadable.
   */
  processTicks: number | undefined;
}

export interface CpuUsage {
  /** Busy share of each core over the interval, 0..100, by CPU number. */
  coreBusyPercent: Record<string, number>;
  /** The watched processes' CPU time over the interval, in % of one core. */
  processPercent: number | undefined;
  /** The same in seconds (resolution: one clock tick, usually 10 ms). */
  processSeconds: number | undefined;
}

const ticksPerSecond = readTicksPerSecond();

/** `watched`: whose CPU time to read (none: only the cores). */
export function takeCpuSnapshot(watched: MeasuredProcesses | undefined): CpuSnapshot {
  return {
    atMs: performance.now(),
    cores: readCores(),
    processTicks: watched === undefined ? undefined : readTicks(watched),
  };
}

export function cpuUsageBetween(before: CpuSnapshot, after: CpuSnapshot): CpuUsage {
  const coreBusyPercent: Record<string, number> = {};
  for (const [cpu, [busyAfter, totalAfter]] of after.cores) {
    const [busyBefore, totalBefore] = before.cores.get(cpu) ?? [0, 0];
    const total = totalAfter - totalBefore;
    coreBusyPercent[cpu] = total > 0 ? round1((100 * (busyAfter - busyBefore)) / total) : 0;
  }
  const seconds = (after.atMs - before.atMs) / 1000;
  const processSeconds =
    before.processTicks === undefined || after.processTicks === undefined
      ? undefined
      : (after.processTicks - before.processTicks) / ticksPerSecond;
  const processPercent =
    processSeconds === undefined || seconds <= 0
      ? undefined
      : round1((100 * processSeconds) / seconds);
  return { coreBusyPercent, processPercent, processSeconds };
}

function readCores(): Map<number, [number, number]> {
  const cores = new Map<number, [number, number]>();
  let text: string;
  try {
    text = readFileSync("/proc/stat", "utf8");
  } catch {
    return cores;
  }
  for (const line of text.split("\n")) {
    const found = /^cpu(\d+)\s+(.*)$/.exec(line);
    if (found === null) continue;
    // user nice system idle iowait irq softirq steal ...; guest time is already in user.
    const fields = (found[2] ?? "").split(/\s+/).map(Number);
    const total = fields.slice(0, 8).reduce((sum, value) => sum + value, 0);
    const idle = (fields[3] ?? 0) + (fields[4] ?? 0);
    cores.set(Number(found[1]), [total - idle, total]);
  }
  return cores;
}

/**
 * The summed CPU ticks of the watched processes. A descendant that ended between two readings
 * drops its ticks from the later one; the bench's targets keep their processes for the run.
 */
function readTicks(watched: MeasuredProcesses): number | undefined {
  const [root, ...descendants] = measuredPids(watched);
  const rootTicks = root === undefined ? undefined : readProcessTicks(root);
  if (rootTicks === undefined) return undefined;
  return descendants.reduce((sum, pid) => sum + (readProcessTicks(pid) ?? 0), rootTicks);
}

/** utime + stime of one process, all its threads included. */
function readProcessTicks(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after the parenthesised command name (which may contain spaces).
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return undefined;
  }
}

function readTicksPerSecond(): number {
  const found = spawnSync("getconf", ["CLK_TCK"], { encoding: "utf8" });
  const value = Number(found.stdout);
  return Number.isFinite(value) && value > 0 ? value : 100;
}

function round1(value: number): number {
  return Math.round(value * 10) / 10;
}
