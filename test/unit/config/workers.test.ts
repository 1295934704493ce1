/** The top-level `workers` key (SPEC 11): its default, its values, and each problem's position. */
import { describe, expect, it } from "vitest";
import { loadProblems, loadValidConfig, yamlLines } from "../../support/config-fixtures.ts";

/** Lines 1-4 of every case: a valid config without `workers`; `workers` is on line 5. */
const BASE = [
  "upstreams:",
  "  stable: { endpoints: [http://127.0.0.1:9001] }",
  "routes:",
  "  - { name: web, split: { stable: 100 } }",
];

const ALLOWED = 'must be a whole number from 1 to 64, or "auto" (one per CPU the cgroup allows)';

function workersOf(...lines: string[]) {
  return loadValidConfig(yamlLines(...BASE, ...lines)).workers;
}

function problemsOf(...lines: string[]): string[] {
  return loadProblems(yamlLines(...BASE, ...lines)).map(
    (p) => `${p.line}:${p.column}: ${p.path}: ${p.message}`,
  );
}

describe("workers", () => {
  it("is 1 when absent", () => {
    expect(workersOf()).toBe(1);
  });

  it.each<[string, number | "auto"]>([
    ["1", 1],
    ["4", 4],
    ["64", 64],
    ["auto", "auto"],
    ['"auto"', "auto"],
  ])("takes %s", (written, expected) => {
    expect(workersOf(`workers: ${written}`)).toBe(expected);
  });

  it("keeps auto as written (it is resolved when the process starts)", () => {
    expect(workersOf("workers: ${WORKERS:-auto}")).toBe("auto");
  });
});

describe("workers problems", () => {
  it.each<[string, string, string]>([
    ["zero", "workers: 0", `5:10: workers: ${ALLOWED}; got 0`],
    ["a negative number", "workers: -2", `5:10: workers: ${ALLOWED}; got -2`],
    ["more than 64", "workers: 65", `5:10: workers: ${ALLOWED}; got 65`],
    ["a fraction", "workers: 1.5", `5:10: workers: ${ALLOWED}; got 1.5`],
    ["another word", "workers: all", `5:10: workers: ${ALLOWED}; got "all"`],
    ["auto in capitals", "workers: Auto", `5:10: workers: ${ALLOWED}; got "Auto"`],
    ["true", "workers: true", `5:10: workers: ${ALLOWED}; got true`],
    ["an empty value", "workers:", `5:1: workers: ${ALLOWED}; got an empty value`],
    ["a list", "workers: [2]", `5:1: workers: ${ALLOWED}; got a list`],
    [
      "a quoted number",
      'workers: "4"',
      `5:10: workers: ${ALLOWED}; got "4" (text, not a number: write it without quotes; a \${VAR} always gives text)`,
    ],
  ])("reports %s at its line and column", (_case, line, expected) => {
    expect(problemsOf(line)).toEqual([expected]);
  });

  it("says a number from ${VAR} is text", () => {
    const problems = loadProblems(yamlLines(...BASE, "workers: ${WORKERS}"), { WORKERS: "4" });
    expect(problems.map((p) => p.message)).toEqual([
      `${ALLOWED}; got "4" (text, not a number: write it without quotes; a \${VAR} always gives text)`,
    ]);
  });

  it("suggests workers for a misspelt key", () => {
    expect(problemsOf("worker: 2")).toEqual([
      '5:1: worker: unknown key "worker"; did you mean "workers"?',
    ]);
  });

  it("is reported alongside the other problems", () => {
    const lines = [...BASE.slice(0, 3), "  - { name: web, split: { stable: 90 } }", "workers: 0"];
    expect(
      loadProblems(yamlLines(...lines)).map((p) => `${p.line}:${p.column}: ${p.path}`),
    ).toEqual(["4:18: routes[0].split", "5:10: workers"]);
  });
});
