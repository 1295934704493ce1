/**
 * The repository's scripts (the CLI, `serve`, the demo, the benches) as real child processes,
 * run with the Node the project pins (or any command, such as the container's entrypoint
 * script): their output collected, a limit on how long each may live, and a registry so that
 * none outlives its test (`killAllNodeChildren` in `afterEach`). The environment is the test's
 * own minus anything that could choose a config file or an address (SWITCHYARD_*, DEMO_*).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { sleep } from "./ports.ts";

export const REPO_ROOT = fileURLToPath(new URL("../../", import.meta.url));
export const CLI_MAIN = join(REPO_ROOT, "src/cli/main.ts");
export const DEMO_MAIN = join(REPO_ROOT, "src/demo/main.ts");

const PINNED_NODE = join(REPO_ROOT, "node_modules/.bin/node");
/** The pinned Node strips types; the one running the tests may be another. */
export const NODE = existsSync(PINNED_NODE) ? PINNED_NODE : process.execPath;

/** Longest a child may live, by default, before it is killed (and its test fails). */
const DEFAULT_LIFETIME_MS = 15_000;
const OUTPUT_POLL_MS = 10;

export interface ChildExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface SpawnNodeOptions {
  cwd?: string;
  /** Added to the cleaned environment. */
  env?: Record<string, string>;
  /** Killed after this long (default 15 s). */
  timeoutMs?: number;
  /** The signal sent once `timeoutMs` has passed (default SIGKILL). */
  timeoutSignal?: NodeJS.Signals;
}

export interface NodeChild {
  readonly child: ChildProcess;
  readonly pid: number;
  stdout: () => string;
  stderr: () => string;
  /** Resolves once the process has exited and its output pipes are drained. */
  readonly exited: Promise<ChildExit>;
  /**
   * Polls `find` over the output so far until it returns a value; rejects, with the output,
   * once the process has exited or `timeoutMs` has passed.
   */
  waitForOutput: <T>(find: () => T | undefined, what: string, timeoutMs?: number) => Promise<T>;
  /** The first stdout line `predicate` accepts (see waitForOutput). */
  waitForLine: (predicate: (line: string) => boolean, timeoutMs?: number) => Promise<string>;
  signal: (signal: NodeJS.Signals) => void;
  /** SIGTERM, then SIGKILL if it has not exited within `graceMs` (default 5000). */
  stop: (graceMs?: number) => Promise<ChildExit>;
}

const running = new Set<ChildProcess>();

/** SIGKILLs every child still running; call it in `afterEach`. */
export async function killAllNodeChildren(): Promise<void> {
  await Promise.all([...running].map((child) => killNow(child)));
}

/** The test's environment without SWITCHYARD_* and DEMO_*, plus `extra`. */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (!name.startsWith("SWITCHYARD_") && !name.startsWith("DEMO_")) env[name] = value;
  }
  return { ...env, ...extra };
}

/** Starts `node SCRIPT ARGS...` and returns at once. */
export function spawnNode(
  script: string,
  args: readonly string[],
  options: SpawnNodeOptions = {},
): NodeChild {
  return spawnCommand(NODE, [script, ...args], options);
}

/** Starts `COMMAND ARGS...` (a script that runs Node, say) and returns at once. */
export function spawnCommand(
  command: string,
  args: readonly string[],
  options: SpawnNodeOptions = {},
): NodeChild {
  const child = spawn(command, args, {
    cwd: options.cwd ?? REPO_ROOT,
    env: cleanEnv(options.env),
    stdio: ["ignore", "pipe", "pipe"],
  });
  running.add(child);
  const output = { stdout: "", stderr: "", isClosed: false };
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
    output.stdout += chunk;
  });
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
    output.stderr += chunk;
  });
  const killer = setTimeout(() => {
    child.kill(options.timeoutSignal ?? "SIGKILL");
  }, options.timeoutMs ?? DEFAULT_LIFETIME_MS);
  const exited = new Promise<ChildExit>((resolve, reject) => {
    child.once("error", reject);
    // "close", not "exit": the output pipes are drained by then.
    child.once("close", (code, signal) => {
      output.isClosed = true;
      clearTimeout(killer);
      running.delete(child);
      resolve({ code, signal, stdout: output.stdout, stderr: output.stderr });
    });
  });
  const waitForOutput = async <T>(
    find: () => T | undefined,
    what: string,
    timeoutMs = 10_000,
  ): Promise<T> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = find();
      if (found !== undefined) return found;
      // Output arrives before "close", so a closed process has nothing more to say.
      if (output.isClosed || Date.now() >= deadline) {
        const why = output.isClosed ? "the process exited" : `${String(timeoutMs)} ms passed`;
        throw new Error(
          `no ${what} (${why}); stdout: ${JSON.stringify(output.stdout)}, stderr: ${JSON.stringify(output.stderr)}`,
        );
      }
      await sleep(OUTPUT_POLL_MS);
    }
  };
  return {
    child,
    pid: child.pid ?? 0,
    stdout: () => output.stdout,
    stderr: () => output.stderr,
    exited,
    waitForOutput,
    waitForLine: (predicate, timeoutMs) =>
      waitForOutput(
        () => output.stdout.split("\n").find(predicate),
        "matching stdout line",
        timeoutMs,
      ),
    signal(signal) {
      child.kill(signal);
    },
    async stop(graceMs = 5000) {
      if (!output.isClosed) {
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

/** Runs `node SCRIPT ARGS...` to completion. */
export function runNode(
  script: string,
  args: readonly string[],
  options: SpawnNodeOptions = {},
): Promise<ChildExit> {
  return spawnNode(script, args, options).exited;
}

/** Non-empty lines of a stream's output. */
export function linesOf(text: string): string[] {
  return text.split("\n").filter((line) => line !== "");
}

function killNow(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise<void>((resolve) => {
    child.once("exit", () => {
      resolve();
    });
    child.kill("SIGKILL");
  });
}
