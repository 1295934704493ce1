/** Loopback listening and polling helpers shared by the test backends and the tests. */
import type { Server as HttpServer } from "node:http";
import {
  createServer as createNetServer,
  type AddressInfo,
  type Server as NetServer,
} from "node:net";

export const LOOPBACK_HOST = "127.0.0.1";

type ListeningServer = HttpServer | NetServer;

/** Listens on an OS-chosen port of `host` (127.0.0.1 by default) and resolves with the port. */
export function listenOnFreePort(server: ListeningServer, host = LOOPBACK_HOST): Promise<number> {
  return listenOnPort(server, 0, host);
}

/** Listens on `port` (0 for a free one); rejects on EADDRINUSE and the like. */
export function listenOnPort(
  server: ListeningServer,
  port: number,
  host = LOOPBACK_HOST,
): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error): void => {
      reject(error);
    };
    server.once("error", onError);
    server.listen(port, host, () => {
      server.off("error", onError);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

/** `http://HOST:PORT`, with IPv6 hosts bracketed. */
export function originOf(port: number, host = LOOPBACK_HOST): string {
  return host.includes(":") ? `http://[${host}]:${port}` : `http://${host}:${port}`;
}

/** Closes a server; resolves once it has stopped listening (already closed is fine). */
export function closeServer(server: ListeningServer): Promise<void> {
  return new Promise((resolve, reject) => {
    if (!server.listening) {
      resolve();
      return;
    }
    server.close((error) => {
      if (error !== undefined) reject(error);
      else resolve();
    });
  });
}

export interface WaitForOptions {
  timeoutMs?: number;
  intervalMs?: number;
  /** Shown in the timeout error, to say what was awaited. */
  description?: string;
}

/**
 * Polls `predicate` until it returns a truthy value (which is returned) or `timeoutMs` passes.
 * A predicate that throws counts as "not yet"; its last error is reported on timeout.
 */
export async function waitFor<T>(
  predicate: () => T | Promise<T>,
  options: WaitForOptions = {},
): Promise<NonNullable<T>> {
  const { timeoutMs = 2000, intervalMs = 10, description = "condition" } = options;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await predicate();
      if (value) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() >= deadline) {
      const reason = lastError instanceof Error ? ` (last error: ${lastError.message})` : "";
      throw new Error(`waitFor: ${description} not met within ${timeoutMs} ms${reason}`);
    }
    await sleep(intervalMs);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** An origin on 127.0.0.1 where nothing listens (a port just freed): connections are refused. */
export async function refusingOrigin(): Promise<string> {
  const server = createNetServer();
  const port = await listenOnFreePort(server);
  await closeServer(server);
  return originOf(port);
}
