/**
 * The shape every closed-loop round of the bench shares: a warm-up per target, then rounds in
 * which round r starts one target later than round r-1, so slow drift on the machine hits
 * every target alike. What a round runs (autocannon, wrk) is the caller's.
 */
import { sleep } from "./loopback.ts";

const WARMUP_SECONDS = 2;
const PAUSE_BETWEEN_RUNS_MS = 500;

export interface RoundsSettings {
  rounds: number;
  durationSeconds: number;
  /** Prefixes the log lines ("high concurrency "); empty for the saturation rounds. */
  label: string;
}

/** The order of round `round` (1-based): the targets rotated by round - 1. */
export function roundOrder<T>(targets: readonly T[], round: number): T[] {
  const start = (round - 1) % Math.max(1, targets.length);
  return [...targets.slice(start), ...targets.slice(0, start)];
}

/** Each target's rounds, by name, each result with its round number. */
export async function runAlternatingRounds<T extends { name: string }, R>(
  targets: readonly T[],
  settings: RoundsSettings,
  load: (target: T, seconds: number) => Promise<R>,
  describe: (result: R) => string,
  log: (line: string) => void,
): Promise<Map<string, (R & { round: number })[]>> {
  for (const target of targets) {
    log(`${settings.label}warm-up ${target.name}`);
    await load(target, Math.min(WARMUP_SECONDS, settings.durationSeconds));
    await sleep(PAUSE_BETWEEN_RUNS_MS);
  }
  const records = new Map<string, (R & { round: number })[]>(targets.map((t) => [t.name, []]));
  for (let round = 1; round <= settings.rounds; round++) {
    for (const target of roundOrder(targets, round)) {
      const result = await load(target, settings.durationSeconds);
      records.get(target.name)?.push({ round, ...result });
      log(`${settings.label}round ${round}/${settings.rounds} ${target.name}: ${describe(result)}`);
      await sleep(PAUSE_BETWEEN_RUNS_MS);
    }
  }
  return records;
}
