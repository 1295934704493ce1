/** The deterministic byte stream the echo backend's `/bytes/N` sends, and its checksum. */
import { createHash } from "node:crypto";
import type { ServerResponse } from "node:http";

/** Size of the chunks `/bytes/N` writes; also the period of its byte pattern. */
export const BYTES_CHUNK_SIZE = 64 * 1024;
const PATTERN_CHUNK = Buffer.alloc(
  BYTES_CHUNK_SIZE,
  (() => {
    const pattern = Buffer.alloc(256);
    for (let i = 0; i < 256; i++) pattern[i] = i;
    return pattern;
  })(),
);

/** The SHA-256 (hex) of the body `/bytes/N` sends, computed without holding it in memory. */
export function bytesBodySha256(byteCount: number): string {
  const hash = createHash("sha256");
  for (let left = byteCount; left > 0; left -= BYTES_CHUNK_SIZE) {
    hash.update(PATTERN_CHUNK.subarray(0, Math.min(left, BYTES_CHUNK_SIZE)));
  }
  return hash.digest("hex");
}

/** What happens after the first chunk of a `/bytes/N` answer: a pause, then maybe a reset. */
export interface MidBodyBreak {
  /** How long to wait before going on (or resetting). */
  pauseMs: number;
  /** Reset the connection (TCP RST) instead of sending the rest: an upstream dying mid-body. */
  isReset: boolean;
  /** Runs `action` after `delayMs` (the backend keeps track of its timers). */
  later: (delayMs: number, action: () => void) => void;
}

export interface PatternBytesOptions {
  /** No Content-Length: chunked framing. */
  isChunked: boolean;
  /** Told the size of each chunk handed to `res.write`. */
  onWrite?: (bytes: number) => void;
  /** Applied once, after the first chunk, when more is left to send. */
  midBodyBreak?: MidBodyBreak;
}

/** Writes `byteCount` pattern bytes in 64 KiB chunks, waiting for 'drain' when asked to. */
export function sendPatternBytes(
  res: ServerResponse,
  byteCount: number,
  options: PatternBytesOptions,
): void {
  const { isChunked, onWrite } = options;
  let midBodyBreak = options.midBodyBreak;
  const headers: Record<string, string | number> = { "content-type": "application/octet-stream" };
  if (!isChunked) headers["content-length"] = byteCount;
  res.writeHead(200, headers);
  let left = byteCount;
  const writeSome = (): void => {
    while (left > 0) {
      if (res.destroyed) return;
      const size = Math.min(left, BYTES_CHUNK_SIZE);
      left -= size;
      const chunk = size === BYTES_CHUNK_SIZE ? PATTERN_CHUNK : PATTERN_CHUNK.subarray(0, size);
      onWrite?.(size);
      const isFlowing = res.write(chunk);
      if (midBodyBreak !== undefined && left > 0) {
        breakMidBody(res, midBodyBreak, writeSome);
        midBodyBreak = undefined;
        return;
      }
      if (!isFlowing) {
        res.once("drain", writeSome);
        return;
      }
    }
    res.end();
  };
  writeSome();
}

function breakMidBody(res: ServerResponse, midBodyBreak: MidBodyBreak, goOn: () => void): void {
  midBodyBreak.later(midBodyBreak.pauseMs, () => {
    if (res.destroyed) return;
    if (midBodyBreak.isReset) res.socket?.resetAndDestroy();
    else goOn();
  });
}
