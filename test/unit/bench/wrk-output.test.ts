import { describe, expect, it } from "vitest";
import { parseWrkCount, parseWrkReport, parseWrkTimeMs } from "../../../bench/wrk-output.ts";

/** As wrk 4.1 prints it when nothing failed: no socket error or status lines. */
const CLEAN = `Running 1s test @ http://127.0.0.1:18999/
  2 threads and 20 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     2.01ms    5.37ms  63.25ms   95.97%
    Req/Sec     5.56k     2.52k    9.33k    66.67%
  Latency Distribution
     50%  620.00us
     75%    1.65ms
     90%    3.41ms
     99%   33.80ms
  9980 requests in 1.01s, 1.19MB read
Requests/sec:   9845.24
Transfer/sec:      1.18MB
`;

/** An overloaded target: seconds, socket errors, error statuses. */
const OVERLOADED = `Running 10s test @ http://127.0.0.1:8080/
  2 threads and 1000 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   412.33ms  301.10ms    2.00s    71.02%
    Req/Sec     1.20k   310.55     2.01k    68.00%
  Latency Distribution
     50%  350.12ms
     75%  600.00ms
     90%  810.50ms
     99%    1.42s
  23456 requests in 10.04s, 3.10MB read
  Socket errors: connect 12, read 3, write 1, timeout 140
  Non-2xx or 3xx responses: 57
Requests/sec:   2336.25
Transfer/sec:    316.12KB
`;

describe("parseWrkReport", () => {
  it("reads a clean report, with no error lines as zero errors", () => {
    expect(parseWrkReport(CLEAN)).toEqual({
      requests: 9980,
      durationSeconds: 1.01,
      requestsPerSecond: 9845.24,
      p50Ms: 0.62,
      p75Ms: 1.65,
      p90Ms: 3.41,
      p99Ms: 33.8,
      maxMs: 63.25,
      connectErrors: 0,
      readErrors: 0,
      writeErrors: 0,
      timeouts: 0,
      non2xxOr3xx: 0,
    });
  });

  it("reads times in seconds, socket errors, timeouts and error statuses", () => {
    expect(parseWrkReport(OVERLOADED)).toMatchObject({
      requests: 23456,
      durationSeconds: 10.04,
      p99Ms: 1420,
      maxMs: 2000,
      connectErrors: 12,
      readErrors: 3,
      writeErrors: 1,
      timeouts: 140,
      non2xxOr3xx: 57,
    });
  });

  it("reads a run of minutes and counts with a metric suffix", () => {
    const long = CLEAN.replace("9980 requests in 1.01s", "1.50M requests in 2.50m");
    expect(parseWrkReport(long)).toMatchObject({ requests: 1_500_000, durationSeconds: 150 });
  });

  it("says what is missing, quoting the report, when it is not wrk's report", () => {
    expect(() => parseWrkReport("unable to connect to 127.0.0.1:1 Connection refused")).toThrow(
      /no 'N requests in T' line:\nunable to connect/,
    );
    expect(() => parseWrkReport(CLEAN.replace(/^ +99%.*$/m, ""))).toThrow(/no 99% line/);
  });
});

describe("wrk's units", () => {
  it("turns every time unit into milliseconds", () => {
    expect(parseWrkTimeMs("950.00us")).toBe(0.95);
    expect(parseWrkTimeMs("1.65ms")).toBe(1.65);
    expect(parseWrkTimeMs("2.00s")).toBe(2000);
    expect(parseWrkTimeMs("1.50m")).toBe(90_000);
    expect(parseWrkTimeMs("1.00h")).toBe(3_600_000);
  });

  it("turns plain counts and k, M, G suffixes into numbers", () => {
    expect(parseWrkCount("9980")).toBe(9980);
    expect(parseWrkCount("9845.24")).toBe(9845.24);
    expect(parseWrkCount("5.56k")).toBe(5560);
    expect(parseWrkCount("1.20M")).toBe(1_200_000);
    expect(parseWrkCount("2.00G")).toBe(2e9);
  });

  it("refuses what is not a wrk number", () => {
    expect(() => parseWrkTimeMs("12")).toThrow(/not a wrk time/);
    expect(() => parseWrkTimeMs("-nanus")).toThrow(/not a wrk time/);
    expect(() => parseWrkCount("1.2KB")).toThrow(/not a wrk count/);
  });
});
