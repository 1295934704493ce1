/**
 * Saturation: closed-loop rounds against every target, alternating within one run (round r
 * starts one target later than round r-1), so slow drift on the machine hits every target
 * alike. Per target: the median of the rounds' req/s, p50 and p99, and its ratios.
 */
import { runAutocannon, type LoadResult } from "./autocannon-run.ts";
import type { CpuLayout } from "./cpu-layout.ts";
import { runAlternatingRounds } from "./alternating-rounds.ts";
import { median, ratio } from "./stats.ts";
import type { RunningServer } from "./targets.ts";

export interface RoundRecord extends LoadResult {
  round: number;
}

export interface TargetSummary {
  name: string;
  /** On its core of the layout; false when every process of it may use every core. */
  isPinned: boolean;
  /** CPU time (and RSS) summed over its process tree: the primary and its workers. */
  isProcessTree: boolean;
  /** Medians over the rounds. */
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  /** Summed over the rounds. */
  errors: number;
  /** This target's req/s divided by switchyard's (null when switchyard did not run). */
  ratioToSwitchyard: number | null;
  /** This target's req/s divided by the direct backend's (null when direct did not run). */
  ratioToDirect: number | null;
  /** Median CPU of the process under test, in % of one core. */
  processCpuPercent: number | null;
  /**
   * Median CPU time of the process under test per request, in microseconds: its cost per
   * request whether or not it was the bottleneck.
   */
  cpuMicrosPerRequest: number | null;
  /** Median busy share of the load core and of the proxy core, 0..100. */
  loadCoreBusyPercent: number | null;
  proxyCoreBusyPercent: number | null;
  /**
   * The fastest round: other work on a shared machine only ever slows a round down, so the
   * best round is the closest to the target's own cost.
   */
  bestRequestsPerSecond: number;
  bestCpuMicrosPerRequest: number | null;
  /** Best req/s divided by switchyard's best req/s. */
  bestRatioToSwitchyard: number | null;
  rounds: RoundRecord[];
}

export interface SaturationSettings {
  rounds: number;
  durationSeconds: number;
  connections: number;
}

export async function runSaturation(
  targets: readonly RunningServer[],
  settings: SaturationSettings,
  layout: CpuLayout,
  log: (line: string) => void,
): Promise<TargetSummary[]> {
  const load = (target: RunningServer, seconds: number): Promise<LoadResult> =>
    runAutocannon(
      { url: target.url, connections: settings.connections, durationSeconds: seconds },
      layout,
      target.measured,
    );
  const records = await runAlternatingRounds(
    targets,
    { rounds: settings.rounds, durationSeconds: settings.durationSeconds, label: "" },
    load,
    (result) =>
      `${result.requestsPerSecond.toFixed(0)} req/s, p99 ${result.p99Ms} ms, errors ${result.errors}`,
    log,
  );
  return summarise(targets, records, layout);
}

/** Round r starts one target later than round r-1, so drift on the machine hits all alike. */
function summarise(
  targets: readonly RunningServer[],
  records: Map<string, RoundRecord[]>,
  layout: CpuLayout,
): TargetSummary[] {
  const summaries = targets.map((target): TargetSummary => {
    const rounds = records.get(target.name) ?? [];
    const core = (cpu: number | undefined): number | null =>
      cpu === undefined ? null : median(rounds.map((r) => r.cpu.coreBusyPercent[cpu] ?? 0));
    const processCpu = rounds.map((r) => r.cpu.processPercent);
    const cpuPerRequest = rounds.map((r) => r.cpuMicrosPerRequest);
    return {
      name: target.name,
      isPinned: target.isPinned,
      isProcessTree: target.measured.includesDescendants,
      requestsPerSecond: median(rounds.map((r) => r.requestsPerSecond)),
      p50Ms: median(rounds.map((r) => r.p50Ms)),
      p99Ms: median(rounds.map((r) => r.p99Ms)),
      errors: rounds.reduce((sum, r) => sum + r.errors, 0),
      ratioToSwitchyard: null,
      ratioToDirect: null,
      processCpuPercent: processCpu.every((value) => value !== undefined)
        ? median(processCpu)
        : null,
      cpuMicrosPerRequest: cpuPerRequest.every((value) => value !== undefined)
        ? median(cpuPerRequest)
        : null,
      loadCoreBusyPercent: core(layout.loadCore),
      proxyCoreBusyPercent: core(layout.proxyCore),
      bestRequestsPerSecond: Math.max(0, ...rounds.map((r) => r.requestsPerSecond)),
      bestCpuMicrosPerRequest: cpuPerRequest.every((value) => value !== undefined)
        ? Math.min(...cpuPerRequest)
        : null,
      bestRatioToSwitchyard: null,
      rounds,
    };
  });
  const switchyard = summaries.find((s) => s.name === "switchyard")?.requestsPerSecond;
  const direct = summaries.find((s) => s.name === "direct")?.requestsPerSecond;
  const bestSwitchyard = summaries.find((s) => s.name === "switchyard")?.bestRequestsPerSecond;
  for (const summary of summaries) {
    summary.bestRatioToSwitchyard = ratio(summary.bestRequestsPerSecond, bestSwitchyard);
    summary.ratioToSwitchyard = ratio(summary.requestsPerSecond, switchyard);
    summary.ratioToDirect = ratio(summary.requestsPerSecond, direct);
  }
  return summaries;
}
