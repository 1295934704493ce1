import { describe, expect, it } from "vitest";
import { editDistance, suggestClosest } from "../../../src/config/suggest.ts";

describe("editDistance", () => {
  it.each([
    ["", "", 0],
    ["abc", "abc", 0],
    ["tmeouts", "timeouts", 1],
    ["timeuots", "timeouts", 1],
    ["kitten", "sitting", 3],
    ["", "abc", 3],
  ])("%j vs %j = %i", (a, b, expected) => {
    expect(editDistance(a, b)).toBe(expected);
    expect(editDistance(b, a)).toBe(expected);
  });
});

describe("suggestClosest", () => {
  const keys = [
    "endpoints",
    "healthCheck",
    "outlierDetection",
    "breaker",
    "timeouts",
    "maxConnections",
  ];

  it.each([
    ["tmeouts", "timeouts"],
    ["endpoint", "endpoints"],
    ["healthcheck", "healthCheck"],
    ["health_check", "healthCheck"],
    ["braeker", "breaker"],
    ["maxconnection", "maxConnections"],
    ["retries", undefined],
    ["x", undefined],
  ])("%j -> %j", (word, expected) => {
    expect(suggestClosest(word, keys)).toBe(expected);
  });
});
