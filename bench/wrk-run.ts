/**
 * One wrk run (Debian's `wrk` package): many connections from two threads, pinned to the load
 * core like autocannon, its report parsed back (wrk-output.ts), with the target's CPU time
 * over the run and its RSS as the run ends.
 */
import { spawnSync } from "node:child_process";
import { findBinary } from "./baselines/find-binary.ts";
import { runToEnd } from "./child-processes.ts";
import type { CpuLayout } from "./cpu-layout.ts";
import { cpuUsageBetween, takeCpuSnapshot, type CpuUsage } from "./cpu-usage.ts";
import { readRssBytes, toMb } from "./memory-sample.ts";
import type { MeasuredProcesses } from "./process-tree.ts";
import { parseWrkReport, type WrkReport } from "./wrk-output.ts";

const WRK = findBinary("wrk");
/** Two threads: wrk's event loops, sharing the load core with the backend. */
export const WRK_THREADS = 2;
/** A request that waits longer is counted as a timeout instead of a latency. */
export const WRK_TIMEOUT_SECONDS = 2;

export interface WrkSettings {
  url: string;
  connections: number;
  durationSeconds: number;
}

export interface WrkResult extends WrkReport {
  /** CPU time of the target per completed request, in microseconds. */
  cpuMicrosPerRequest: number | undefined;
  /** The target's RSS right after the run (summed over its process tree for workers). */
  rssMbAtEnd: number | undefined;
  cpu: CpuUsage;
}

/** wrk's version, or undefined when it is not installed. */
export function wrkVersion(): string | undefined {
  if (WRK === undefined) return undefined;
  // `wrk -v` prints "wrk 4.1.0 [epoll] Copyright..." and the usage, and exits 1.
  const found = spawnSync(WRK, ["-v"], { encoding: "utf8" });
  if (found.error !== undefined) return undefined;
  const line = `${found.stdout}${found.stderr}`.split("\n")[0] ?? "";
  return /^wrk (\S+)/.exec(line)?.[1] ?? (line.trim() || "unknown");
}

export async function runWrk(
  settings: WrkSettings,
  layout: CpuLayout,
  watched: MeasuredProcesses,
): Promise<WrkResult> {
  if (WRK === undefined) throw new Error("wrk is not installed");
  const args = [
    `-t${WRK_THREADS}`,
    `-c${settings.connections}`,
    `-d${settings.durationSeconds}s`,
    "--latency",
    "--timeout",
    `${WRK_TIMEOUT_SECONDS}s`,
    settings.url,
  ];
  const before = takeCpuSnapshot(watched);
  const timeoutMs = (settings.durationSeconds + 30) * 1000;
  const stdout = await runToEnd("wrk", layout.wrap("load", WRK, args), timeoutMs);
  const cpu = cpuUsageBetween(before, takeCpuSnapshot(watched));
  const rssBytes = readRssBytes(watched);
  const report = parseWrkReport(stdout);
  return {
    ...report,
    cpuMicrosPerRequest:
      cpu.processSeconds === undefined || report.requests === 0
        ? undefined
        : (cpu.processSeconds * 1e6) / report.requests,
    rssMbAtEnd: rssBytes === undefined ? undefined : toMb(rssBytes),
    cpu,
  };
}
