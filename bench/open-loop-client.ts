/**
 * A fixed-rate (open-loop) load generator, run as its own process by the bench:
 *
 *   node bench/open-loop-client.ts --url URL --rate N --duration S --connections C
 *
 * Request i is due at start + i/rate whatever happened to the earlier ones, and its latency is
 * measured from that due time, not from when it was actually written: a stall that delays later
 * sends shows up in their latency (no coordinated omission), as in wrk2. The time from the
 * actual write is reported too ("service" latency). Prints one JSON line (OpenLoopResult).
 */
import { parseArgs } from "node:util";
import { Pool } from "undici";
import { percentile } from "./stats.ts";

export interface OpenLoopResult {
  ratePerSecond: number;
  durationSeconds: number;
  /** Measured requests (warm-up excluded) and how many of them got a 2xx. */
  sent: number;
  ok: number;
  errors: number;
  /**
   * Answers per second from the first measured due time to the last answer: below the rate
   * when the target fell behind and the queue grew (latency then grows without bound).
   */
  achievedRatePerSecond: number;
  /** Latency from each request's due time, in ms. */
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  p999Ms: number;
  maxMs: number;
  /** Latency from the actual write, in ms. */
  serviceP50Ms: number;
  serviceP99Ms: number;
}

const WARMUP_SECONDS = 1;
const TICK_MS = 1;
const DRAIN_TIMEOUT_MS = 10_000;

const { values } = parseArgs({
  options: {
    url: { type: "string", default: "http://127.0.0.1:8080/" },
    rate: { type: "string", default: "1000" },
    duration: { type: "string", default: "10" },
    connections: { type: "string", default: "50" },
  },
});
const target = new URL(values.url);
const ratePerSecond = Number(values.rate);
const durationSeconds = Number(values.duration);
const pool = new Pool(target.origin, { connections: Number(values.connections), pipelining: 1 });
const path = `${target.pathname}${target.search}`;

const warmupCount = Math.round(ratePerSecond * WARMUP_SECONDS);
const measuredCount = Math.round(ratePerSecond * durationSeconds);
const totalCount = warmupCount + measuredCount;
const intervalMs = 1000 / ratePerSecond;
const fromDueMs = new Float64Array(measuredCount);
const fromWriteMs = new Float64Array(measuredCount);
let recorded = 0;
let ok = 0;
let errors = 0;
let finished = 0;
let sent = 0;
let startMs = 0;
let lastDoneMs = 0;
let onAllFinished: (() => void) | undefined;

function fire(index: number): void {
  const dueMs = startMs + index * intervalMs;
  const writtenMs = performance.now();
  pool.request({ path, method: "GET" }).then(
    async ({ statusCode, body }) => {
      await body.dump();
      const doneMs = performance.now();
      if (index >= warmupCount) {
        lastDoneMs = doneMs;
        fromDueMs[recorded] = doneMs - dueMs;
        fromWriteMs[recorded] = doneMs - writtenMs;
        recorded++;
        if (statusCode >= 200 && statusCode < 300) ok++;
        else errors++;
      }
      settle();
    },
    () => {
      if (index >= warmupCount) errors++;
      settle();
    },
  );
}

function settle(): void {
  finished++;
  if (finished === totalCount) onAllFinished?.();
}

function tick(): void {
  const dueCount = Math.min(totalCount, Math.floor((performance.now() - startMs) / intervalMs) + 1);
  while (sent < dueCount) fire(sent++);
  if (sent < totalCount) setTimeout(tick, TICK_MS);
}

async function main(): Promise<void> {
  const allFinished = new Promise<void>((resolve) => {
    onAllFinished = resolve;
  });
  startMs = performance.now();
  tick();
  const deadline = new Promise<void>((resolve) => {
    setTimeout(resolve, (WARMUP_SECONDS + durationSeconds) * 1000 + DRAIN_TIMEOUT_MS).unref();
  });
  await Promise.race([allFinished, deadline]);
  const unanswered = totalCount - finished;
  const answered = fromDueMs.subarray(0, recorded);
  const answeredFromWrite = fromWriteMs.subarray(0, recorded);
  const measuredSeconds = (lastDoneMs - (startMs + warmupCount * intervalMs)) / 1000;
  const result: OpenLoopResult = {
    ratePerSecond,
    durationSeconds,
    sent: measuredCount,
    ok,
    errors: errors + unanswered,
    achievedRatePerSecond: measuredSeconds > 0 ? recorded / measuredSeconds : 0,
    p50Ms: percentile(answered, 50),
    p90Ms: percentile(answered, 90),
    p99Ms: percentile(answered, 99),
    p999Ms: percentile(answered, 99.9),
    maxMs: percentile(answered, 100),
    serviceP50Ms: percentile(answeredFromWrite, 50),
    serviceP99Ms: percentile(answeredFromWrite, 99),
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
  await pool.destroy();
}

await main();
