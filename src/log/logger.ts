/**
 * Structured JSON logs (pino). Components take a Logger through their options so tests can
 * pass a silent one; the hot path only logs on transitions and errors.
 */
import { pino, type Logger as PinoLogger } from "pino";

export type Logger = PinoLogger;

export interface LoggerOptions {
  level?: string;
  destination?: NodeJS.WritableStream;
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const level = options.level ?? process.env.SWITCHYARD_LOG_LEVEL ?? "info";
  return pino(
    {
      level,
      base: { service: "switchyard" },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    options.destination ?? pino.destination({ sync: false }),
  );
}

export function createSilentLogger(): Logger {
  return pino({ level: "silent" });
}
