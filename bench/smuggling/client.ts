/**
 * Sends one case's bytes on a fresh connection and reads what comes back: every response in
 * order (1xx kept apart), until the proxy closes, or the answers are complete and nothing more
 * arrives for a quiet period, or the timeout passes.
 */
import { connect } from "node:net";
import { escapeBytes, fromLatin1, toLatin1 } from "./bytes.ts";

export interface ClientOutcome {
  /** Final status codes, in order. */
  statuses: number[];
  /** 1xx status codes. */
  informational: number[];
  /** The proxy closed the connection. */
  closedByProxy: boolean;
  /** Nothing settled before the timeout. */
  timedOut: boolean;
  /** Bytes that are not an HTTP/1 response, escaped and truncated. */
  notHttp: string | undefined;
}

export interface ClientTiming {
  timeoutMs: number;
  /** How long to wait for another answer once every answer so far is complete. */
  quietMs: number;
}

export function sendCase(
  port: number,
  bytes: string,
  timing: ClientTiming,
): Promise<ClientOutcome> {
  return new Promise((resolve) => {
    const socket = connect({ host: "127.0.0.1", port });
    let received = "";
    let closedByProxy = false;
    let done = false;
    let quietTimer: NodeJS.Timeout | undefined;
    const finish = (timedOut: boolean): void => {
      if (done) return;
      done = true;
      clearTimeout(quietTimer);
      clearTimeout(timeoutTimer);
      socket.destroy();
      const parsed = parseResponses(received);
      resolve({
        statuses: parsed.statuses,
        informational: parsed.informational,
        closedByProxy,
        timedOut,
        notHttp: parsed.notHttp === undefined ? undefined : escapeBytes(parsed.notHttp, 200),
      });
    };
    const timeoutTimer = setTimeout(() => {
      finish(true);
    }, timing.timeoutMs);
    socket.on("connect", () => {
      socket.write(fromLatin1(bytes));
    });
    socket.on("data", (chunk: Buffer) => {
      received += toLatin1(chunk);
      clearTimeout(quietTimer);
      const parsed = parseResponses(received);
      if (parsed.isSettled || parsed.notHttp !== undefined) {
        quietTimer = setTimeout(() => {
          finish(false);
        }, timing.quietMs);
      }
    });
    socket.on("end", () => {
      closedByProxy = true;
      finish(false);
    });
    socket.on("error", () => {
      closedByProxy = true;
      finish(false);
    });
  });
}

interface ParsedResponses {
  statuses: number[];
  informational: number[];
  /** At least one final response, and every response received is complete. */
  isSettled: boolean;
  notHttp: string | undefined;
}

/** Reads responses in sequence; a body without length runs to the end of what was received. */
export function parseResponses(buffer: string): ParsedResponses {
  const statuses: number[] = [];
  const informational: number[] = [];
  let at = 0;
  for (;;) {
    if (at >= buffer.length) {
      return { statuses, informational, isSettled: statuses.length > 0, notHttp: undefined };
    }
    const rest = buffer.slice(at);
    const statusLine = /^HTTP\/\d\.\d (\d{3})[^\r\n]*\r?\n/.exec(rest);
    if (statusLine === null) {
      if (!rest.includes("\n") && "HTTP/".startsWith(rest.slice(0, 5))) {
        return { statuses, informational, isSettled: false, notHttp: undefined };
      }
      return { statuses, informational, isSettled: false, notHttp: rest };
    }
    const headEnd = rest.indexOf("\r\n\r\n");
    if (headEnd === -1) return { statuses, informational, isSettled: false, notHttp: undefined };
    const status = Number(statusLine[1]);
    const head = rest.slice(0, headEnd).toLowerCase();
    const bodyStart = at + headEnd + 4;
    if (status < 200) {
      informational.push(status);
      at = bodyStart;
      continue;
    }
    statuses.push(status);
    const length = /\ncontent-length:[ \t]*(\d+)/.exec(head)?.[1];
    if (status === 204 || status === 304) {
      at = bodyStart;
    } else if (length !== undefined) {
      const end = bodyStart + Number(length);
      if (buffer.length < end)
        return { statuses, informational, isSettled: false, notHttp: undefined };
      at = end;
    } else if (/\ntransfer-encoding:[^\n]*chunked/.test(head)) {
      const end = chunkedEnd(buffer, bodyStart);
      if (end === -1) return { statuses, informational, isSettled: false, notHttp: undefined };
      at = end;
    } else {
      // Delimited by the close: complete only when the proxy closes.
      return { statuses, informational, isSettled: false, notHttp: undefined };
    }
  }
}

/** End of a chunked body starting at `from`, or -1 when it has not all arrived. */
function chunkedEnd(buffer: string, from: number): number {
  let at = from;
  for (;;) {
    const lineEnd = buffer.indexOf("\r\n", at);
    if (lineEnd === -1) return -1;
    const size = Number.parseInt(buffer.slice(at, lineEnd), 16);
    if (Number.isNaN(size)) return -1;
    if (size === 0) {
      const end = buffer.indexOf("\r\n\r\n", lineEnd);
      return end === -1 ? -1 : end + 4;
    }
    at = lineEnd + 2 + size + 2;
    if (at > buffer.length) return -1;
  }
}
