/**
 * A pino logger whose lines are kept, parsed, so a test can wait for a log line as an event
 * (the system says it did something) or check what was logged.
 */
import { Writable } from "node:stream";
import { pino } from "pino";
import type { Logger } from "../../src/log/logger.ts";

/** One log line as pino writes it (numeric levels: 20 debug, 30 info, 40 warn, 50 error). */
export interface LogEntry {
  level: number;
  msg: string;
  [field: string]: unknown;
}

export const LOG_LEVEL = { debug: 20, info: 30, warn: 40, error: 50 } as const;

export interface CapturedLogs {
  readonly logger: Logger;
  /** Every line so far, oldest first. */
  readonly entries: LogEntry[];
  /** The lines whose message is `msg`. */
  withMessage(msg: string): LogEntry[];
  /** The lines at `level` exactly. */
  atLevel(level: number): LogEntry[];
}

/** A logger at `level` (default debug) that keeps every line it writes. */
export function captureLogs(level = "debug"): CapturedLogs {
  const entries: LogEntry[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      for (const line of chunk.toString("utf8").split("\n")) {
        if (line !== "") entries.push(JSON.parse(line) as LogEntry);
      }
      callback();
    },
  });
  return {
    logger: pino({ level }, destination),
    entries,
    withMessage: (msg) => entries.filter((entry) => entry.msg === msg),
    atLevel: (wanted) => entries.filter((entry) => entry.level === wanted),
  };
}
