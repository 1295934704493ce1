/**
 * One replica-second of window statistics as a Redis hash (key `stats(replica, second)`):
 * field `v` holds the encoding's version and is always there, so a second without traffic
 * still says "pushed"; each (route, upstream) with traffic is one field `<route>/<upstream>`
 * (names never contain "/") holding `attempts,failures,bucket:count,...` in decimal, buckets
 * by increasing index. About 10 bytes per distinct latency bucket, no percentiles.
 */
import { LATENCY_BUCKET_COUNT } from "../rollout/latency-histogram.ts";
import type { SecondCounts } from "../rollout/second-counts.ts";

export const STATS_VERSION_FIELD = "v";
export const STATS_VERSION = "1";
/** Kept this much longer than the longest window: a late reader still finds a whole window. */
export const STATS_TTL_MARGIN_SECONDS = 60;

export interface DecodedSecond {
  records: SecondCounts[];
  /** Fields that did not decode (skipped), for a counter and a log line. */
  corrupt: string[];
}

/** How long a pushed second lives: the longest window plus a margin. */
export function statsTtlSeconds(longestWindowMs: number): number {
  const windowSeconds = Math.ceil(longestWindowMs / 1000);
  return (
    (Number.isFinite(windowSeconds) && windowSeconds > 0 ? windowSeconds : 0) +
    STATS_TTL_MARGIN_SECONDS
  );
}

export function encodeSecond(records: readonly SecondCounts[]): Record<string, string> {
  const hash: Record<string, string> = { [STATS_VERSION_FIELD]: STATS_VERSION };
  for (const record of records) {
    const parts = [String(record.attempts), String(record.failures)];
    for (const [bucket, count] of record.buckets) parts.push(`${String(bucket)}:${String(count)}`);
    hash[`${record.route}/${record.upstream}`] = parts.join(",");
  }
  return hash;
}

/**
 * A pushed second, or undefined when the hash is not one (no version field: never pushed, or
 * expired). A field that does not decode is reported and skipped; an unknown version makes
 * every field corrupt.
 */
export function decodeSecond(hash: Readonly<Record<string, string>>): DecodedSecond | undefined {
  const version = hash[STATS_VERSION_FIELD];
  if (version === undefined) return undefined;
  const decoded: DecodedSecond = { records: [], corrupt: [] };
  for (const [field, value] of Object.entries(hash)) {
    if (field === STATS_VERSION_FIELD) continue;
    const record = version === STATS_VERSION ? decodeField(field, value) : undefined;
    if (record === undefined) decoded.corrupt.push(field);
    else decoded.records.push(record);
  }
  return decoded;
}

function decodeField(field: string, value: string): SecondCounts | undefined {
  const slash = field.indexOf("/");
  if (slash <= 0 || slash === field.length - 1 || field.indexOf("/", slash + 1) !== -1) {
    return undefined;
  }
  const [attemptsText, failuresText, ...bucketTexts] = value.split(",");
  const attempts = count(attemptsText);
  const failures = count(failuresText);
  if (attempts === undefined || failures === undefined || failures > attempts) return undefined;
  const buckets: SecondCounts["buckets"] = [];
  let timed = 0;
  let previous = -1;
  for (const text of bucketTexts) {
    const [bucketText, countText, extra] = text.split(":");
    const bucket = count(bucketText);
    const bucketCount = count(countText);
    if (bucket === undefined || bucketCount === undefined || extra !== undefined) return undefined;
    if (bucket <= previous || bucket >= LATENCY_BUCKET_COUNT || bucketCount === 0) return undefined;
    previous = bucket;
    timed += bucketCount;
    buckets.push([bucket, bucketCount]);
  }
  // Unserved attempts have no latency, so buckets never hold more than the attempts.
  if (timed > attempts) return undefined;
  return {
    route: field.slice(0, slash),
    upstream: field.slice(slash + 1),
    attempts,
    failures,
    buckets,
  };
}

/** A non-negative decimal integer, exactly as encoded. */
function count(text: string | undefined): number | undefined {
  if (text === undefined || !/^(0|[1-9][0-9]{0,14})$/.test(text)) return undefined;
  return Number(text);
}
