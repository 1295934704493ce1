/**
 * An echo backend (echo-backend.ts) in a child process of its own, for faults only a process
 * shows: SIGKILL (every connection dies at once, the port refuses), SIGSTOP (connections stay
 * open and silent, the kernel still accepts) and SIGCONT. The child reports, line by line,
 * each request's tag (the `x-request-tag` header) and its open connections, so the test knows
 * what reached the backend even after it was killed.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import type { EchoBackendOptions } from "./echo-backend.ts";
import { originOf, waitFor } from "./ports.ts";

/** The request header whose value the backend reports for each request it receives. */
export const REQUEST_TAG_HEADER = "x-request-tag";

const MAIN = fileURLToPath(new URL("./backend-process-main.ts", import.meta.url));
const PINNED_NODE = fileURLToPath(new URL("../../node_modules/.bin/node", import.meta.url));
/** The pinned Node strips types; the one running the tests may be another. */
const NODE = existsSync(PINNED_NODE) ? PINNED_NODE : process.execPath;
const START_TIMEOUT_MS = 10_000;

/** One line the child writes on stdout. */
export type BackendLine =
  | { type: "listening"; port: number }
  | { type: "request"; method: string; tag?: string }
  | { type: "connections"; open: number }
  | { type: "stats"; requests: number; openConnections: number; bodiesReset: number };

export type BackendStats = Omit<Extract<BackendLine, { type: "stats" }>, "type">;

/** Options of the echo backend in the child (plain data: they cross a process boundary). */
export type BackendProcessOptions = Pick<
  EchoBackendOptions,
  "name" | "delayMs" | "port" | "resetBodyEvery" | "keepAliveTimeoutMs"
>;

export interface BackendProcess {
  readonly name: string;
  readonly pid: number;
  readonly port: number;
  readonly url: string;
  /** Requests received so far (health checks excluded). */
  readonly requestCount: number;
  /** The tag of each tagged request received, in arrival order. */
  readonly receivedTags: readonly string[];
  /** Connections it holds now, as last reported; 0 once the process is gone. */
  readonly openConnections: number;
  readonly isRunning: boolean;
  /** Asks the running child for its counters (rejects once it has exited). */
  stats(): Promise<BackendStats>;
  /** SIGKILL; resolves once the process is gone. */
  kill(): Promise<void>;
  /** SIGSTOP: the process stops reading, answering and accepting. */
  freeze(): void;
  /** SIGCONT. */
  thaw(): void;
  /** Same as kill: the test is done with it. */
  close(): Promise<void>;
}

export async function startBackendProcess(
  options: BackendProcessOptions = {},
): Promise<BackendProcess> {
  const child = spawn(NODE, [MAIN, JSON.stringify(options)], {
    stdio: ["pipe", "pipe", "pipe"],
  });
  const backend = new ChildBackend(options.name ?? "echo", child);
  try {
    await waitFor(() => backend.port > 0 || backend.hasExited, {
      timeoutMs: START_TIMEOUT_MS,
      description: `backend ${backend.name} listening`,
    });
    if (backend.hasExited) throw new Error(`backend exited at start: ${backend.stderr}`);
  } catch (error) {
    await backend.kill();
    throw error;
  }
  return backend;
}

interface StatsWaiter {
  resolve(stats: BackendStats): void;
  reject(error: Error): void;
}

class ChildBackend implements BackendProcess {
  readonly name: string;
  readonly pid: number;
  port = 0;
  requestCount = 0;
  readonly receivedTags: string[] = [];
  stderr = "";
  hasExited = false;
  #openConnections = 0;
  readonly #child: ChildProcess;
  readonly #exited: Promise<void>;
  readonly #statsWaiters: StatsWaiter[] = [];

  constructor(name: string, child: ChildProcess) {
    this.name = name;
    this.pid = child.pid ?? 0;
    this.#child = child;
    this.#exited = new Promise((resolve) => {
      child.once("close", () => {
        this.hasExited = true;
        for (const waiter of this.#statsWaiters.splice(0)) {
          waiter.reject(new Error(`backend ${name} exited before answering "stats"`));
        }
        resolve();
      });
    });
    child.stderr?.setEncoding("utf8").on("data", (text: string) => {
      this.stderr += text;
    });
    // The child may die with unread commands in its stdin pipe.
    child.stdin?.on("error", () => undefined);
    if (child.stdout !== null) {
      createInterface({ input: child.stdout }).on("line", (line) => {
        this.#onLine(JSON.parse(line) as BackendLine);
      });
    }
  }

  get url(): string {
    return originOf(this.port);
  }

  get openConnections(): number {
    return this.hasExited ? 0 : this.#openConnections;
  }

  get isRunning(): boolean {
    return !this.hasExited;
  }

  stats(): Promise<BackendStats> {
    return new Promise((resolve, reject) => {
      if (this.hasExited) {
        reject(new Error(`backend ${this.name} has exited`));
        return;
      }
      this.#statsWaiters.push({ resolve, reject });
      this.#child.stdin?.write("stats\n");
    });
  }

  async kill(): Promise<void> {
    if (!this.hasExited) this.#child.kill("SIGKILL");
    await this.#exited;
  }

  freeze(): void {
    this.#child.kill("SIGSTOP");
  }

  thaw(): void {
    this.#child.kill("SIGCONT");
  }

  close(): Promise<void> {
    return this.kill();
  }

  #onLine(line: BackendLine): void {
    switch (line.type) {
      case "listening":
        this.port = line.port;
        return;
      case "request":
        this.requestCount++;
        if (line.tag !== undefined) this.receivedTags.push(line.tag);
        return;
      case "connections":
        this.#openConnections = line.open;
        return;
      case "stats": {
        const { type: _type, ...stats } = line;
        this.#statsWaiters.shift()?.resolve(stats);
        return;
      }
    }
  }
}
