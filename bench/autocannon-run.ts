/**
 * One closed-loop load run: autocannon as its own process (so its event loop competes with
 * neither the bench runner nor the proxy), pinned to the load core, `--json` parsed back.
 */
import { createRequire } from "node:module";
import { runToEnd } from "./child-processes.ts";
import { cpuUsageBetween, takeCpuSnapshot, type CpuUsage } from "./cpu-usage.ts";
import type { CpuLayout } from "./cpu-layout.ts";
import type { MeasuredProcesses } from "./process-tree.ts";

const AUTOCANNON_CLI = createRequire(import.meta.url).resolve("autocannon/autocannon.js");

export interface LoadSettings {
  url: string;
  connections: number;
  durationSeconds: number;
}

export interface LoadResult {
  requestsPerSecond: number;
  /** autocannon keeps latencies in whole milliseconds. */
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Completed requests. */
  requests: number;
  /** Connection errors, timeouts and non-2xx answers together. */
  errors: number;
  /** CPU time of the watched processes per completed request, in microseconds. */
  cpuMicrosPerRequest: number | undefined;
  cpu: CpuUsage;
}

/** The fields of autocannon's `--json` output we read. */
interface AutocannonJson {
  duration: number;
  /** Includes timeouts. */
  errors: number;
  non2xx: number;
  latency: { p50: number; p99: number; max: number };
  requests: { total: number };
}

/** Runs autocannon against `settings.url`; `watched`: the processes whose CPU time is read. */
export async function runAutocannon(
  settings: LoadSettings,
  layout: CpuLayout,
  watched: MeasuredProcesses,
): Promise<LoadResult> {
  const args = [
    AUTOCANNON_CLI,
    "--json",
    "--no-progress",
    "--connections",
    String(settings.connections),
    "--duration",
    String(settings.durationSeconds),
    "--pipelining",
    "1",
    settings.url,
  ];
  const before = takeCpuSnapshot(watched);
  const timeoutMs = (settings.durationSeconds + 30) * 1000;
  const stdout = await runToEnd(
    "autocannon",
    layout.wrap("load", process.execPath, args),
    timeoutMs,
  );
  const cpu = cpuUsageBetween(before, takeCpuSnapshot(watched));
  const json = parseJson(stdout);
  return {
    requestsPerSecond: json.duration > 0 ? json.requests.total / json.duration : 0,
    p50Ms: json.latency.p50,
    p99Ms: json.latency.p99,
    maxMs: json.latency.max,
    requests: json.requests.total,
    errors: json.errors + json.non2xx,
    cpuMicrosPerRequest:
      cpu.processSeconds === undefined || json.requests.total === 0
        ? undefined
        : (cpu.processSeconds * 1e6) / json.requests.total,
    cpu,
  };
}

function parseJson(stdout: string): AutocannonJson {
  const line = stdout.trim().split("\n").pop() ?? "";
  const json = JSON.parse(line) as AutocannonJson;
  if (typeof json.requests.total !== "number" || typeof json.latency.p99 !== "number") {
    throw new Error(`unexpected autocannon output: ${line.slice(0, 200)}`);
  }
  return json;
}
