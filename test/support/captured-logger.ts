/** A real switchyard logger whose JSON lines are kept in memory, for tests that read the log. */
import { Writable } from "node:stream";
import { createLogger, type Logger } from "../../src/log/logger.ts";
import type { LogLine } from "./switchyard-process.ts";

export interface CapturedLogger {
  readonly logger: Logger;
  /** Every line written so far, parsed. */
  readonly lines: LogLine[];
}

export function createCapturedLogger(level = "info"): CapturedLogger {
  const lines: LogLine[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const text of chunk.toString("utf8").split("\n")) {
        if (text !== "") lines.push(JSON.parse(text) as LogLine);
      }
      done();
    },
  });
  return { logger: createLogger({ level, destination }), lines };
}
