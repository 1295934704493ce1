/**
 * A real `redis-server` (Debian's package) for the fleet tests, on a free 127.0.0.1 port with
 * nothing kept on disk, and the faults a test needs: stop, kill, freeze (SIGSTOP), thaw and a
 * restart on the same port. No mock: the tests see Redis exactly as production does. Where
 * `redis-server` is not installed, starting one fails with the line that installs it.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { connect, createServer, type Socket } from "node:net";
import { connect as connectTls } from "node:tls";
import { readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { closeServer, listenOnFreePort, LOOPBACK_HOST, sleep } from "./ports.ts";

export const REDIS_NOT_INSTALLED =
  "redis-server is not installed: run apt-get install -y redis-server";

const READY_TIMEOUT_MS = 10_000;
const STOP_GRACE_MS = 5000;
const PING_TIMEOUT_MS = 500;
const START_ATTEMPTS = 3;

export interface RedisServerOptions {
  /** `--requirepass`: clients then need `redis://:PASSWORD@...` (or `default:PASSWORD`). */
  readonly password?: string;
  /** Serve TLS only (`rediss://`), with this certificate, signed by `caFile`. */
  readonly tls?: RedisServerTls;
}

export interface RedisServerTls {
  readonly certFile: string;
  readonly keyFile: string;
  readonly caFile: string;
}

/** The test CA and a server certificate for 127.0.0.1 (test/fixtures/tls). */
export const TEST_TLS: RedisServerTls = {
  certFile: fileURLToPath(new URL("../fixtures/tls/server.pem", import.meta.url)),
  keyFile: fileURLToPath(new URL("../fixtures/tls/server-key.pem", import.meta.url)),
  caFile: fileURLToPath(new URL("../fixtures/tls/ca.pem", import.meta.url)),
};

export interface RedisServer {
  readonly port: number;
  /** `redis://127.0.0.1:PORT/0` (`rediss://` with TLS), with the password when one is set. */
  readonly url: string;
  /** The process id of the running server (changes on restart). */
  readonly pid: number;
  /** SIGTERM (after SIGCONT when frozen); resolves once it has exited. */
  stop(): Promise<void>;
  /** SIGKILL: the connections drop at once, as when a Redis host dies. */
  kill(): Promise<void>;
  /** SIGSTOP: the server keeps its sockets open and answers nothing. */
  freeze(): void;
  /** SIGCONT after freeze(). */
  thaw(): void;
  /** Starts a fresh, empty server on the same port after stop() or kill(). */
  restart(): Promise<void>;
  /** Kills the server if it runs and removes its directory; for `track()`. */
  close(): Promise<void>;
}

const running = new Set<ChildProcess>();
process.once("exit", () => {
  for (const child of running) child.kill("SIGKILL");
});

/** Starts a server on a free port and waits until it answers PING. */
export async function startRedisServer(options: RedisServerOptions = {}): Promise<RedisServer> {
  assertRedisServerInstalled();
  const dir = await mkdtemp(join(tmpdir(), "switchyard-redis-"));
  let lastError: unknown;
  for (let attempt = 0; attempt < START_ATTEMPTS; attempt++) {
    // A port found free may be taken before redis-server binds it: then try another one.
    const port = await freePort();
    try {
      const child = await launch(port, dir, options);
      return serverHandle(child, port, dir, options);
    } catch (error) {
      lastError = error;
    }
  }
  await rm(dir, { recursive: true, force: true });
  throw lastError instanceof Error ? lastError : new Error(String(lastError));
}

/** Throws REDIS_NOT_INSTALLED where `redis-server` is not installed: a test fails, never skips. */
export function assertRedisServerInstalled(): void {
  const probe = spawnSync("redis-server", ["--version"], { stdio: "ignore" });
  if (probe.error !== undefined) throw new Error(REDIS_NOT_INSTALLED);
}

function serverHandle(
  first: ChildProcess,
  port: number,
  dir: string,
  options: RedisServerOptions,
): RedisServer {
  let child: ChildProcess | undefined = first;
  let isFrozen = false;
  const auth = options.password === undefined ? "" : `:${encodeURIComponent(options.password)}@`;
  const signal = (name: NodeJS.Signals): void => {
    if (child === undefined) throw new Error("redis-server is not running");
    child.kill(name);
  };
  const end = async (name: NodeJS.Signals): Promise<void> => {
    const current = child;
    if (current === undefined) return;
    if (isFrozen && name !== "SIGKILL") current.kill("SIGCONT");
    isFrozen = false;
    await exitOf(current, name);
    child = undefined;
  };
  return {
    port,
    url: `${options.tls === undefined ? "redis" : "rediss"}://${auth}${LOOPBACK_HOST}:${String(port)}/0`,
    get pid() {
      return child?.pid ?? 0;
    },
    stop: () => end("SIGTERM"),
    kill: () => end("SIGKILL"),
    freeze() {
      signal("SIGSTOP");
      isFrozen = true;
    },
    thaw() {
      signal("SIGCONT");
      isFrozen = false;
    },
    async restart() {
      if (child !== undefined) throw new Error("redis-server is still running: stop or kill it");
      child = await launch(port, dir, options);
    },
    async close() {
      await end("SIGKILL");
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Spawns redis-server on `port` and resolves once it answers PING. */
async function launch(port: number, dir: string, options: RedisServerOptions) {
  const { tls } = options;
  const args = ["--bind", LOOPBACK_HOST, "--save", "", "--appendonly", "no", "--dir", dir];
  args.push("--daemonize", "no", "--logfile", "");
  if (options.password !== undefined) args.push("--requirepass", options.password);
  if (tls === undefined) args.push("--port", String(port));
  else {
    args.push("--port", "0", "--tls-port", String(port), "--tls-auth-clients", "no");
    args.push("--tls-cert-file", tls.certFile, "--tls-key-file", tls.keyFile);
    args.push("--tls-ca-cert-file", tls.caFile);
  }
  const child = spawn("redis-server", args, { stdio: ["ignore", "pipe", "pipe"] });
  running.add(child);
  let output = "";
  const collect = (chunk: Buffer): void => {
    output += chunk.toString("utf8");
  };
  child.stdout.on("data", collect);
  child.stderr.on("data", collect);
  child.once("exit", () => {
    running.delete(child);
  });
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (!(await answersPing(port, tls))) {
    if (child.exitCode !== null || child.signalCode !== null || Date.now() >= deadline) {
      child.kill("SIGKILL");
      throw new Error(`redis-server did not start on port ${String(port)}:\n${output}`);
    }
    await sleep(20);
  }
  return child;
}

/** Whether a server on `port` answers PING (NOAUTH counts: it is up, and wants a password). */
function answersPing(port: number, tls: RedisServerTls | undefined): Promise<boolean> {
  return new Promise((resolve) => {
    const socket: Socket =
      tls === undefined
        ? connect({ host: LOOPBACK_HOST, port })
        : connectTls({ host: LOOPBACK_HOST, port, ca: readFileSync(tls.caFile) });
    const ready = tls === undefined ? "connect" : "secureConnect";
    let reply = "";
    const done = (isUp: boolean): void => {
      socket.destroy();
      resolve(isUp);
    };
    socket.setTimeout(PING_TIMEOUT_MS, () => {
      done(false);
    });
    socket.once("error", () => {
      done(false);
    });
    socket.once(ready, () => socket.write("PING\r\n"));
    socket.on("data", (chunk: Buffer) => {
      reply += chunk.toString("utf8");
      if (reply.includes("\r\n")) done(reply.startsWith("+PONG") || reply.startsWith("-NOAUTH"));
    });
  });
}

/** Sends `signal` and waits for the exit, with SIGKILL after a grace period. */
function exitOf(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const killer = setTimeout(() => child.kill("SIGKILL"), STOP_GRACE_MS);
    child.once("exit", () => {
      clearTimeout(killer);
      resolve();
    });
    child.kill(signal);
  });
}

async function freePort(): Promise<number> {
  const server = createServer();
  const port = await listenOnFreePort(server);
  await closeServer(server);
  return port;
}
