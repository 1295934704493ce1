/**
 * High concurrency: every target under wrk with many connections (1,000 by default), in
 * rounds that alternate like the saturation rounds, after a warm-up each. It shows what a
 * target does when far more clients wait than it can serve at once: latency, the requests
 * that waited past wrk's 2 s timeout, refused or reset connections, and the memory it takes.
 */
import type { CpuLayout } from "./cpu-layout.ts";
import { runAlternatingRounds } from "./alternating-rounds.ts";
import { median, ratio } from "./stats.ts";
import type { RunningServer } from "./targets.ts";
import { runWrk, WRK_THREADS, WRK_TIMEOUT_SECONDS, type WrkResult } from "./wrk-run.ts";

export interface HighConcurrencyRound extends WrkResult {
  round: number;
}

export interface HighConcurrencyTarget {
  name: string;
  isPinned: boolean;
  isProcessTree: boolean;
  /** Medians over the rounds, from here to rssMbAtEnd. */
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Requests that waited past wrk's timeout (2 s): they are not in the latencies. */
  timeouts: number;
  /** wrk's connect, read and write errors together. */
  otherSocketErrors: number;
  /** Answers with a status of 400 or above (wrk's "Non-2xx or 3xx responses"). */
  non2xxOr3xx: number;
  /** CPU time of the target (its process tree for workers) per completed request. */
  cpuMicrosPerRequest: number | null;
  rssMbAtEnd: number | null;
  /** Median req/s divided by haproxy's and switchyard's (null when that one did not run). */
  ratioToHaproxy: number | null;
  ratioToSwitchyard: number | null;
  rounds: HighConcurrencyRound[];
}

export interface HighConcurrencyResult {
  wrk: string;
  connections: number;
  threads: number;
  timeoutSeconds: number;
  durationSeconds: number;
  rounds: number;
  targets: HighConcurrencyTarget[];
}

export interface HighConcurrencySettings {
  wrk: string;
  connections: number;
  durationSeconds: number;
  rounds: number;
}

export async function runHighConcurrency(
  targets: readonly RunningServer[],
  settings: HighConcurrencySettings,
  layout: CpuLayout,
  log: (line: string) => void,
): Promise<HighConcurrencyResult> {
  const load = (target: RunningServer, seconds: number): Promise<WrkResult> =>
    runWrk(
      { url: target.url, connections: settings.connections, durationSeconds: seconds },
      layout,
      target.measured,
    );
  const records = await runAlternatingRounds(
    targets,
    {
      rounds: settings.rounds,
      durationSeconds: settings.durationSeconds,
      label: "high concurrency ",
    },
    load,
    (result) =>
      `${result.requestsPerSecond.toFixed(0)} req/s, p99 ${result.p99Ms.toFixed(1)} ms, ` +
      `timeouts ${result.timeouts}`,
    log,
  );
  return {
    wrk: settings.wrk,
    connections: settings.connections,
    threads: WRK_THREADS,
    timeoutSeconds: WRK_TIMEOUT_SECONDS,
    durationSeconds: settings.durationSeconds,
    rounds: settings.rounds,
    targets: withRatios(targets.map((t) => summarise(t, records.get(t.name) ?? []))),
  };
}

function summarise(target: RunningServer, rounds: HighConcurrencyRound[]): HighConcurrencyTarget {
  const of = (pick: (r: HighConcurrencyRound) => number): number => median(rounds.map(pick));
  const ofMeasured = (pick: (r: HighConcurrencyRound) => number | undefined): number | null => {
    const values = rounds.map(pick);
    return values.every((v) => v !== undefined) && values.length > 0 ? median(values) : null;
  };
  return {
    name: target.name,
    isPinned: target.isPinned,
    isProcessTree: target.measured.includesDescendants,
    requestsPerSecond: of((r) => r.requestsPerSecond),
    p50Ms: of((r) => r.p50Ms),
    p99Ms: of((r) => r.p99Ms),
    maxMs: of((r) => r.maxMs),
    timeouts: of((r) => r.timeouts),
    otherSocketErrors: of((r) => r.connectErrors + r.readErrors + r.writeErrors),
    non2xxOr3xx: of((r) => r.non2xxOr3xx),
    cpuMicrosPerRequest: ofMeasured((r) => r.cpuMicrosPerRequest),
    rssMbAtEnd: ofMeasured((r) => r.rssMbAtEnd),
    ratioToHaproxy: null,
    ratioToSwitchyard: null,
    rounds,
  };
}

function withRatios(summaries: HighConcurrencyTarget[]): HighConcurrencyTarget[] {
  const rateOf = (name: string): number | undefined =>
    summaries.find((s) => s.name === name)?.requestsPerSecond;
  const haproxy = rateOf("haproxy");
  const switchyard = rateOf("switchyard");
  return summaries.map((s) => ({
    ...s,
    ratioToHaproxy: ratio(s.requestsPerSecond, haproxy),
    ratioToSwitchyard: ratio(s.requestsPerSecond, switchyard),
  }));
}
