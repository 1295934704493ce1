/**
 * A well-behaved HTTP/1.1 backend for integration tests: it echoes what it received as JSON
 * (`EchoBody`) and records every request. Paths with a special meaning:
 *
 * - `/health`: answers `healthStatus`; counted in `healthChecks`, not recorded in `received`.
 * - `/bytes/N`: N pattern bytes in 64 KiB chunks, honouring backpressure (`?chunked=1` drops
 *   the Content-Length, `?pauseMs=K` waits K ms after the first chunk); `bytesBodySha256(N)`
 *   is their hash. With `resetBodyEvery`, some of these answers die mid-body instead.
 * - `/trailers`: a chunked body with an `x-checksum` trailer (`TRAILERS_CHECKSUM`).
 * - `/status/N`: answers status N (200..599); 204 and 304 without a body.
 * - `/slow-body`: writes a chunk, waits `delayMs`, then writes the last one.
 * - `/set-cookies`: two Set-Cookie headers.
 * - anything else (`/upload`, `/expect`...): the echo, after `delayMs` (or `?delayMs=K`), with
 *   `status`. Bodies are hashed as they stream in; `Expect: 100-continue` gets node's automatic 100.
 * - upgrades: 101, then a WebSocket echo (`Upgrade: websocket`) or a raw byte echo.
 *   Or, after `setUpgradeStatus(N)`, a plain answer N that closes the connection.
 */
import { createHash, type Hash } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { Socket } from "node:net";
import { acceptUpgrade, refuseUpgrade } from "./upgrade-echo.ts";
import { BYTES_CHUNK_SIZE, sendPatternBytes } from "./pattern-bytes.ts";
import { listenOnPort, originOf } from "./ports.ts";

export { BYTES_CHUNK_SIZE, bytesBodySha256 } from "./pattern-bytes.ts";

export interface EchoBackendOptions {
  /** Reported in every JSON body and in the `x-backend-name` response header. */
  name?: string;
  /** Status of ordinary answers (default 200). */
  status?: number;
  /** Wait before ordinary answers, and between the two chunks of `/slow-body` (default 0). */
  delayMs?: number;
  /** Status of `/health` (default 200). */
  healthStatus?: number;
  /** Idle keep-alive timeout of the server (node's default is 5000). */
  keepAliveTimeoutMs?: number;
  /** Port to listen on, e.g. the port of a backend that was closed (default: a free one). */
  port?: number;
  /**
   * Every Nth `/bytes/N` answer longer than one chunk sends its head and first chunk, waits a
   * little, then resets the connection (TCP RST): an upstream that dies mid-body.
   */
  resetBodyEvery?: number;
  /** Told of each recorded request as its head arrives (before any answer). */
  onRequest?: (request: ReceivedRequest) => void;
  /** Told the number of open connections whenever it changes. */
  onConnectionCountChange?: (openConnections: number) => void;
  /** Answer to upgrades: 101 (default) switches; anything else is a plain answer. */
  upgradeStatus?: number;
}

/** How long a `/bytes/N` answer chosen by `resetBodyEvery` waits before its reset. */
const RESET_PAUSE_MS = 10;

/** One request as the backend saw it. Health checks are counted apart (`healthChecks`). */
export interface ReceivedRequest {
  method: string;
  url: string;
  httpVersion: string;
  /** Names and values alternating, exactly as received (case and duplicates kept). */
  rawHeaders: string[];
  /** Body bytes read so far; final once `isBodyComplete`. */
  bodyBytes: number;
  isBodyComplete: boolean;
  /** Client port of the connection, to tell connections apart. */
  remotePort: number | undefined;
}

/** The JSON body of ordinary answers. */
export interface EchoBody {
  name: string;
  method: string;
  url: string;
  headers: Record<string, string | string[] | undefined>;
  bodyBytes: number;
  bodySha256: string;
}

export interface EchoBackend {
  readonly name: string;
  readonly url: string;
  readonly port: number;
  /** Every non-health request, in arrival order, recorded as soon as its head arrives. */
  readonly received: ReceivedRequest[];
  /** TCP connections accepted so far. */
  readonly connections: number;
  /** TCP connections open now, upgraded ones included. */
  readonly openConnections: number;
  /** Requests to `/health` answered so far. */
  readonly healthChecks: number;
  /** Body bytes every `/bytes/N` answer has handed to its socket so far, all requests summed. */
  readonly patternBytesSent: number;
  /** `/bytes/N` answers reset mid-body so far (`resetBodyEvery`). */
  readonly bodiesReset: number;
  setStatus(status: number): void;
  setUpgradeStatus(status: number): void;
  setHealthStatus(status: number): void;
  setDelayMs(delayMs: number): void;
  /** Forgets `received` (connection and health counters are kept). */
  clearReceived(): void;
  /** Closes the listener and every socket; resolves once closed. */
  close(): Promise<void>;
}

/** The body `/trailers` sends, and the checksum its `x-checksum` trailer carries. */
export const TRAILERS_BODY_PARTS = ["first part of a body with trailers\n", "second part\n"];
export const TRAILERS_CHECKSUM = createHash("sha256")
  .update(TRAILERS_BODY_PARTS.join(""))
  .digest("hex");

/** The values of header `name` (any case) in a raw header list. */
export function headerValues(rawHeaders: readonly string[], name: string): string[] {
  const wanted = name.toLowerCase();
  const values: string[] = [];
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    if (rawHeaders[i]?.toLowerCase() === wanted) values.push(rawHeaders[i + 1] ?? "");
  }
  return values;
}

export async function startEchoBackend(options: EchoBackendOptions = {}): Promise<EchoBackend> {
  const backend = new EchoServer(options);
  await backend.listen();
  return backend;
}

function isBodilessStatus(status: number): boolean {
  return status === 204 || status === 304 || (status >= 100 && status < 200);
}

class EchoServer implements EchoBackend {
  readonly name: string;
  readonly received: ReceivedRequest[] = [];
  url = "";
  port = 0;
  connections = 0;
  healthChecks = 0;
  patternBytesSent = 0;
  /** `/bytes/N` answers reset mid-body so far (`resetBodyEvery`). */
  bodiesReset = 0;
  #bytesAnswers = 0;
  #status: number;
  #upgradeStatus: number;
  #healthStatus: number;
  #delayMs: number;
  readonly #server: Server;
  readonly #requestedPort: number;
  readonly #options: EchoBackendOptions;
  readonly #sockets = new Set<Socket>();
  readonly #timers = new Set<NodeJS.Timeout>();
  #closing: Promise<void> | undefined;

  constructor(options: EchoBackendOptions) {
    this.name = options.name ?? "echo";
    this.#status = options.status ?? 200;
    this.#upgradeStatus = options.upgradeStatus ?? 101;
    this.#healthStatus = options.healthStatus ?? 200;
    this.#delayMs = options.delayMs ?? 0;
    this.#requestedPort = options.port ?? 0;
    this.#options = options;
    this.#server = createServer((req, res) => {
      this.#onRequest(req, res);
    });
    if (options.keepAliveTimeoutMs !== undefined) {
      this.#server.keepAliveTimeout = options.keepAliveTimeoutMs;
    }
    this.#server.on("connection", (socket: Socket) => {
      this.connections++;
      this.#sockets.add(socket);
      this.#options.onConnectionCountChange?.(this.#sockets.size);
      socket.once("close", () => {
        this.#sockets.delete(socket);
        this.#options.onConnectionCountChange?.(this.#sockets.size);
      });
    });
    this.#server.on("upgrade", (req: IncomingMessage, socket: Socket, head: Buffer) => {
      this.#record(req).isBodyComplete = true;
      if (this.#upgradeStatus === 101) acceptUpgrade(req, socket, head, this.name);
      else refuseUpgrade(socket, this.#upgradeStatus, this.name);
    });
  }

  async listen(): Promise<void> {
    this.port = await listenOnPort(this.#server, this.#requestedPort);
    this.url = originOf(this.port);
  }

  get openConnections(): number {
    return this.#sockets.size;
  }

  setStatus(status: number): void {
    this.#status = status;
  }

  setUpgradeStatus(status: number): void {
    this.#upgradeStatus = status;
  }

  setHealthStatus(status: number): void {
    this.#healthStatus = status;
  }

  setDelayMs(delayMs: number): void {
    this.#delayMs = delayMs;
  }

  clearReceived(): void {
    this.received.length = 0;
  }

  close(): Promise<void> {
    this.#closing ??= new Promise<void>((resolve) => {
      for (const timer of this.#timers) clearTimeout(timer);
      this.#timers.clear();
      this.#server.close(() => {
        resolve();
      });
      this.#server.closeAllConnections();
      // Upgraded sockets are no longer the server's; destroy them too.
      for (const socket of this.#sockets) socket.destroy();
    });
    return this.#closing;
  }

  readonly #countPatternBytes = (bytes: number): void => {
    this.patternBytesSent += bytes;
  };

  readonly #later = (delayMs: number, action: () => void): void => {
    if (delayMs <= 0) {
      action();
      return;
    }
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      action();
    }, delayMs);
    this.#timers.add(timer);
  };

  #record(req: IncomingMessage): ReceivedRequest {
    const record: ReceivedRequest = {
      method: req.method ?? "",
      url: req.url ?? "",
      httpVersion: req.httpVersion,
      rawHeaders: [...req.rawHeaders],
      bodyBytes: 0,
      isBodyComplete: false,
      remotePort: req.socket.remotePort,
    };
    this.received.push(record);
    this.#options.onRequest?.(record);
    return record;
  }

  #onRequest(req: IncomingMessage, res: ServerResponse): void {
    res.setHeader("x-backend-name", this.name);
    // A client that goes away mid-request is expected in these tests, not a failure.
    req.on("error", () => undefined);
    res.on("error", () => undefined);
    const path = (req.url ?? "/").split("?", 1)[0] ?? "/";
    if (path === "/health") {
      this.healthChecks++;
      req.resume();
      req.on("end", () => {
        sendJson(res, this.#healthStatus, { name: this.name, health: this.#healthStatus });
      });
      return;
    }
    const record = this.#record(req);
    const hash = createHash("sha256");
    req.on("data", (chunk: Buffer) => {
      record.bodyBytes += chunk.length;
      hash.update(chunk);
    });
    req.on("end", () => {
      record.isBodyComplete = true;
      this.#answer(req, res, path, record, hash);
    });
  }

  #answer(
    req: IncomingMessage,
    res: ServerResponse,
    path: string,
    record: ReceivedRequest,
    hash: Hash,
  ): void {
    const echo: EchoBody = {
      name: this.name,
      method: record.method,
      url: record.url,
      headers: req.headers,
      bodyBytes: record.bodyBytes,
      bodySha256: hash.digest("hex"),
    };
    const query = new URL(record.url, "http://x").searchParams;
    const bytesMatch = /^\/bytes\/(\d+)$/.exec(path);
    if (bytesMatch !== null) {
      this.#sendBytes(res, Number(bytesMatch[1]), query);
      return;
    }
    const statusMatch = /^\/status\/(\d{3})$/.exec(path);
    if (statusMatch !== null) {
      const status = Number(statusMatch[1]);
      if (status < 200 || status > 599) sendJson(res, 400, { error: "status must be 200..599" });
      else sendJson(res, status, echo);
      return;
    }
    switch (path) {
      case "/trailers":
        res.writeHead(200, { "content-type": "text/plain", trailer: "x-checksum" });
        res.write(TRAILERS_BODY_PARTS[0]);
        res.write(TRAILERS_BODY_PARTS[1]);
        res.addTrailers({ "x-checksum": TRAILERS_CHECKSUM });
        res.end();
        return;
      case "/slow-body":
        res.writeHead(200, { "content-type": "text/plain" });
        res.write("first chunk\n");
        this.#later(this.#delayMs, () => res.end("last chunk\n"));
        return;
      case "/set-cookies":
        res.setHeader("set-cookie", ["a=1; Path=/", "b=2; Path=/; HttpOnly"]);
        sendJson(res, 200, echo);
        return;
      default:
        this.#later(Number(query.get("delayMs") ?? this.#delayMs), () => {
          sendJson(res, this.#status, echo);
        });
    }
  }

  #sendBytes(res: ServerResponse, byteCount: number, query: URLSearchParams): void {
    const isReset = this.#isNextBytesAnswerReset(byteCount);
    const pauseMs = isReset ? RESET_PAUSE_MS : Number(query.get("pauseMs") ?? 0);
    if (isReset) this.bodiesReset++;
    sendPatternBytes(res, byteCount, {
      isChunked: query.get("chunked") === "1",
      onWrite: this.#countPatternBytes,
      ...(pauseMs > 0 || isReset ? { midBodyBreak: { pauseMs, isReset, later: this.#later } } : {}),
    });
  }

  /** Counts `/bytes/N` answers that have a middle; true for every `resetBodyEvery`th one. */
  #isNextBytesAnswerReset(byteCount: number): boolean {
    const every = this.#options.resetBodyEvery;
    if (every === undefined || byteCount <= BYTES_CHUNK_SIZE) return false;
    this.#bytesAnswers++;
    return this.#bytesAnswers % every === 0;
  }
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  if (res.destroyed) return;
  if (isBodilessStatus(status)) {
    res.writeHead(status);
    res.end();
    return;
  }
  const payload = Buffer.from(JSON.stringify(body));
  res.writeHead(status, {
    "content-type": "application/json",
    "content-length": payload.length,
  });
  res.end(payload);
}
