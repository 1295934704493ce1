import { describe, expect, it } from "vitest";
import { formatPath, formatProblem, sortProblems } from "../../../src/config/problems.ts";
import type { ConfigProblem } from "../../../src/config/problems.ts";

describe("formatProblem", () => {
  it("gives FILE:LINE:COL: PATH: MESSAGE", () => {
    const problem = {
      file: "config/switchyard.yaml",
      line: 12,
      column: 5,
      path: "upstreams.stable.tmeouts",
      message: 'unknown key "tmeouts"; did you mean "timeouts"?',
    };
    expect(formatProblem(problem)).toBe(
      'config/switchyard.yaml:12:5: upstreams.stable.tmeouts: unknown key "tmeouts"; did you mean "timeouts"?',
    );
  });
});

describe("formatPath", () => {
  it.each([
    [[], "(root)"],
    [["routes", 0, "split", "canary"], "routes[0].split.canary"],
    [["upstreams", "stable", "timeouts", "connect"], "upstreams.stable.timeouts.connect"],
    [
      ["routes", 2, "rules", 0, "match", "headers", "x-canary"],
      "routes[2].rules[0].match.headers.x-canary",
    ],
    [["upstreams", "v1.2", "endpoints", 0], 'upstreams["v1.2"].endpoints[0]'],
    [["upstreams", "a b"], 'upstreams["a b"]'],
  ])("%j -> %s", (path, expected) => {
    expect(formatPath(path)).toBe(expected);
  });
});

describe("sortProblems", () => {
  const at = (line: number, column: number, path = "p", message = "m"): ConfigProblem => ({
    file: "f",
    line,
    column,
    path,
    message,
  });

  it("orders by line, then column, then path, and drops exact duplicates", () => {
    const sorted = sortProblems([
      at(3, 1),
      at(1, 9),
      at(1, 2, "b"),
      at(1, 2, "a"),
      at(3, 1),
      at(0, 0),
    ]);
    expect(sorted).toEqual([at(0, 0), at(1, 2, "a"), at(1, 2, "b"), at(1, 9), at(3, 1)]);
  });
});
