/**
 * The Redis the `switchyard-fleet` target shares its state through: Debian's `redis-server`,
 * started by the bench on 127.0.0.1 and a free port, nothing kept on disk (`--save ''
 * --appendonly no`, its dir the run's temp dir), pinned with the backend on the load core and
 * stopped at the end like every bench process. Optional: without the binary the fleet target
 * is skipped.
 */
import { spawnSync } from "node:child_process";
import { answersPing } from "../src/demo/redis-ping.ts";
import { findBinary } from "./baselines/find-binary.ts";
import type { ChildProcesses, StartedProcess } from "./child-processes.ts";
import type { CpuLayout } from "./cpu-layout.ts";
import { freePort, LOOPBACK, sleep } from "./loopback.ts";

const REDIS_SERVER = findBinary("redis-server");
const READY_TIMEOUT_MS = 10_000;

/** redis-server's version, or undefined when it is not installed. */
export function redisServerVersion(): string | undefined {
  if (REDIS_SERVER === undefined) return undefined;
  const found = spawnSync(REDIS_SERVER, ["--version"], { encoding: "utf8" });
  if (found.error !== undefined || found.status !== 0) return undefined;
  const line = found.stdout.trim();
  return /\bv=(\S+)/.exec(line)?.[1] ?? line;
}

export interface RunningRedis {
  /** `redis://127.0.0.1:PORT/0`. */
  url: string;
  port: number;
  started: StartedProcess;
}

/** Starts redis-server and resolves once it answers PING. */
export async function startRedisServer(
  children: ChildProcesses,
  layout: CpuLayout,
  dir: string,
): Promise<RunningRedis> {
  if (REDIS_SERVER === undefined) throw new Error("redis-server is not installed");
  const port = await freePort();
  const args = ["--bind", LOOPBACK, "--port", String(port), "--save", "", "--appendonly", "no"];
  args.push("--dir", dir, "--daemonize", "no", "--logfile", "");
  const started = children.start("redis-server", layout.wrap("load", REDIS_SERVER, args));
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (!(await answersPing(LOOPBACK, port))) {
    const { child } = started;
    if (child.exitCode !== null || child.signalCode !== null || Date.now() >= deadline) {
      await started.stop();
      throw new Error(`redis-server did not start on port ${port}: ${started.output()}`.trim());
    }
    await sleep(50);
  }
  return { url: `redis://${LOOPBACK}:${port}/0`, port, started };
}
