/**
 * What the numbers were measured on: CPU, cores, memory, versions, and how busy the machine
 * was (load average at start and end, and each core's busy share just before the run: other
 * work on the machine shows up there and makes every ratio noisier).
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { cpus, loadavg, release, totalmem, type } from "node:os";
import { haproxyVersion } from "./baselines/haproxy.ts";
import { nginxVersion } from "./baselines/nginx.ts";
import { cpuUsageBetween, takeCpuSnapshot } from "./cpu-usage.ts";
import { sleep } from "./loopback.ts";
import { redisServerVersion } from "./redis-server.ts";
import { wrkVersion } from "./wrk-run.ts";

const IDLE_CHECK_MS = 2000;

export interface MachineDescription {
  cpuModel: string;
  logicalCores: number;
  memoryGb: number;
  os: string;
  node: string;
  autocannon: string;
  nginx: string | null;
  haproxy: string | null;
  /** redis-server, for the switchyard-fleet target. */
  redis: string | null;
  /** wrk, for the high-concurrency round. */
  wrk: string | null;
  /** Where each process ran (see bench/README.md, "Process layout"). */
  cpuLayout: string;
  startedAt: string;
  /** 1, 5 and 15 minute load averages. */
  loadAverageAtStart: number[];
  loadAverageAtEnd: number[] | null;
  /** Each core's busy share over 2 s before anything was started, 0..100. */
  coreBusyBeforeStartPercent: Record<string, number>;
}

export async function describeMachine(cpuLayout: string): Promise<MachineDescription> {
  const before = takeCpuSnapshot(undefined);
  await sleep(IDLE_CHECK_MS);
  const idle = cpuUsageBetween(before, takeCpuSnapshot(undefined));
  return {
    cpuModel: cpuModel(),
    logicalCores: cpus().length,
    memoryGb: Math.round((totalmem() / 1024 ** 3) * 10) / 10,
    os: `${type()} ${release()}`,
    node: process.version,
    autocannon: packageVersion("autocannon"),
    nginx: nginxVersion() ?? null,
    haproxy: haproxyVersion() ?? null,
    redis: redisServerVersion() ?? null,
    wrk: wrkVersion() ?? null,
    cpuLayout,
    startedAt: new Date().toISOString(),
    loadAverageAtStart: roundedLoad(),
    loadAverageAtEnd: null,
    coreBusyBeforeStartPercent: idle.coreBusyPercent,
  };
}

export function roundedLoad(): number[] {
  return loadavg().map((value) => Math.round(value * 100) / 100);
}

function cpuModel(): string {
  try {
    const info = readFileSync("/proc/cpuinfo", "utf8");
    const model = /^model name\s*:\s*(.+)$/m.exec(info)?.[1];
    if (model !== undefined) return model.trim();
  } catch {
    // Not Linux: fall through to what Node reports.
  }
  return cpus()[0]?.model ?? "unknown";
}

function packageVersion(name: string): string {
  try {
    const file = createRequire(import.meta.url).resolve(`${name}/package.json`);
    const { version } = JSON.parse(readFileSync(file, "utf8")) as { version?: unknown };
    return typeof version === "string" ? version : "unknown";
  } catch {
    return "unknown";
  }
}
