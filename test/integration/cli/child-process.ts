/**
 * Runs the repository's scripts (the CLI, the demo) as real child processes with the Node
 * the project pins, collects their output and makes sure none outlives its test.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { sleep } from "../../support/ports.ts";

export const REPO_ROOT = fileURLToPath(new URL("../../../", import.meta.url));
export const CLI_MAIN = join(REPO_ROOT, "src/cli/main.ts");
export const DEMO_MAIN = join(REPO_ROOT, "src/demo/main.ts");

const PINNED_NODE = join(REPO_ROOT, "node_modules/.bin/node");
/** The pinned Node strips types; the one running the tests may be another. */
export const NODE = existsSync(PINNED_NODE) ? PINNED_NODE : process.execPath;

/** Longest any child may run before it is killed and its test fails. */
const DEFAULT_TIMEOUT_MS = 15_000;

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface SpawnOptions {
  cwd?: string;
  /** Added to the test's environment, from which SWITCHYARD_* and DEMO_* are removed. */
  env?: Record<string, string>;
  timeoutMs?: number;
}

export interface RunningChild {
  readonly child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves when the process has exited (killed on timeout). */
  readonly exited: Promise<Exit>;
  /** Resolves with the first stdout line `predicate` accepts, or rejects after `timeoutMs`. */
  waitForLine(predicate: (line: string) => boolean, timeoutMs?: number): Promise<string>;
  signal(signal: NodeJS.Signals): void;
}

const running = new Set<ChildProcess>();

/** Kills every child still running; call it in `afterEach`. */
export async function killAllChildren(): Promise<void> {
  const children = [...running];
  await Promise.all(
    children.map(
      (child) =>
        new Promise<void>((resolve) => {
          child.once("exit", () => {
            resolve();
          });
          child.kill("SIGKILL");
        }),
    ),
  );
}

/** A clean environment: nothing inherited may choose a config file or a demo address. */
export function childEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (!name.startsWith("SWITCHYARD_") && !name.startsWith("DEMO_")) env[name] = value;
  }
  return { ...env, ...extra };
}

/** Starts `node SCRIPT ARGS...`. */
export function spawnNode(
  script: string,
  args: readonly string[],
  options: SpawnOptions = {},
): RunningChild {
  const child = spawn(NODE, [script, ...args], {
    cwd: options.cwd ?? REPO_ROOT,
    env: childEnv(options.env),
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
  const timer = setTimeout(() => {
    child.kill("SIGKILL");
  }, options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
  const state = { isClosed: false };
  const exited = new Promise<Exit>((resolve, reject) => {
    child.once("error", reject);
    // "close", not "exit": the output pipes are drained by then.
    child.once("close", (code, signal) => {
      state.isClosed = true;
      clearTimeout(timer);
      running.delete(child);
      resolve({ code, signal, stdout, stderr });
    });
  });
  return {
    child,
    stdout: () => stdout,
    stderr: () => stderr,
    exited,
    waitForLine: async (predicate, timeoutMs = 10_000) => {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const line = stdout.split("\n").find(predicate);
        if (line !== undefined) return line;
        // Output arrives before "close", so a closed process has nothing more to say.
        if (state.isClosed || Date.now() >= deadline) {
          const why = state.isClosed ? "the process exited" : `${timeoutMs} ms passed`;
          throw new Error(
            `no matching stdout line (${why}); stdout: ${JSON.stringify(stdout)}, stderr: ${JSON.stringify(stderr)}`,
          );
        }
        await sleep(20);
      }
    },
    signal: (signal) => {
      child.kill(signal);
    },
  };
}

/** Runs `node SCRIPT ARGS...` to completion. */
export function runNode(
  script: string,
  args: readonly string[],
  options: SpawnOptions = {},
): Promise<Exit> {
  return spawnNode(script, args, options).exited;
}

/** Runs the `switchyard` command from the sources to completion. */
export function runCli(args: readonly string[], options: SpawnOptions = {}): Promise<Exit> {
  return runNode(CLI_MAIN, args, options);
}

/** Non-empty lines of a stream's output. */
export function linesOf(text: string): string[] {
  return text.split("\n").filter((line) => line !== "");
}
