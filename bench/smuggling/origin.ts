/**
 * The recording origin: a raw `node:net` server on 127.0.0.1 that keeps the exact bytes each
 * connection receives and answers every request it can frame, in sequence on a keep-alive
 * connection, reading framing the lenient way origin-parser.ts describes. What it cannot frame
 * gets a 400 and the connection is closed.
 *
 * `reset()` closes every connection and forgets them, so each case starts with no pooled
 * connection at any proxy and `snapshot()` holds only what that case sent.
 */
import { createServer, type AddressInfo, type Server, type Socket } from "node:net";
import { escapeBytes, toLatin1 } from "./bytes.ts";
import {
  findAnomalies,
  findHeadEnd,
  parseChunkedBody,
  parseHead,
  skipEmptyLines,
  type BodyFraming,
  type BodyResult,
  type ParsedHead,
} from "./origin-parser.ts";

const MAX_HEAD_BYTES = 1024 * 1024;

export interface OriginRequest {
  method: string;
  target: string;
  version: string;
  framing: BodyFraming;
  bodyBytes: number;
  /** Constructs that let two readers frame it differently (origin-parser.ts). */
  ambiguities: string[];
  /** Other constructs a careful proxy would have refused or normalised. */
  defects: string[];
}

export interface IncompleteRequest {
  /** The head, when all of it arrived. */
  head: OriginRequest | undefined;
  /** Bytes of it received. */
  received: number;
}

export interface OriginConnection {
  /** Everything received, one character per byte. */
  bytes: string;
  /** The requests read in full, in order. */
  requests: OriginRequest[];
  /** A request begun but not finished when the snapshot was taken. */
  incomplete: IncompleteRequest | undefined;
  /** Why the origin stopped reading (it answered 400 and closed). */
  framingError: string | undefined;
  /** The proxy closed (or half-closed) the connection. */
  closedByPeer: boolean;
}

interface ConnectionState extends OriginConnection {
  socket: Socket;
  /** Start of the request being read. */
  offset: number;
  pending: ParsedHead | undefined;
  bodyStart: number;
  sentContinue: boolean;
}

export class RecordingOrigin {
  private readonly server: Server;
  private connections: ConnectionState[] = [];

  constructor() {
    this.server = createServer((socket) => {
      this.accept(socket);
    });
  }

  /** Listens on a free loopback port; resolves with it. */
  listen(): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once("error", reject);
      this.server.listen(0, "127.0.0.1", () => {
        resolve((this.server.address() as AddressInfo).port);
      });
    });
  }

  /** Closes every connection and forgets what they received. */
  reset(): void {
    for (const connection of this.connections) connection.socket.destroy();
    this.connections = [];
  }

  /** What each connection since the last reset received and read. */
  snapshot(): OriginConnection[] {
    return this.connections.map((connection) => ({
      bytes: connection.bytes,
      requests: [...connection.requests],
      incomplete: incompleteOf(connection),
      framingError: connection.framingError,
      closedByPeer: connection.closedByPeer,
    }));
  }

  close(): Promise<void> {
    this.reset();
    return new Promise((resolve) => {
      this.server.close(() => {
        resolve();
      });
    });
  }

  private accept(socket: Socket): void {
    const connection: ConnectionState = {
      socket,
      bytes: "",
      requests: [],
      incomplete: undefined,
      framingError: undefined,
      closedByPeer: false,
      offset: 0,
      pending: undefined,
      bodyStart: 0,
      sentContinue: false,
    };
    this.connections.push(connection);
    socket.on("data", (chunk: Buffer) => {
      connection.bytes += toLatin1(chunk);
      if (connection.framingError === undefined) readRequests(connection);
    });
    socket.on("end", () => {
      connection.closedByPeer = true;
    });
    socket.on("close", () => {
      connection.closedByPeer ||= !socket.writableEnded;
    });
    socket.on("error", () => {
      connection.closedByPeer = true;
    });
  }
}

/** Reads and answers every request complete in the buffer; stops at the first incomplete one. */
function readRequests(connection: ConnectionState): void {
  const buffer = connection.bytes;
  for (;;) {
    if (connection.pending === undefined) {
      connection.offset = skipEmptyLines(buffer, connection.offset);
      if (connection.offset >= buffer.length) return;
      const headEnd = findHeadEnd(buffer, connection.offset);
      if (headEnd === -1) {
        if (buffer.length - connection.offset > MAX_HEAD_BYTES) fail(connection, "head too long");
        return;
      }
      const head = parseHead(buffer.slice(connection.offset, headEnd));
      if (head.error !== undefined) {
        fail(connection, head.error);
        return;
      }
      connection.pending = head;
      connection.bodyStart = headEnd;
      connection.sentContinue = false;
    }
    const head = connection.pending;
    let body: BodyResult;
    if (head.framing === "chunked") body = parseChunkedBody(buffer, connection.bodyStart);
    else {
      const end = connection.bodyStart + head.contentLength;
      body =
        buffer.length >= end
          ? { kind: "complete", end, chunkLines: [], terminators: [], trailers: [] }
          : { kind: "need-more" };
    }
    if (body.kind === "error") {
      fail(connection, body.reason);
      return;
    }
    if (body.kind === "need-more") {
      if (!connection.sentContinue && expectsContinue(head)) {
        connection.sentContinue = true;
        connection.socket.write("HTTP/1.1 100 Continue\r\n\r\n");
      }
      return;
    }
    const request = describe(
      head,
      body.end - connection.bodyStart,
      head.framing === "chunked" ? body : undefined,
    );
    connection.requests.push(request);
    connection.pending = undefined;
    connection.offset = body.end;
    const text = `origin read ${escapeBytes(head.method)} ${escapeBytes(head.target, 200)}\n`;
    connection.socket.write(
      `HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: ${text.length}\r\n\r\n${text}`,
    );
  }
}

function describe(
  head: ParsedHead,
  bodyBytes: number,
  chunked: Extract<BodyResult, { kind: "complete" }> | undefined,
): OriginRequest {
  return {
    method: head.method,
    target: head.target,
    version: head.version,
    framing: head.framing,
    bodyBytes,
    ...findAnomalies(head, chunked),
  };
}

function fail(connection: ConnectionState, reason: string): void {
  connection.framingError = reason;
  connection.socket.end(
    "HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
  );
}

function expectsContinue(head: ParsedHead): boolean {
  return head.fields.some(
    (field) => field.name.toLowerCase() === "expect" && /100-continue/i.test(field.value),
  );
}

function incompleteOf(connection: ConnectionState): IncompleteRequest | undefined {
  if (connection.framingError !== undefined) return undefined;
  const start = skipEmptyLines(connection.bytes, connection.offset);
  if (start >= connection.bytes.length) return undefined;
  const head =
    connection.pending === undefined
      ? undefined
      : describe(connection.pending, connection.bytes.length - connection.bodyStart, undefined);
  return { head, received: connection.bytes.length - start };
}
