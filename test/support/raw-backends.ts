/**
 * Raw TCP backends that misbehave on purpose, to test how the proxy treats upstream failures:
 * resets, stalls, garbage, bodies cut short, and keep-alive sockets closed under a pooled client.
 */
import { createServer, type Server, type Socket } from "node:net";
import { listenOnFreePort, originOf } from "./ports.ts";

export interface RawBackend {
  readonly url: string;
  readonly port: number;
  /** TCP connections accepted so far. */
  readonly acceptedCount: number;
  /** Requests answered so far, however badly (a reset or a stall is no answer). */
  readonly answeredCount: number;
  /** The head (request line and headers, without the blank line) of each complete request. */
  readonly requestHeads: string[];
  /** TCP connections open now. */
  readonly openConnections: number;
  /** Closes the listener and destroys every socket; resolves once closed. */
  close(): Promise<void>;
}

type ConnectionHandler = (socket: Socket, backend: RawServer) => void;

class RawServer implements RawBackend {
  url = "";
  port = 0;
  acceptedCount = 0;
  answeredCount = 0;
  readonly requestHeads: string[] = [];
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();
  readonly #timers = new Set<NodeJS.Timeout>();
  #closing: Promise<void> | undefined;

  constructor(onConnection: ConnectionHandler) {
    this.#server = createServer((socket) => {
      this.acceptedCount++;
      this.#sockets.add(socket);
      socket.once("close", () => this.#sockets.delete(socket));
      // Peers see resets and half-written answers here on purpose; errors are expected.
      socket.on("error", () => undefined);
      onConnection(socket, this);
    });
  }

  get openConnections(): number {
    return this.#sockets.size;
  }

  async listen(): Promise<void> {
    this.port = await listenOnFreePort(this.#server);
    this.url = originOf(this.port);
  }

  /** Calls `onRequest` with each complete request (head and Content-Length or chunked body). */
  onRequests(socket: Socket, onRequest: (head: string) => void): void {
    let pending: Buffer = Buffer.alloc(0);
    socket.on("data", (data: Buffer) => {
      pending = pending.length === 0 ? data : Buffer.concat([pending, data]);
      for (;;) {
        const requestBytes = completeRequestLength(pending);
        if (requestBytes === undefined) return;
        const head = pending.subarray(0, pending.indexOf("\r\n\r\n")).toString("latin1");
        pending = pending.subarray(requestBytes);
        this.requestHeads.push(head);
        onRequest(head);
      }
    });
  }

  later(delayMs: number, action: () => void): void {
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      action();
    }, delayMs);
    this.#timers.add(timer);
  }

  close(): Promise<void> {
    this.#closing ??= new Promise<void>((resolve) => {
      for (const timer of this.#timers) clearTimeout(timer);
      this.#timers.clear();
      this.#server.close(() => {
        resolve();
      });
      for (const socket of this.#sockets) socket.destroy();
    });
    return this.#closing;
  }
}

/** Byte length of the first complete request in `bytes`, or undefined while incomplete. */
function completeRequestLength(bytes: Buffer): number | undefined {
  const headEnd = bytes.indexOf("\r\n\r\n");
  if (headEnd < 0) return undefined;
  const bodyStart = headEnd + 4;
  const head = bytes.subarray(0, headEnd).toString("latin1");
  if (/^transfer-encoding:.*chunked/im.test(head)) {
    // Good enough for test traffic: a chunked body ends at the first zero-size chunk.
    const end = bytes.indexOf("0\r\n\r\n", bodyStart);
    if (end < 0) return undefined;
    return end + 5;
  }
  const lengthMatch = /^content-length:\s*(\d+)/im.exec(head);
  const bodyBytes = lengthMatch === null ? 0 : Number(lengthMatch[1]);
  if (bytes.length < bodyStart + bodyBytes) return undefined;
  return bodyStart + bodyBytes;
}

async function startRawBackend(onConnection: ConnectionHandler): Promise<RawBackend> {
  const backend = new RawServer(onConnection);
  await backend.listen();
  return backend;
}

/** Sends `data` as the answer and closes the socket once it is flushed. */
function answerThenDestroy(backend: RawServer, socket: Socket, data: string | Buffer): void {
  backend.answeredCount++;
  socket.write(data, () => socket.destroy());
}

export interface ResettingBackendOptions {
  /** "request" (default): reset once a complete request arrived; "accept": reset at once. */
  when?: "accept" | "request";
}

/** Answers every request (or connection) with a TCP RST: clients see ECONNRESET. */
export function startResettingBackend(options: ResettingBackendOptions = {}): Promise<RawBackend> {
  const when = options.when ?? "request";
  return startRawBackend((socket, backend) => {
    if (when === "accept") {
      socket.resetAndDestroy();
      return;
    }
    backend.onRequests(socket, () => socket.resetAndDestroy());
  });
}

/** Accepts and reads requests but never answers: clients hit their own timeouts. */
export function startStallingBackend(): Promise<RawBackend> {
  return startRawBackend((socket, backend) => {
    backend.onRequests(socket, () => undefined);
  });
}

/**
 * Switches protocols on the first request, then resets the connection when the first byte
 * arrives through the tunnel: an upgrade that succeeded and broke afterwards.
 */
export function startUpgradeThenResetBackend(): Promise<RawBackend> {
  return startRawBackend((socket, backend) => {
    let isSwitched = false;
    // Registered before onRequests, so the chunk that completes the head does not reset.
    socket.on("data", () => {
      if (isSwitched) socket.resetAndDestroy();
    });
    backend.onRequests(socket, () => {
      if (isSwitched) return;
      isSwitched = true;
      backend.answeredCount++;
      socket.write(
        "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: echo-protocol/1\r\n\r\n",
      );
    });
  });
}

export const GARBAGE_RESPONSE = "this is not http\r\n\r\n";

/** Answers the first request with bytes that are not HTTP, then closes. */
export function startGarbageBackend(
  options: { response?: string | Buffer } = {},
): Promise<RawBackend> {
  const response = options.response ?? GARBAGE_RESPONSE;
  return startRawBackend((socket, backend) => {
    backend.onRequests(socket, () => {
      answerThenDestroy(backend, socket, response);
    });
  });
}

export interface MidBodyDyingOptions {
  /** The Content-Length announced (default 1000). */
  declaredLength?: number;
  /** How many body bytes are sent before the connection dies (default 100). */
  sentBytes?: number;
}

/** Sends a valid head with Content-Length, then only part of the body, then closes. */
export function startMidBodyDyingBackend(options: MidBodyDyingOptions = {}): Promise<RawBackend> {
  const declaredLength = options.declaredLength ?? 1000;
  const sentBytes = options.sentBytes ?? 100;
  if (sentBytes >= declaredLength) throw new RangeError("sentBytes must be below declaredLength");
  const head =
    "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n" +
    `Content-Length: ${declaredLength}\r\n\r\n`;
  const answer = Buffer.concat([Buffer.from(head, "latin1"), Buffer.alloc(sentBytes, "x")]);
  return startRawBackend((socket, backend) => {
    backend.onRequests(socket, () => {
      answerThenDestroy(backend, socket, answer);
    });
  });
}

/** The complete chunks the chunked-dying backend sends before it dies. */
export const CHUNKED_DYING_CHUNKS = ["first chunk\n", "second chunk\n"];

/** Sends a chunked answer with a couple of chunks, then closes before the last-chunk marker. */
export function startChunkedDyingBackend(): Promise<RawBackend> {
  const chunks = CHUNKED_DYING_CHUNKS.map(
    (chunk) => `${Buffer.byteLength(chunk).toString(16)}\r\n${chunk}\r\n`,
  );
  const answer =
    "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n" +
    chunks.join("");
  return startRawBackend((socket, backend) => {
    backend.onRequests(socket, () => {
      answerThenDestroy(backend, socket, answer);
    });
  });
}

/** Sends a head announcing `contentLength` body bytes (default 100), then closes. */
export function startClosingAfterHeadersBackend(
  options: { contentLength?: number } = {},
): Promise<RawBackend> {
  const contentLength = options.contentLength ?? 100;
  const answer = `HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: ${contentLength}\r\n\r\n`;
  return startRawBackend((socket, backend) => {
    backend.onRequests(socket, () => {
      answerThenDestroy(backend, socket, answer);
    });
  });
}

export const KEEP_ALIVE_RACE_BODY = '{"name":"keep-alive-race"}';

/**
 * Answers the first request of each connection correctly, announcing keep-alive with a long
 * timeout, then closes the socket after `closeAfterMs` (default 20) and ignores any later
 * request on it: a pooled client that reuses the socket at the wrong moment sees it die.
 */
export function startKeepAliveRaceBackend(
  options: { closeAfterMs?: number } = {},
): Promise<RawBackend> {
  const closeAfterMs = options.closeAfterMs ?? 20;
  const answer =
    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: keep-alive\r\n" +
    `Keep-Alive: timeout=60\r\nContent-Length: ${Buffer.byteLength(KEEP_ALIVE_RACE_BODY)}\r\n\r\n` +
    KEEP_ALIVE_RACE_BODY;
  return startRawBackend((socket, backend) => {
    let isAnswered = false;
    backend.onRequests(socket, () => {
      if (isAnswered) return;
      isAnswered = true;
      backend.answeredCount++;
      socket.write(answer);
      backend.later(closeAfterMs, () => socket.destroy());
    });
  });
}

export interface MidBodyStallingOptions {
  /** "length" (default): a Content-Length body; "chunked": a chunked one. */
  framing?: "length" | "chunked";
  /** The Content-Length announced with "length" framing (default 1000). */
  declaredLength?: number;
  /** How many body bytes are sent before the stall (default 100). */
  sentBytes?: number;
}

/** Sends a valid head and part of the body, then keeps the connection open and silent. */
export function startMidBodyStallingBackend(
  options: MidBodyStallingOptions = {},
): Promise<RawBackend> {
  const declaredLength = options.declaredLength ?? 1000;
  const sentBytes = options.sentBytes ?? 100;
  if (sentBytes >= declaredLength) throw new RangeError("sentBytes must be below declaredLength");
  const body = "x".repeat(sentBytes);
  const answer =
    options.framing === "chunked"
      ? "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n" +
        `${sentBytes.toString(16)}\r\n${body}\r\n`
      : "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n" +
        `Content-Length: ${declaredLength}\r\n\r\n${body}`;
  return startRawBackend((socket, backend) => {
    backend.onRequests(socket, () => {
      backend.answeredCount++;
      socket.write(answer);
    });
  });
}

export interface TricklingOptions {
  /** Chunks sent (default 8). */
  chunks?: number;
  /** Pause before each chunk after the first (default 300). */
  intervalMs?: number;
}

/** The text of each chunk the trickling backend sends. */
export function trickleChunk(index: number): string {
  return `chunk ${index}\n`;
}

/**
 * A slow but live backend: answers each request with a chunked body, one small chunk every
 * `intervalMs`, so that the whole answer takes longer than a short timeout while no silence
 * does.
 */
export function startTricklingBackend(options: TricklingOptions = {}): Promise<RawBackend> {
  const chunks = options.chunks ?? 8;
  const intervalMs = options.intervalMs ?? 300;
  return startRawBackend((socket, backend) => {
    backend.onRequests(socket, () => {
      socket.write(
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n",
      );
      const sendChunk = (index: number): void => {
        if (socket.destroyed) return;
        if (index === chunks) {
          backend.answeredCount++;
          socket.write("0\r\n\r\n");
          return;
        }
        const text = trickleChunk(index);
        socket.write(`${Buffer.byteLength(text).toString(16)}\r\n${text}\r\n`);
        backend.later(intervalMs, () => {
          sendChunk(index + 1);
        });
      };
      sendChunk(0);
    });
  });
}
