/**
 * Every process the bench starts, so each one is stopped at the end whatever happens: SIGTERM,
 * then SIGKILL after a grace period. Output is kept (the tail of it) for error messages.
 */
import { spawn, type ChildProcess, type StdioOptions } from "node:child_process";

const KEPT_OUTPUT_CHARS = 4000;
// switchyard drains for seconds on SIGTERM; the bench has nothing in flight by then.
const STOP_GRACE_MS = 1000;

export interface StartedProcess {
  readonly name: string;
  readonly pid: number;
  readonly child: ChildProcess;
  /** The last few thousand characters of stdout and stderr. */
  output(): string;
  /** Resolves once the process has exited (SIGTERM, then SIGKILL). Idempotent. */
  stop(): Promise<void>;
}

export interface StartOptions {
  env?: Record<string, string>;
  /** Adds an IPC channel (the child can `process.send`). */
  hasIpc?: boolean;
}

export class ChildProcesses {
  private readonly running = new Set<StartedProcess>();

  start(
    name: string,
    [command, args]: [string, string[]],
    options: StartOptions = {},
  ): StartedProcess {
    const stdio: StdioOptions = ["ignore", "pipe", "pipe"];
    if (options.hasIpc === true) stdio.push("ipc");
    const child = spawn(command, args, { stdio, env: { ...process.env, ...options.env } });
    let kept = "";
    const keep = (chunk: Buffer): void => {
      kept = (kept + chunk.toString()).slice(-KEPT_OUTPUT_CHARS);
    };
    child.stdout?.on("data", keep);
    child.stderr?.on("data", keep);
    const exited = new Promise<void>((resolve) => {
      child.once("exit", () => {
        resolve();
      });
      child.once("error", (error) => {
        kept += `\n${String(error)}`;
        resolve();
      });
    });
    let stopping: Promise<void> | undefined;
    const started: StartedProcess = {
      name,
      pid: child.pid ?? 0,
      child,
      output: () => kept,
      stop: () => {
        stopping ??= stopChild(child, exited).finally(() => {
          this.running.delete(started);
        });
        return stopping;
      },
    };
    this.running.add(started);
    return started;
  }

  async stopAll(): Promise<void> {
    await Promise.all([...this.running].map((started) => started.stop()));
  }
}

async function stopChild(child: ChildProcess, exited: Promise<void>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), STOP_GRACE_MS);
  await exited;
  clearTimeout(timer);
}

/** Runs a command to the end and resolves with its stdout; rejects on a non-zero exit. */
export function runToEnd(
  name: string,
  [command, args]: [string, string[]],
  timeoutMs: number,
): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-KEPT_OUTPUT_CHARS);
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.once("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once("exit", (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve(stdout);
      else reject(new Error(`${name} exited with ${signal ?? String(code)}: ${stderr.trim()}`));
    });
  });
}
