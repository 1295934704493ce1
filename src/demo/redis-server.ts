/**
 * The Redis of `npm run demo -- --fleet`: Debian's `redis-server`, started by the demo on
 * 127.0.0.1 and a free port, keeping nothing on disk, and stopped when the demo ends.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer, type AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { answersPing } from "./redis-ping.ts";

/** Ends with the command, nothing after it, so that it copies cleanly. */
export const REDIS_NOT_INSTALLED =
  "--fleet starts its own Redis, and redis-server is not installed: run apt-get install -y redis-server";

const HOST = "127.0.0.1";
const READY_TIMEOUT_MS = 10_000;
const STOP_GRACE_MS = 5000;
const PING_RETRY_MS = 50;
/** A free port may be taken by someone else before redis-server binds it: try another. */
const START_ATTEMPTS = 3;

export interface DemoRedis {
  /** `redis://127.0.0.1:PORT/0` */
  readonly url: string;
  /** Stops the server (SIGTERM, SIGKILL after a grace period) and removes its directory. */
  stop(): Promise<void>;
}

export function isRedisServerInstalled(): boolean {
  return spawnSync("redis-server", ["--version"], { stdio: "ignore" }).error === undefined;
}

/** Starts redis-server and resolves once it answers PING. */
export async function startDemoRedis(): Promise<DemoRedis> {
  const dir = await mkdtemp(join(tmpdir(), "switchyard-demo-redis-"));
  let lastError: unknown;
  for (let attempt = 0; attempt < START_ATTEMPTS; attempt++) {
    const port = await freePort();
    try {
      const child = await launch(port, dir);
      return {
        url: `redis://${HOST}:${String(port)}/0`,
        stop: async () => {
          await stopProcess(child);
          await rm(dir, { recursive: true, force: true });
        },
      };
    } catch (error) {
      lastError = error;
    }
  }
  await rm(dir, { recursive: true, force: true });
  throw lastError instanceof Error ? lastError : new Error(String(lastError));
}

async function launch(port: number, dir: string): Promise<ChildProcess> {
  const args = ["--bind", HOST, "--port", String(port), "--save", "", "--appendonly", "no"];
  args.push("--dir", dir, "--daemonize", "no", "--logfile", "");
  const child = spawn("redis-server", args, { stdio: ["ignore", "pipe", "pipe"] });
  // Set from callbacks: an object, so the loop below reads what they wrote.
  const state = { output: "", hasEnded: false };
  const collect = (chunk: Buffer): void => {
    state.output += chunk.toString("utf8");
  };
  child.stdout.on("data", collect);
  child.stderr.on("data", collect);
  child.once("error", (error) => {
    state.hasEnded = true;
    state.output += error.message;
  });
  child.once("exit", () => {
    state.hasEnded = true;
  });
  // However the demo ends, its Redis does not outlive it.
  const killOnExit = (): void => {
    child.kill("SIGKILL");
  };
  process.once("exit", killOnExit);
  child.once("exit", () => process.off("exit", killOnExit));
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (!(await answersPing(HOST, port))) {
    if (state.hasEnded || Date.now() >= deadline) {
      child.kill("SIGKILL");
      throw new Error(`redis-server did not start on port ${String(port)}: ${state.output.trim()}`);
    }
    await sleep(PING_RETRY_MS);
  }
  return child;
}

function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const killer = setTimeout(() => child.kill("SIGKILL"), STOP_GRACE_MS);
    child.once("exit", () => {
      clearTimeout(killer);
      resolve();
    });
    child.kill("SIGTERM");
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, HOST, () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => {
        resolve(port);
      });
    });
  });
}
