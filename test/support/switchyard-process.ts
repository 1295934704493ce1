/**
 * `switchyard serve --config FILE` as a real child process, for what only a process shows:
 * signals (SIGHUP reload, SIGTERM drain), restarts over the same config directory and state
 * file, exit codes and the JSON log lines on stdout. The test owns the config file, so a
 * restart is just another start on the same path. Built on test/support/node-process.ts.
 */
import {
  CLI_MAIN,
  killAllNodeChildren,
  spawnNode,
  type ChildExit,
  type NodeChild,
} from "./node-process.ts";
import { originOf } from "./ports.ts";

/** Longest any serve process may live before it is killed (its test then fails). */
const LIFETIME_LIMIT_MS = 30_000;

/** One JSON log line of the process. */
export interface LogLine {
  level: string;
  time: string;
  msg: string;
  [field: string]: unknown;
}

export type ProcessExit = ChildExit;

export interface SwitchyardProcess extends Omit<NodeChild, "waitForOutput" | "waitForLine"> {
  /** The stdout lines that are JSON log lines, parsed. */
  logs(): LogLine[];
  /** Resolves with the first log line `predicate` accepts; rejects after `timeoutMs`. */
  waitForLog(predicate: (line: LogLine) => boolean, timeoutMs?: number): Promise<LogLine>;
}

export interface ServingSwitchyard extends SwitchyardProcess {
  readonly proxyUrl: string;
  readonly adminUrl: string;
}

export interface SpawnSwitchyardOptions {
  /** Added to the environment, from which every inherited SWITCHYARD_* is removed. */
  env?: Record<string, string>;
  /** Longest the process may live before it is killed (default 30 s). */
  lifetimeMs?: number;
}

/** SIGKILLs every child process still running (serve processes among them); call it in `afterEach`. */
export async function killAllSwitchyardProcesses(): Promise<void> {
  await killAllNodeChildren();
}

/** Starts `switchyard serve --config FILE` and returns at once. */
export function spawnSwitchyard(
  configFile: string,
  options: SpawnSwitchyardOptions = {},
): SwitchyardProcess {
  const {
    waitForOutput,
    waitForLine: _waitForLine,
    ...serve
  } = spawnNode(CLI_MAIN, ["serve", "--config", configFile], {
    env: { SWITCHYARD_LOG_LEVEL: "info", ...options.env },
    timeoutMs: options.lifetimeMs ?? LIFETIME_LIMIT_MS,
  });
  const logs = (): LogLine[] => serve.stdout().split("\n").flatMap(parseLogLine);
  return Object.assign(serve, {
    logs,
    waitForLog: (predicate: (line: LogLine) => boolean, timeoutMs?: number) =>
      waitForOutput(() => logs().find(predicate), "matching log line", timeoutMs),
  });
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

/** The "proxy listening" log line (with `address` and `admin`) of any child running serve. */
export function waitForListening(child: NodeChild, timeoutMs = 10_000): Promise<LogLine> {
  return child.waitForOutput(
    () =>
      child
        .stdout()
        .split("\n")
        .flatMap(parseLogLine)
        .find((line) => line.msg === "proxy listening"),
    '"proxy listening" log line',
    timeoutMs,
  );
}

/** The port at the end of a logged `HOST:PORT` address. */
export function portOf(address: unknown): number {
  const match = typeof address === "string" ? /:(\d+)$/.exec(address) : null;
  if (match === null) throw new Error(`no port in ${JSON.stringify(address)}`);
  return Number(match[1]);
}

/** A stdout line as a JSON log line, or nothing when it is not one. */
export function parseLogLine(line: string): LogLine[] {
  if (!line.startsWith("{")) return [];
  try {
    const parsed = JSON.parse(line) as Partial<LogLine>;
    return typeof parsed.msg === "string" ? [parsed as LogLine] : [];
  } catch {
    // A line still being written.
    return [];
  }
}
