/**
 * The fleet's window for one (route, upstream), summed from the seconds members pushed
 * (SPEC 10): counts and latency buckets add up, percentiles are read from the summed
 * buckets (never averaged). A second a member should have pushed but did not is reported
 * as missing, so the decider can tell a quiet window from an incomplete one. Pure.
 */
import { LATENCY_BUCKET_COUNT } from "../rollout/latency-histogram.ts";
import type { MissingSeconds, WindowSummary } from "../rollout/rollout-types.ts";
import type { SecondCounts } from "../rollout/second-counts.ts";
import { summaryOf } from "../rollout/window-stats.ts";

/** A fleet member as membership reports it; its seconds are expected in [joined, left). */
export interface FleetMember {
  replica: string;
  /** The first fleet second it pushes (its pusher's `firstSecond`). */
  joinedAtSecond: number;
  /** The fleet second it left in, not expected any more; absent while it is a member. */
  leftAtSecond?: number;
}

/** Pushed seconds: replica -> fleet second -> `<route>/<upstream>` -> counts. */
export type PushedSeconds = ReadonlyMap<
  string,
  ReadonlyMap<number, ReadonlyMap<string, SecondCounts>>
>;

export interface FleetWindowInput {
  pushed: PushedSeconds;
  members: readonly FleetMember[];
  route: string;
  upstream: string;
  /** Inclusive fleet seconds. */
  firstSecond: number;
  lastSecond: number;
}

export function seriesField(route: string, upstream: string): string {
  return `${route}/${upstream}`;
}

/** The seconds of [first, last] a member is expected to have pushed. */
export function expectedRange(
  member: FleetMember,
  firstSecond: number,
  lastSecond: number,
): [number, number] {
  const from = Math.max(firstSecond, member.joinedAtSecond);
  const to = Math.min(lastSecond, (member.leftAtSecond ?? Infinity) - 1);
  return [from, to];
}

export function summarizeFleetWindow(input: FleetWindowInput): WindowSummary {
  const field = seriesField(input.route, input.upstream);
  const counts = new Float64Array(LATENCY_BUCKET_COUNT);
  let requests = 0;
  let failures = 0;
  const missing: MissingSeconds[] = [];
  for (const member of input.members) {
    const [from, to] = expectedRange(member, input.firstSecond, input.lastSecond);
    if (to < from) continue;
    const seconds = input.pushed.get(member.replica);
    let absent = 0;
    for (let second = from; second <= to; second++) {
      const pushed = seconds?.get(second);
      if (pushed === undefined) {
        absent++;
        continue;
      }
      const record = pushed.get(field);
      if (record === undefined) continue;
      requests += record.attempts;
      failures += record.failures;
      for (const [bucket, count] of record.buckets) counts[bucket] = (counts[bucket] ?? 0) + count;
    }
    if (absent > 0) missing.push({ replica: member.replica, seconds: absent, of: to - from + 1 });
  }
  return { ...summaryOf(requests, failures, counts), missing };
}
