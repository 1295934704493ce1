/**
 * Latency at a fixed rate below saturation (half of switchyard's by default), direct and
 * through switchyard, alternating over the rounds: what a request pays for the extra hop when
 * the proxy is not the bottleneck. Driven by bench/open-loop-client.ts, whose latencies count
 * from each request's due time (see bench/README.md for why not autocannon `-R`).
 */
import { join } from "node:path";
import { runToEnd } from "./child-processes.ts";
import type { CpuLayout } from "./cpu-layout.ts";
import { sleep } from "./loopback.ts";
import type { OpenLoopResult } from "./open-loop-client.ts";
import { median } from "./stats.ts";
import type { RunningServer } from "./targets.ts";

const CLIENT_SCRIPT = join(import.meta.dirname, "open-loop-client.ts");
const PAUSE_BETWEEN_RUNS_MS = 500;
const BEHIND_SHARE = 0.95;

export interface FixedRateTarget {
  name: string;
  /** Medians over the rounds. */
  p50Ms: number;
  p99Ms: number;
  p999Ms: number;
  serviceP50Ms: number;
  serviceP99Ms: number;
  /** Summed over the rounds. */
  errors: number;
  /** Rounds in which the target answered less than 95% of the rate (it fell behind). */
  roundsBehind: number;
  rounds: OpenLoopResult[];
}

export interface FixedRateResult {
  ratePerSecond: number;
  /** Where the rate came from: "half of switchyard's saturation" or "--rate". */
  rateSource: string;
  durationSeconds: number;
  connections: number;
  rounds: number;
  targets: FixedRateTarget[];
  /** switchyard minus direct, from the medians. */
  addedP50Ms: number;
  addedP99Ms: number;
}

export interface FixedRateSettings {
  ratePerSecond: number;
  rateSource: string;
  durationSeconds: number;
  connections: number;
  rounds: number;
}

export async function runFixedRate(
  direct: RunningServer,
  switchyard: RunningServer,
  settings: FixedRateSettings,
  layout: CpuLayout,
  log: (line: string) => void,
): Promise<FixedRateResult> {
  const targets = [direct, switchyard];
  const results = new Map<string, OpenLoopResult[]>(targets.map((t) => [t.name, []]));
  for (let round = 1; round <= settings.rounds; round++) {
    for (const target of round % 2 === 1 ? targets : [...targets].reverse()) {
      const result = await runClient(target.url, settings, layout);
      results.get(target.name)?.push(result);
      log(
        `fixed rate ${settings.ratePerSecond}/s round ${round}/${settings.rounds} ${target.name}: ` +
          `p50 ${result.p50Ms.toFixed(2)} ms, p99 ${result.p99Ms.toFixed(2)} ms, ` +
          `answered ${result.achievedRatePerSecond.toFixed(0)}/s, errors ${result.errors}`,
      );
      await sleep(PAUSE_BETWEEN_RUNS_MS);
    }
  }
  const summaries = targets.map((target) => summarise(target.name, results.get(target.name) ?? []));
  const [directSummary, switchyardSummary] = summaries;
  return {
    ratePerSecond: settings.ratePerSecond,
    rateSource: settings.rateSource,
    durationSeconds: settings.durationSeconds,
    connections: settings.connections,
    rounds: settings.rounds,
    targets: summaries,
    addedP50Ms: (switchyardSummary?.p50Ms ?? Number.NaN) - (directSummary?.p50Ms ?? Number.NaN),
    addedP99Ms: (switchyardSummary?.p99Ms ?? Number.NaN) - (directSummary?.p99Ms ?? Number.NaN),
  };
}

async function runClient(
  url: string,
  settings: FixedRateSettings,
  layout: CpuLayout,
): Promise<OpenLoopResult> {
  const args = [
    CLIENT_SCRIPT,
    "--url",
    url,
    "--rate",
    String(settings.ratePerSecond),
    "--duration",
    String(settings.durationSeconds),
    "--connections",
    String(settings.connections),
  ];
  const timeoutMs = (settings.durationSeconds + 30) * 1000;
  const stdout = await runToEnd(
    "open-loop client",
    layout.wrap("load", process.execPath, args),
    timeoutMs,
  );
  return JSON.parse(stdout.trim().split("\n").pop() ?? "") as OpenLoopResult;
}

function summarise(name: string, rounds: OpenLoopResult[]): FixedRateTarget {
  const of = (pick: (r: OpenLoopResult) => number): number => median(rounds.map(pick));
  return {
    name,
    p50Ms: of((r) => r.p50Ms),
    p99Ms: of((r) => r.p99Ms),
    p999Ms: of((r) => r.p999Ms),
    serviceP50Ms: of((r) => r.serviceP50Ms),
    serviceP99Ms: of((r) => r.serviceP99Ms),
    errors: rounds.reduce((sum, r) => sum + r.errors, 0),
    roundsBehind: rounds.filter((r) => r.achievedRatePerSecond < BEHIND_SHARE * r.ratePerSecond)
      .length,
    rounds,
  };
}
