/**
 * wrk's text report (wrk 4 with `--latency`) read into numbers. wrk prints times with a unit
 * (us, ms, s, m, h) and some counts with a metric suffix (k, M, G...), and leaves out its
 * "Socket errors" and "Non-2xx or 3xx responses" lines when those counts are zero.
 */

export interface WrkReport {
  /** Requests completed within the run. */
  requests: number;
  durationSeconds: number;
  requestsPerSecond: number;
  /** Latency of the completed requests; those that timed out are not among them. */
  p50Ms: number;
  p75Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
  connectErrors: number;
  readErrors: number;
  writeErrors: number;
  /** Requests that waited longer than `--timeout`. */
  timeouts: number;
  /** wrk's "Non-2xx or 3xx responses": answers with a status of 400 or above. */
  non2xxOr3xx: number;
}

const TIME_UNIT_MS: Record<string, number> = {
  us: 0.001,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

const METRIC_SUFFIX: Record<string, number> = { "": 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12 };

/** Reads wrk's report; throws, quoting the report, when a line it needs is missing. */
export function parseWrkReport(text: string): WrkReport {
  const need = (pattern: RegExp, what: string): RegExpExecArray => {
    const found = pattern.exec(text);
    if (found === null) throw new Error(`wrk's report has no ${what}:\n${text.slice(0, 800)}`);
    return found;
  };
  const total = need(/^[ \t]*(\S+) requests in ([^,\s]+),/m, "'N requests in T' line");
  const rate = need(/^Requests\/sec:[ \t]*(\S+)/m, "Requests/sec line");
  // Thread stats: "Latency  avg  stdev  max  +/- stdev"; the distribution header has no numbers.
  const latency = need(/^[ \t]*Latency[ \t]+\S+[ \t]+\S+[ \t]+(\d\S*)/m, "latency stats line");
  const percentile = (p: number): number =>
    parseWrkTimeMs(need(new RegExp(`^[ \\t]*${p}(?:\\.0+)?%[ \\t]+(\\S+)`, "m"), `${p}% line`)[1]);
  const socketErrors = /Socket errors:([^\n]*)/.exec(text)?.[1] ?? "";
  const socketError = (kind: string): number =>
    parseWrkCount(new RegExp(`${kind}[ \\t]+([^,\\s]+)`).exec(socketErrors)?.[1] ?? "0");
  return {
    requests: parseWrkCount(total[1]),
    durationSeconds: parseWrkTimeMs(total[2]) / 1000,
    requestsPerSecond: parseWrkCount(rate[1]),
    p50Ms: percentile(50),
    p75Ms: percentile(75),
    p90Ms: percentile(90),
    p99Ms: percentile(99),
    maxMs: parseWrkTimeMs(latency[1]),
    connectErrors: socketError("connect"),
    readErrors: socketError("read"),
    writeErrors: socketError("write"),
    timeouts: socketError("timeout"),
    non2xxOr3xx: parseWrkCount(/Non-2xx or 3xx responses:[ \t]*(\S+)/.exec(text)?.[1] ?? "0"),
  };
}

/** "620.00us", "1.65ms", "2.00s", "1.00m" in milliseconds. */
export function parseWrkTimeMs(text: string | undefined): number {
  const found = /^(\d+(?:\.\d+)?)(us|ms|s|m|h)$/.exec(text ?? "");
  const unitMs = found === null ? undefined : TIME_UNIT_MS[found[2] ?? ""];
  if (found === null || unitMs === undefined) throw new Error(`not a wrk time: "${text ?? ""}"`);
  return exact(Number(found[1]) * unitMs);
}

/** "9980", "9845.24", "5.56k", "1.20M" as a number. */
export function parseWrkCount(text: string | undefined): number {
  const found = /^(\d+(?:\.\d+)?)([kMGT]?)$/.exec(text ?? "");
  const scale = found === null ? undefined : METRIC_SUFFIX[found[2] ?? ""];
  if (found === null || scale === undefined) throw new Error(`not a wrk count: "${text ?? ""}"`);
  return exact(Number(found[1]) * scale);
}

/** Drops the binary rounding error of scaling a decimal (1.65 * 1000 is 1650.0000000000002). */
function exact(value: number): number {
  return Number(value.toPrecision(12));
}
