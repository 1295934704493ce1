/**
 * The refusal log writes one warn line at most per second during a flood, each with how many
 * connections were refused since the previous line, and loses none of them.
 */
import { describe, expect, it } from "vitest";
import { REFUSAL_LOG_INTERVAL_MS, RefusalLog } from "../../../src/net/refusal-log.ts";
import { createCapturedLogger } from "../../support/captured-logger.ts";
import { ManualClock } from "../../support/manual-clock.ts";

function setup(maxConnections = 100) {
  const clock = new ManualClock();
  const { logger, lines } = createCapturedLogger();
  const log = new RefusalLog({ listener: "proxy", logger, clock }, maxConnections);
  const refusedPerLine = (): number[] => lines.map((line) => Number(line["refused"]));
  return { clock, log, lines, refusedPerLine };
}

function refuse(log: RefusalLog, times: number): void {
  for (let i = 0; i < times; i += 1) log.refused();
}

describe("RefusalLog", () => {
  it("logs the first refusal at once, as a warn line naming the listener and its limit", () => {
    const { log, lines } = setup(100);
    log.refused();
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      level: "warn",
      listener: "proxy",
      refused: 1,
      maxConnections: 100,
    });
  });

  it("gathers the refusals of the next second into one line written when it ends", () => {
    const { clock, log, refusedPerLine } = setup();
    log.refused();
    clock.advance(10);
    refuse(log, 499);
    clock.advance(REFUSAL_LOG_INTERVAL_MS - 20);
    expect(refusedPerLine()).toEqual([1]);
    clock.advance(10);
    expect(refusedPerLine()).toEqual([1, 499]);
  });

  it("writes at most one line per interval through a long flood, and counts every refusal", () => {
    const { clock, log, refusedPerLine } = setup();
    const seconds = 5;
    for (let ms = 0; ms < seconds * REFUSAL_LOG_INTERVAL_MS; ms += 10) {
      refuse(log, 3);
      clock.advance(10);
    }
    log.flush();
    const counts = refusedPerLine();
    expect(counts.length).toBeLessThanOrEqual(seconds + 1);
    expect(counts.reduce((sum, count) => sum + count, 0)).toBe(seconds * 100 * 3);
  });

  it("logs at once again after a quiet interval, and writes nothing while there is nothing", () => {
    const { clock, log, refusedPerLine } = setup();
    log.refused();
    clock.advance(REFUSAL_LOG_INTERVAL_MS * 10);
    expect(refusedPerLine()).toEqual([1]);
    log.refused();
    expect(refusedPerLine()).toEqual([1, 1]);
  });

  it("writes what is pending on flush and schedules nothing more", () => {
    const { clock, log, refusedPerLine } = setup();
    refuse(log, 3);
    log.flush();
    expect(refusedPerLine()).toEqual([1, 2]);
    expect(clock.pendingCount).toBe(0);
    log.flush();
    expect(refusedPerLine()).toEqual([1, 2]);
  });

  it("logs the limit in force when it changes", () => {
    const { log, lines } = setup(100);
    log.maxConnections = 50;
    log.refused();
    expect(lines[0]?.["maxConnections"]).toBe(50);
  });
});
