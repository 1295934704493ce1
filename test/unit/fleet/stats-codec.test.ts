/** The replica-second hash: round trip, every corruption reported and skipped. */
import { describe, expect, it } from "vitest";
import type { SecondCounts } from "../../../src/rollout/second-counts.ts";
import {
  decodeSecond,
  encodeSecond,
  STATS_TTL_MARGIN_SECONDS,
  statsTtlSeconds,
} from "../../../src/fleet/stats-codec.ts";

const RECORDS: SecondCounts[] = [
  {
    route: "web",
    upstream: "canary",
    attempts: 12,
    failures: 3,
    buckets: [
      [0, 1],
      [40, 9],
      [255, 1],
    ],
  },
  { route: "api.v2", upstream: "stable_1", attempts: 2, failures: 2, buckets: [] },
];

describe("stats codec", () => {
  it("round-trips a second", () => {
    const hash = encodeSecond(RECORDS);
    expect(hash).toEqual({ v: "1", "web/canary": "12,3,0:1,40:9,255:1", "api.v2/stable_1": "2,2" });
    expect(decodeSecond(hash)).toEqual({ records: RECORDS, corrupt: [] });
  });

  it("marks a second without traffic as pushed", () => {
    expect(decodeSecond(encodeSecond([]))).toEqual({ records: [], corrupt: [] });
  });

  it("tells a missing second (empty hash) from a pushed one", () => {
    expect(decodeSecond({})).toBeUndefined();
  });

  it("reports and skips corrupt fields, keeping the rest", () => {
    const good = encodeSecond(RECORDS.slice(0, 1));
    const corrupt = {
      "web/a": "x,1",
      "web/b": "1,2",
      "web/c": "3,0,5:1,4:1",
      "web/d": "3,0,256:1",
      "web/e": "3,0,5:0",
      "web/f": "1,0,5:2",
      "web/g": "01,0",
      "web/h": "1,0,5:1:1",
      "web/i": "",
      noslash: "1,0",
      "a/b/c": "1,0",
      "/b": "1,0",
    };
    const decoded = decodeSecond({ ...good, ...corrupt });
    expect(decoded?.records).toEqual(RECORDS.slice(0, 1));
    expect(decoded?.corrupt.sort()).toEqual(Object.keys(corrupt).sort());
  });

  it("treats every field of an unknown version as corrupt", () => {
    expect(decodeSecond({ v: "2", "web/canary": "1,0" })).toEqual({
      records: [],
      corrupt: ["web/canary"],
    });
  });

  it("keeps a second for the longest window plus a margin", () => {
    expect(statsTtlSeconds(300_000)).toBe(300 + STATS_TTL_MARGIN_SECONDS);
    expect(statsTtlSeconds(1500)).toBe(2 + STATS_TTL_MARGIN_SECONDS);
    expect(statsTtlSeconds(0)).toBe(STATS_TTL_MARGIN_SECONDS);
  });
});
