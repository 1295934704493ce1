/**
 * Runs `switchyard serve` in a child process, as a user would, so that its memory can be
 * measured apart from the test's own (clients and backends live in the test process).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { originOf } from "./ports.ts";

const NODE_BINARY = fileURLToPath(new URL("../../node_modules/.bin/node", import.meta.url));
const CLI_MAIN = fileURLToPath(new URL("../../src/cli/main.ts", import.meta.url));

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
  const child = spawn(NODE_BINARY, [CLI_MAIN, "serve", "--config", configFile], {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, SWITCHYARD_LOG_LEVEL: "info" },
  });
  let stderr = "";
  child.stderr.setEncoding("utf8");
  child.stderr.on("data", (text: string) => {
    stderr += text;
  });
  const cleanup = async (): Promise<void> => {
    await rm(directory, { recursive: true, force: true });
  };
  let port: number;
  try {
    port = await waitForListening(child, options.startTimeoutMs ?? 10_000, () => stderr);
  } catch (error) {
    child.kill("SIGKILL");
    await cleanup();
    throw error;
  }
  const pid = child.pid ?? 0;
  return {
    pid,
    port,
    url: originOf(port),
    stderr: () => stderr,
    async stop(graceMs = 3000) {
      await stopChild(child, graceMs);
      await cleanup();
    },
  };
}

/** Reads the child's stdout (JSON log lines) until "proxy listening" and returns the port. */
function waitForListening(
  child: ChildProcess,
  timeoutMs: number,
  stderr: () => string,
): Promise<number> {
  return new Promise((resolve, reject) => {
    let pending = "";
    const fail = (reason: string): void => {
      clearTimeout(timer);
      reject(new Error(`switchyard serve ${reason}; stderr: ${stderr()}`));
    };
    const timer = setTimeout(() => {
      fail(`did not log "proxy listening" within ${timeoutMs} ms`);
    }, timeoutMs);
    child.once("exit", (code) => {
      fail(`exited with code ${String(code)} before listening`);
    });
    child.stdout?.setEncoding("utf8");
    child.stdout?.on("data", (text: string) => {
      pending += text;
      const lines = pending.split("\n");
      pending = lines.pop() ?? "";
      for (const line of lines) {
        const port = listeningPortOf(line);
        if (port !== undefined) {
          clearTimeout(timer);
          resolve(port);
        }
      }
    });
  });
}

function listeningPortOf(line: string): number | undefined {
  if (!line.includes("proxy listening")) return undefined;
  try {
    const entry = JSON.parse(line) as { address?: unknown };
    const match = typeof entry.address === "string" ? /:(\d+)$/.exec(entry.address) : null;
    return match === null ? undefined : Number(match[1]);
  } catch {
    return undefined;
  }
}

function stopChild(child: ChildProcess, graceMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
    }, graceMs);
    child.once("exit", () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill("SIGTERM");
  });
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
