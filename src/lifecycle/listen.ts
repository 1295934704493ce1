/** Opening a listener, and the one-sentence errors `serve` prints when it cannot. */
import { createServer, type AddressInfo, type ListenOptions, type Server } from "node:net";

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
  return listenWith(server, { port, host, backlog: LISTEN_BACKLOG }, key);
}

/** How a process shares its listening port with other processes (SPEC 11's workers). */
export interface PortSharing {
  /** Other processes listen on the port too: it is shared even by a single server. */
  readonly withOtherProcesses: boolean;
  /** Another of them holds the port already: it is not checked free first. */
  readonly isJoining: boolean;
}

const ALONE: PortSharing = { withOtherProcesses: false, isJoining: false };

/**
 * Listens on `host:port` with every server of `servers` on the same port (SO_REUSEPORT, the
 * kernel spreading new connections over them), the first choosing it when `port` is 0; a single
 * server listens alone. A fixed port is first checked free with a socket that does not share:
 * sockets that share a port would otherwise also join another process of the same user already
 * listening on it with sharing on, instead of failing with EADDRINUSE.
 */
export async function listenSharingPort(
  servers: readonly Server[],
  host: string,
  port: number,
  key: string,
  processes: PortSharing = ALONE,
): Promise<void> {
  const [first, ...others] = servers;
  if (first === undefined) return;
  if (others.length === 0 && !processes.withOtherProcesses) return listen(first, host, port, key);
  if (port !== 0 && !processes.isJoining) await checkFree(host, port, key);
  const sharing = (on: number): ListenOptions => ({
    port: on,
    host,
    backlog: LISTEN_BACKLOG,
    reusePort: true,
  });
  const listening: Server[] = [];
  try {
    await listenWith(first, sharing(port), key);
    listening.push(first);
    const chosen = (first.address() as AddressInfo).port;
    for (const server of others) {
      await listenWith(server, sharing(chosen), key);
      listening.push(server);
    }
  } catch (error) {
    for (const server of listening) server.close();
    throw error;
  }
}

async function checkFree(host: string, port: number, key: string): Promise<void> {
  const probe = createServer();
  // exclusive: in a node:cluster worker, bind here rather than through the primary.
  await listenWith(probe, { port, host, exclusive: true }, key);
  await new Promise((resolve) => probe.close(resolve));
}

function listenWith(server: Server, options: ListenOptions, key: string): Promise<void> {
  const host = options.host ?? "";
  const port = options.port ?? 0;
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
    server.listen(options);
  });
}
