/**
 * A permissive origin, as CGI, WSGI and Rack servers are: header names are folded (case
 * ignored, `_` read as `-`), a folded Transfer-Encoding: chunked wins over Content-Length, and
 * one keep-alive connection carries request after request. Behind a proxy that forwards a
 * look-alike framing name, a body can hide a second request that the origin reads as the start
 * of the next one on the pooled connection: whoever sends next gets its answer.
 */
import { createServer, type Server, type Socket } from "node:net";
import { listenOnFreePort, originOf } from "./ports.ts";

/** One request as the origin read it. */
export interface FoldedRequest {
  method: string;
  path: string;
  /** Folded names (lower-case, `_` as `-`) and values. */
  headers: Map<string, string>;
  /** The request line and headers exactly as received, without the blank line. */
  head: string;
  /** Which accepted connection carried it (0, 1, ...). */
  connection: number;
}

export interface FoldingOriginOptions {
  /** Raw header lines added to every answer, e.g. "Transfer_Encoding: chunked". */
  extraResponseHeaders?: readonly string[];
}

export interface FoldingOrigin {
  readonly url: string;
  /** Every request read, in order. */
  readonly received: FoldedRequest[];
  /** Connections accepted so far. */
  readonly connections: number;
  /** Connections open now. */
  readonly openConnections: number;
  /** Bytes received on each connection, by connection number, as latin1. */
  readonly bytesByConnection: string[];
  /** Whether each connection, by number, has closed. */
  readonly isClosedByConnection: boolean[];
  close(): Promise<void>;
}

/** The answer body the origin sends for a request: what it understood it was asked. */
export function foldingAnswerBody(method: string, path: string): string {
  return `answer for ${method} ${path}`;
}

export async function startFoldingOrigin(
  options: FoldingOriginOptions = {},
): Promise<FoldingOrigin> {
  const origin = new FoldingOriginServer(options.extraResponseHeaders ?? []);
  const port = await listenOnFreePort(origin.server);
  origin.url = originOf(port);
  return origin;
}

class FoldingOriginServer implements FoldingOrigin {
  url = "";
  connections = 0;
  readonly received: FoldedRequest[] = [];
  readonly bytesByConnection: string[] = [];
  readonly isClosedByConnection: boolean[] = [];
  readonly server: Server;
  readonly #sockets = new Set<Socket>();
  readonly #extraHeaders: readonly string[];

  constructor(extraHeaders: readonly string[]) {
    this.#extraHeaders = extraHeaders;
    this.server = createServer((socket) => {
      this.#serve(socket, this.connections++);
    });
  }

  get openConnections(): number {
    return this.#sockets.size;
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => {
        resolve();
      });
      for (const socket of this.#sockets) socket.destroy();
    });
  }

  #serve(socket: Socket, connection: number): void {
    this.#sockets.add(socket);
    this.bytesByConnection[connection] = "";
    this.isClosedByConnection[connection] = false;
    socket.once("close", () => {
      this.#sockets.delete(socket);
      this.isClosedByConnection[connection] = true;
    });
    socket.on("error", () => undefined);
    socket.setEncoding("latin1");
    let pending = "";
    socket.on("data", (chunk: string) => {
      this.bytesByConnection[connection] = `${this.bytesByConnection[connection] ?? ""}${chunk}`;
      pending += chunk;
      for (;;) {
        const read = readRequest(pending);
        if (read === undefined) return;
        pending = pending.slice(read.length);
        this.received.push({ ...read.request, connection });
        socket.write(this.#answer(read.request.method, read.request.path));
      }
    });
  }

  #answer(method: string, path: string): string {
    const body = foldingAnswerBody(method, path);
    const extra = this.#extraHeaders.map((line) => `${line}\r\n`).join("");
    return (
      `HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: ${body.length}\r\n` +
      `${extra}\r\n${body}`
    );
  }
}

interface ReadRequest {
  request: Omit<FoldedRequest, "connection">;
  /** Bytes the request took, head and body. */
  length: number;
}

/** The first complete request in `data`, read as a permissive origin reads it. */
function readRequest(data: string): ReadRequest | undefined {
  const headEnd = data.indexOf("\r\n\r\n");
  if (headEnd < 0) return undefined;
  const [requestLine = "", ...lines] = data.slice(0, headEnd).split("\r\n");
  const [method = "", path = ""] = requestLine.split(" ");
  const headers = new Map<string, string>();
  for (const line of lines) {
    const colon = line.indexOf(":");
    if (colon > 0) headers.set(foldName(line.slice(0, colon)), line.slice(colon + 1).trim());
  }
  const bodyStart = headEnd + 4;
  const bodyLength = (headers.get("transfer-encoding") ?? "").toLowerCase().includes("chunked")
    ? chunkedBodyLength(data, bodyStart)
    : Number(headers.get("content-length") ?? "0");
  if (bodyLength === undefined || data.length < bodyStart + bodyLength) return undefined;
  const head = data.slice(0, headEnd);
  return { request: { method, path, head, headers }, length: bodyStart + bodyLength };
}

function foldName(name: string): string {
  return name.trim().toLowerCase().replaceAll("_", "-");
}

/** Length of a chunked body starting at `start`, or undefined while it is incomplete. */
function chunkedBodyLength(data: string, start: number): number | undefined {
  let at = start;
  for (;;) {
    const lineEnd = data.indexOf("\r\n", at);
    if (lineEnd < 0) return undefined;
    const size = Number.parseInt(data.slice(at, lineEnd), 16);
    if (Number.isNaN(size)) return undefined;
    if (size === 0) {
      const end = data.indexOf("\r\n", lineEnd + 2);
      return end < 0 ? undefined : end + 2 - start;
    }
    at = lineEnd + 2 + size + 2;
    if (data.length < at) return undefined;
  }
}
