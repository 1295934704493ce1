import { describe, expect, it } from "vitest";
import { Z_95, differenceInterval, wilsonInterval } from "../../../src/rollout/confidence.ts";
import { formatCount, formatDurationMs, formatNumber } from "../../../src/rollout/decision-text.ts";

describe("wilsonInterval", () => {
  // Reference values: Newcombe (1998), "Two-sided confidence intervals for the single
  // proportion", Table I (method 3), and the standard textbook example 81/263.
  it.each([
    [81, 263, 0.2553, 0.3662],
    [1, 10, 0.0179, 0.4042],
    [5, 10, 0.2366, 0.7634],
    [0, 10, 0, 0.2775],
    [10, 10, 0.7225, 1],
    [0, 1, 0, 0.7935],
    [80, 200, 0.3346, 0.4692],
    [12, 200, 0.0347, 0.1019],
  ])("%i of %i -> [%f, %f]", (successes, trials, lower, upper) => {
    const interval = wilsonInterval(successes, trials);
    expect(interval.lower).toBeCloseTo(lower, 4);
    expect(interval.upper).toBeCloseTo(upper, 4);
  });

  it("stays inside [0, 1] at the edges", () => {
    expect(wilsonInterval(0, 1_000_000).lower).toBe(0);
    expect(wilsonInterval(1_000_000, 1_000_000).upper).toBeLessThanOrEqual(1);
    expect(wilsonInterval(1_000_000, 1_000_000).upper).toBeGreaterThan(0.999_99);
  });

  it("knows nothing without trials", () => {
    expect(wilsonInterval(0, 0)).toEqual({ lower: 0, upper: 1 });
    expect(wilsonInterval(0, Number.NaN)).toEqual({ lower: 0, upper: 1 });
  });

  it("narrows as trials grow around the same rate", () => {
    const widths = [100, 1000, 10_000].map((n) => {
      const interval = wilsonInterval(n * 0.06, n);
      return interval.upper - interval.lower;
    });
    expect(widths[0]).toBeGreaterThan(widths[1] ?? 1);
    expect(widths[1]).toBeGreaterThan(widths[2] ?? 1);
  });

  it("uses the two-sided 95% quantile", () => {
    expect(Z_95).toBeCloseTo(1.96, 2);
  });
});

describe("differenceInterval", () => {
  // Reference values: Newcombe (1998), "Interval estimation for the difference between
  // independent proportions", Table II (method 10).
  it.each([
    [56, 70, 48, 80, 0.0524, 0.3339],
    [9, 10, 3, 10, 0.1705, 0.809],
    [5, 56, 0, 29, -0.0381, 0.1926],
    [80, 200, 20, 2000, 0.3244, 0.4593],
  ])("%i/%i - %i/%i -> [%f, %f]", (x1, n1, x2, n2, lower, upper) => {
    const interval = differenceInterval(x1, n1, x2, n2);
    expect(interval.lower).toBeCloseTo(lower, 4);
    expect(interval.upper).toBeCloseTo(upper, 4);
  });

  it("knows nothing when either side has no trials", () => {
    expect(differenceInterval(5, 10, 0, 0)).toEqual({ lower: -1, upper: 1 });
    expect(differenceInterval(0, 0, 5, 10)).toEqual({ lower: -1, upper: 1 });
  });
});

describe("decision text", () => {
  it.each([
    [300_000, "5m"],
    [120_000, "2m"],
    [90_000, "90s"],
    [3_600_000, "1h"],
    [5_400_000, "90m"],
    [1500, "1500ms"],
    [0, "0ms"],
  ])("formatDurationMs(%i) = %s", (ms, text) => {
    expect(formatDurationMs(ms)).toBe(text);
  });

  it.each([
    [0, "0"],
    [999, "999"],
    [1204, "1,204"],
    [1_234_567, "1,234,567"],
  ])("formatCount(%i) = %s", (count, text) => {
    expect(formatCount(count)).toBe(text);
  });

  it.each([
    [0.081187, [], "0.0812"],
    [0.4, [], "0.4"],
    [0, [], "0"],
    [1234.56, [], "1235"],
    [-0.0123456, [], "-0.0123"],
    // Rounding must not put the value on the threshold or across it.
    [0.94996, [0.95], "0.94996"],
    [0.050001, [0.05], "0.050001"],
    [0.05, [0.05], "0.05"],
  ])("formatNumber(%f, %o) = %s", (value, thresholds, text) => {
    expect(formatNumber(value, thresholds)).toBe(text);
  });
});
