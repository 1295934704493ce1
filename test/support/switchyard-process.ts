/**
 * `switchyard serve --config FILE` as a real child process, for what only a process shows:
 * signals (SIGHUP reload, SIGTERM drain), restarts over the same config directory and state
 * file, exit codes and the JSON log lines on stdout. The test owns the config file, so a
 * restart is just another start on the same path.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { originOf, sleep } from "./ports.ts";

const REPO_ROOT = fileURLToPath(new URL("../../", import.meta.url));
const CLI_MAIN = fileURLToPath(new URL("../../src/cli/main.ts", import.meta.url));
const PINNED_NODE = fileURLToPath(new URL("../../node_modules/.bin/node", import.meta.url));
/** The pinned Node strips types; the one running the tests may be another. */
const NODE = existsSync(PINNED_NODE) ? PINNED_NODE : process.execPath;

/** Longest any serve process may live before it is killed (its test then fails). */
const LIFETIME_LIMIT_MS = 30_000;

/** One JSON log line of the process. */
export interface LogLine {
  level: string;
  time: string;
  msg: string;
  [field: string]: unknown;
}

export interface ProcessExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface SwitchyardProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  stdout(): string;
  stderr(): string;
  /** The stdout lines that are JSON log lines, parsed. */
  logs(): LogLine[];
  /** Resolves with the first log line `predicate` accepts; rejects after `timeoutMs`. */
  waitForLog(predicate: (line: LogLine) => boolean, timeoutMs?: number): Promise<LogLine>;
  /** Resolves once the process has exited and its output pipes are drained. */
  readonly exited: Promise<ProcessExit>;
  signal(signal: NodeJS.Signals): void;
  /** SIGTERM, then SIGKILL if it has not exited within `graceMs` (default 5000). */
  stop(graceMs?: number): Promise<ProcessExit>;
}

export interface ServingSwitchyard extends SwitchyardProcess {
  readonly proxyUrl: string;
  readonly adminUrl: string;
}

export interface SpawnSwitchyardOptions {
  /** Added to the environment, from which every inherited SWITCHYARD_* is removed. */
  env?: Record<string, string>;
}

const running = new Set<ChildProcess>();

/** SIGKILLs every serve process still running; call it in `afterEach`. */
export async function killAllSwitchyardProcesses(): Promise<void> {
  await Promise.all(
    [...running].map(
      (child) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) {
            resolve();
            return;
          }
          child.once("exit", () => {
            resolve();
          });
          child.kill("SIGKILL");
        }),
    ),
  );
}

/** Starts `switchyard serve --config FILE` and returns at once. */
export function spawnSwitchyard(
  configFile: string,
  options: SpawnSwitchyardOptions = {},
): SwitchyardProcess {
  const env: NodeJS.ProcessEnv = { SWITCHYARD_LOG_LEVEL: "info" };
  for (const [name, value] of Object.entries(process.env)) {
    if (!name.startsWith("SWITCHYARD_")) env[name] = value;
  }
  const child = spawn(NODE, [CLI_MAIN, "serve", "--config", configFile], {
    cwd: REPO_ROOT,
    env: { ...env, ...options.env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  running.add(child);
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
    stdout += chunk;
  });
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
    stderr += chunk;
  });
  const killer = setTimeout(() => {
    child.kill("SIGKILL");
  }, LIFETIME_LIMIT_MS);
  const state = { isClosed: false };
  const exited = new Promise<ProcessExit>((resolve, reject) => {
    child.once("error", reject);
    child.once("close", (code, signal) => {
      state.isClosed = true;
      clearTimeout(killer);
      running.delete(child);
      resolve({ code, signal, stdout, stderr });
    });
  });
  const logs = (): LogLine[] => stdout.split("\n").flatMap(parseLogLine);
  return {
    child,
    pid: child.pid ?? 0,
    stdout: () => stdout,
    stderr: () => stderr,
    logs,
    exited,
    async waitForLog(predicate, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const found = logs().find(predicate);
        if (found !== undefined) return found;
        if (state.isClosed || Date.now() >= deadline) {
          const why = state.isClosed ? "the process exited" : `${String(timeoutMs)} ms passed`;
          throw new Error(`no matching log line (${why}); stdout: ${stdout}; stderr: ${stderr}`);
        }
        await sleep(10);
      }
    },
    signal(signal) {
      child.kill(signal);
    },
    async stop(graceMs = 5000) {
      if (!state.isClosed) {
        child.kill("SIGTERM");
        const timer = setTimeout(() => {
          child.kill("SIGKILL");
        }, graceMs);
        await exited.finally(() => {
          clearTimeout(timer);
        });
      }
      return exited;
    },
  };
}

/**
 * Starts `switchyard serve --config FILE` and resolves once it has logged "switchyard
 * started" (its signal handlers are in place by then), with the proxy's and admin's origins.
 */
export async function startSwitchyardProcess(
  configFile: string,
  options: SpawnSwitchyardOptions & { startTimeoutMs?: number } = {},
): Promise<ServingSwitchyard> {
  const serving = spawnSwitchyard(configFile, options);
  const timeoutMs = options.startTimeoutMs ?? 10_000;
  try {
    const listening = await serving.waitForLog((l) => l.msg === "proxy listening", timeoutMs);
    await serving.waitForLog((l) => l.msg === "switchyard started", timeoutMs);
    return Object.assign(serving, {
      proxyUrl: originOf(portOf(listening.address)),
      adminUrl: originOf(portOf(listening.admin)),
    });
  } catch (error) {
    serving.child.kill("SIGKILL");
    await serving.exited;
    throw error;
  }
}

function portOf(address: unknown): number {
  const match = typeof address === "string" ? /:(\d+)$/.exec(address) : null;
  if (match === null) throw new Error(`no port in ${JSON.stringify(address)}`);
  return Number(match[1]);
}

function parseLogLine(line: string): LogLine[] {
  if (!line.startsWith("{")) return [];
  try {
    const parsed = JSON.parse(line) as Partial<LogLine>;
    return typeof parsed.msg === "string" ? [parsed as LogLine] : [];
  } catch {
    // A line still being written.
    return [];
  }
}
