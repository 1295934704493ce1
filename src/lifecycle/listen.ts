/** Opening a listener, and the one-sentence errors `serve` prints when it cannot. */
import type { Server } from "node:net";

/** A start refused or failed for a reason the operator can fix (`code` says which). */
export class StartError extends Error {
  readonly code: string;
  constructor(message: string, code: string) {
    super(message);
    this.code = code;
  }
}

/** Why `host:port` cannot be listened on, naming the config key that chose it. */
export function listenError(error: unknown, host: string, port: number, key: string): StartError {
  const code = (error as NodeJS.ErrnoException).code ?? "ELISTEN";
  const where = `${host}:${port}`;
  const message =
    code === "EADDRINUSE"
      ? `cannot listen on ${where}: the port is already in use; stop the other process or change ${key}`
      : code === "EACCES"
        ? `cannot listen on ${where}: permission denied; use a port above 1023 or change ${key}`
        : code === "EADDRNOTAVAIL"
          ? `cannot listen on ${where}: no such address on this machine; change ${key}`
          : `cannot listen on ${where}: ${(error as Error).message}`;
  return new StartError(message, code);
}

/**
 * Connections the kernel completes and holds until we accept them (Linux caps it at
 * net.core.somaxconn, 4096 by default). Node's default, 511, overflows when many clients
 * connect at once while the event loop is busy serving: the kernel then drops their handshakes
 * and each of those clients waits a second or more for its retransmit.
 */
export const LISTEN_BACKLOG = 4096;

/** Listens on `host:port`; rejects with a StartError naming `key`. */
export function listen(server: Server, host: string, port: number, key: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error): void => {
      server.off("listening", onListening);
      reject(listenError(error, host, port, key));
    };
    const onListening = (): void => {
      server.off("error", onError);
      resolve();
    };
    server.once("error", onError);
    server.once("listening", onListening);
    server.listen({ port, host, backlog: LISTEN_BACKLOG });
  });
}
