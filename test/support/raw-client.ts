/**
 * A byte-exact HTTP client for tests of malformed requests, pipelining and connection
 * handling: it writes exactly the bytes given and reports exactly the bytes received.
 * Bytes are carried as latin1 strings so that string offsets are byte offsets.
 */
import { connect, type Socket } from "node:net";
import { LOOPBACK_HOST } from "./ports.ts";

export interface RawResponse {
  /** Everything received, as latin1. */
  raw: string;
  /** Status of the first response in `raw`, if a status line arrived. */
  statusCode: number | undefined;
  /** Headers of the first response, lower-cased; repeated headers joined with ", ". */
  headers: Record<string, string>;
  /** True when the server closed (or reset) the connection before the timeout. */
  closed: boolean;
  /** Socket error code seen, e.g. "ECONNRESET". */
  errorCode: string | undefined;
}

export interface SendRawOptions {
  /** How long to wait for the server to close (default 2000). */
  timeoutMs?: number;
  host?: string;
  /** Half-close our side after writing (default false). */
  isEndAfterWrite?: boolean;
}

/** Writes `bytes` to a new connection and collects the answer until close or timeout. */
export async function sendRaw(
  port: number,
  bytes: string | Buffer,
  options: SendRawOptions = {},
): Promise<RawResponse> {
  const connection = await connectRaw(port, options.host);
  try {
    await connection.write(bytes);
    if (options.isEndAfterWrite === true) connection.end();
  } catch {
    // The server may close before reading everything; what it answered still counts.
  }
  const closed = await connection.waitClosed(options.timeoutMs ?? 2000);
  connection.destroy();
  const first = parseAllResponses(connection.data)[0];
  return {
    raw: connection.data,
    statusCode: first?.statusCode,
    headers: first?.headers ?? {},
    closed,
    errorCode: connection.errorCode,
  };
}

/** A connection to drive step by step (send headers, wait for 100 Continue, send body...). */
export class RawConnection {
  data = "";
  isClosed = false;
  errorCode: string | undefined;
  readonly #socket: Socket;
  readonly #listeners = new Set<() => void>();

  constructor(socket: Socket) {
    this.#socket = socket;
    socket.setEncoding("latin1");
    socket.on("data", (chunk: string) => {
      this.data += chunk;
      this.#notify();
    });
    socket.on("error", (error: NodeJS.ErrnoException) => {
      this.errorCode ??= error.code;
    });
    socket.on("close", () => {
      this.isClosed = true;
      this.#notify();
    });
  }

  get localPort(): number | undefined {
    return this.#socket.localPort;
  }

  write(bytes: string | Buffer): Promise<void> {
    return new Promise((resolve, reject) => {
      const payload = typeof bytes === "string" ? Buffer.from(bytes, "latin1") : bytes;
      this.#socket.write(payload, (error) => {
        if (error === undefined || error === null) resolve();
        else reject(error);
      });
    });
  }

  /** Half-closes our side (sends FIN). */
  end(): void {
    this.#socket.end();
  }

  destroy(): void {
    this.#socket.destroy();
  }

  /** Closes with a TCP RST, like a client that crashed. */
  reset(): void {
    this.#socket.resetAndDestroy();
  }

  /** Resolves with `data` once it contains `expected` (or satisfies it); rejects on timeout. */
  waitForData(
    expected: string | RegExp | ((data: string) => boolean),
    timeoutMs = 2000,
  ): Promise<string> {
    const isMet = (): boolean => {
      if (typeof expected === "string") return this.data.includes(expected);
      if (expected instanceof RegExp) return expected.test(this.data);
      return expected(this.data);
    };
    return this.#waitUntil(isMet, timeoutMs).then((isDone) => {
      if (isDone) return this.data;
      throw new Error(
        `no ${String(expected)} within ${timeoutMs} ms; got ${JSON.stringify(this.data)}`,
      );
    });
  }

  /** Resolves true once the server closed the connection, false if `timeoutMs` passed first. */
  waitClosed(timeoutMs = 2000): Promise<boolean> {
    return this.#waitUntil(() => this.isClosed, timeoutMs);
  }

  #waitUntil(isMet: () => boolean, timeoutMs: number): Promise<boolean> {
    if (isMet()) return Promise.resolve(true);
    return new Promise((resolve) => {
      const finish = (isDone: boolean): void => {
        clearTimeout(timer);
        this.#listeners.delete(check);
        resolve(isDone);
      };
      const check = (): void => {
        if (isMet()) finish(true);
        else if (this.isClosed) finish(false);
      };
      const timer = setTimeout(() => {
        finish(false);
      }, timeoutMs);
      this.#listeners.add(check);
    });
  }

  #notify(): void {
    for (const listener of [...this.#listeners]) listener();
  }
}

/** Opens a TCP connection; rejects if it cannot be established. */
export function connectRaw(port: number, host = LOOPBACK_HOST): Promise<RawConnection> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host });
    socket.once("error", reject);
    socket.once("connect", () => {
      socket.off("error", reject);
      resolve(new RawConnection(socket));
    });
  });
}

export interface ParsedResponse {
  httpVersion: string;
  statusCode: number;
  reason: string;
  /** Lower-cased names; repeated headers joined with ", " (see `rawHeaders` for each). */
  headers: Record<string, string>;
  rawHeaders: [string, string][];
  /** The body (latin1), de-chunked. */
  body: string;
  trailers: Record<string, string>;
  /** False when the bytes ended before the framing said the body would. */
  isComplete: boolean;
}

/**
 * Parses consecutive responses (interim 1xx ones included) from raw bytes.
 * `methods[i]` is the method of the request answered i-th among final responses, so that
 * answers to HEAD are read without a body.
 */
export function parseAllResponses(raw: string, methods: readonly string[] = []): ParsedResponse[] {
  const responses: ParsedResponse[] = [];
  let offset = 0;
  let finalCount = 0;
  while (offset < raw.length) {
    const headEnd = raw.indexOf("\r\n\r\n", offset);
    if (headEnd < 0) break;
    const [statusLine = "", ...headerLines] = raw.slice(offset, headEnd).split("\r\n");
    const statusMatch = /^(HTTP\/\d\.\d) (\d{3})(?: (.*))?$/.exec(statusLine);
    if (statusMatch === null) break;
    const statusCode = Number(statusMatch[2]);
    const response: ParsedResponse = {
      httpVersion: statusMatch[1] ?? "",
      statusCode,
      reason: statusMatch[3] ?? "",
      headers: {},
      rawHeaders: [],
      body: "",
      trailers: {},
      isComplete: true,
    };
    for (const line of headerLines) addHeaderLine(response.rawHeaders, response.headers, line);
    responses.push(response);
    offset = headEnd + 4;
    if (statusCode < 200) continue;
    const isHead = methods[finalCount]?.toUpperCase() === "HEAD";
    finalCount++;
    if (isHead || statusCode === 204 || statusCode === 304) continue;
    if (/chunked/i.test(response.headers["transfer-encoding"] ?? "")) {
      offset = readChunkedBody(raw, offset, response);
    } else if (response.headers["content-length"] !== undefined) {
      const length = Number(response.headers["content-length"]);
      response.body = raw.slice(offset, offset + length);
      response.isComplete = response.body.length === length;
      offset += response.body.length;
    } else {
      // Delimited by the connection's close: the rest is the body.
      response.body = raw.slice(offset);
      offset = raw.length;
    }
    if (!response.isComplete) break;
  }
  return responses;
}

function addHeaderLine(
  rawHeaders: [string, string][],
  headers: Record<string, string>,
  line: string,
): void {
  const colon = line.indexOf(":");
  if (colon <= 0) return;
  const name = line.slice(0, colon);
  const value = line.slice(colon + 1).trim();
  rawHeaders.push([name, value]);
  const key = name.toLowerCase();
  const previous = headers[key];
  headers[key] = previous === undefined ? value : `${previous}, ${value}`;
}

/** Reads a chunked body into `response` and returns the offset after it. */
function readChunkedBody(raw: string, start: number, response: ParsedResponse): number {
  let offset = start;
  const parts: string[] = [];
  for (;;) {
    const sizeEnd = raw.indexOf("\r\n", offset);
    if (sizeEnd < 0) break;
    const size = Number.parseInt(raw.slice(offset, sizeEnd).split(";", 1)[0] ?? "", 16);
    if (Number.isNaN(size)) break;
    offset = sizeEnd + 2;
    if (size === 0) {
      const trailerEnd = raw.indexOf("\r\n\r\n", offset - 2);
      if (trailerEnd < 0) break;
      const trailerLines = raw.slice(offset, trailerEnd).split("\r\n");
      for (const line of trailerLines) addHeaderLine([], response.trailers, line);
      response.body = parts.join("");
      return trailerEnd + 4;
    }
    if (raw.length < offset + size + 2) break;
    parts.push(raw.slice(offset, offset + size));
    offset += size + 2;
  }
  response.body = parts.join("");
  response.isComplete = false;
  return raw.length;
}
