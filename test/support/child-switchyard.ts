/**
 * Runs `switchyard serve` in a child process, as a user would, so that its memory can be
 * measured apart from the test's own (clients and backends live in the test process).
 */
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CLI_MAIN, spawnNode } from "./node-process.ts";
import { originOf } from "./ports.ts";
import { portOf, waitForListening } from "./switchyard-process.ts";

/** Longest the child may live: the streaming tests run for a while. */
const LIFETIME_LIMIT_MS = 120_000;

export interface ChildSwitchyard {
  readonly pid: number;
  readonly port: number;
  readonly url: string;
  /** Everything the child wrote to stderr so far (shown when a test fails). */
  readonly stderr: () => string;
  /** SIGTERM, then SIGKILL if it has not exited within `graceMs` (default 3000). */
  stop(graceMs?: number): Promise<void>;
}

/**
 * Writes `raw` (the config as a user would write it, durations as strings, weights as
 * percentages) to a temporary file and starts `switchyard serve --config` on it, with the proxy
 * on 127.0.0.1 and a free port. Resolves once the child logs "proxy listening".
 */
export async function startChildSwitchyard(
  raw: Record<string, unknown>,
  options: { startTimeoutMs?: number } = {},
): Promise<ChildSwitchyard> {
  const directory = await mkdtemp(join(tmpdir(), "switchyard-test-"));
  const configFile = join(directory, "switchyard.yaml");
  const config = {
    ...raw,
    listen: { proxy: "127.0.0.1:0", admin: "127.0.0.1:0", ...(raw.listen as object | undefined) },
  };
  // JSON is valid YAML: no serializer needed.
  await writeFile(configFile, JSON.stringify(config, null, 2));
  const serve = spawnNode(CLI_MAIN, ["serve", "--config", configFile], {
    env: { SWITCHYARD_LOG_LEVEL: "info" },
    timeoutMs: LIFETIME_LIMIT_MS,
  });
  const cleanup = (): Promise<void> => rm(directory, { recursive: true, force: true });
  let port: number;
  try {
    const listening = await waitForListening(serve, options.startTimeoutMs);
    port = portOf(listening.address);
  } catch (error) {
    serve.child.kill("SIGKILL");
    await serve.exited;
    await cleanup();
    throw error;
  }
  return {
    pid: serve.pid,
    port,
    url: originOf(port),
    stderr: () => serve.stderr(),
    async stop(graceMs = 3000) {
      await serve.stop(graceMs);
      await cleanup();
    },
  };
}

/** The resident set size of process `pid` in bytes (Linux: VmRSS in /proc/PID/status). */
export async function readRssBytes(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, "utf8");
  const match = /^VmRSS:\s+(\d+)\s+kB$/m.exec(status);
  if (match === null) throw new Error(`no VmRSS in /proc/${pid}/status`);
  return Number(match[1]) * 1024;
}

export interface RssSampler {
  /** Stops sampling and resolves with the highest RSS seen, in bytes. */
  stop(): Promise<number>;
}

/** Samples the RSS of `pid` every `intervalMs` (default 50) and keeps the peak. */
export function sampleRssPeak(pid: number, intervalMs = 50): RssSampler {
  let peakBytes = 0;
  const state = { isStopped: false };
  const sampleOnce = async (): Promise<void> => {
    try {
      peakBytes = Math.max(peakBytes, await readRssBytes(pid));
    } catch {
      // The process may have exited; the peak so far stands.
    }
  };
  const loop = (async () => {
    while (!state.isStopped) {
      await sampleOnce();
      await new Promise((resolve) => setTimeout(resolve, intervalMs));
    }
    await sampleOnce();
  })();
  return {
    async stop() {
      state.isStopped = true;
      await loop;
      return peakBytes;
    },
  };
}
