/**
 * Config loading never throws, and every problem it reports can be jumped to: a file name, a
 * line and a column inside the text (both 1-based), a YAML path and a message (SPEC 1 and 2).
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { loadConfigText } from "../../src/config/load.ts";
import type { LoadResult } from "../../src/config/load.ts";
import {
  VALID_CONFIG_TEXTS,
  anyEnv,
  anyText,
  brokenConfigData,
  brokenConfigText,
  yamlSoup,
} from "./config-arbitraries.ts";
import { propertyRuns } from "./property-runs.ts";

const FILE = "property.yaml";

/** Loads, then checks the result's shape; any exception fails the property. */
function expectLoadsOrLocates(text: string, env: Record<string, string> = {}): LoadResult {
  const result = loadConfigText(text, FILE, env);
  if (result.ok) {
    expect(Object.isFrozen(result.config)).toBe(true);
    return result;
  }
  expect(result.problems.length).toBeGreaterThan(0);
  const lines = text.split("\n");
  for (const problem of result.problems) {
    const where = JSON.stringify(problem);
    expect(problem.file, where).toBe(FILE);
    expect(Number.isInteger(problem.line) && problem.line >= 1, where).toBe(true);
    expect(Number.isInteger(problem.column) && problem.column >= 1, where).toBe(true);
    expect(problem.line, where).toBeLessThanOrEqual(lines.length);
    expect(problem.column, where).toBeLessThanOrEqual((lines[problem.line - 1]?.length ?? 0) + 1);
    expect(problem.path, where).not.toBe("");
    expect(problem.message.trim(), where).not.toBe("");
  }
  return result;
}

describe("config loading (property)", () => {
  it("starts from valid configs", () => {
    for (const text of VALID_CONFIG_TEXTS) expect(expectLoadsOrLocates(text).ok).toBe(true);
  });

  it("never throws and locates every problem, for any text", () => {
    fc.assert(
      fc.property(anyText, (text) => {
        expectLoadsOrLocates(text);
      }),
      propertyRuns(300),
    );
  });

  it("never throws and locates every problem, for YAML-like token soup", () => {
    fc.assert(
      fc.property(yamlSoup, anyEnv, (text, env) => {
        expectLoadsOrLocates(text, env);
      }),
      propertyRuns(400),
    );
  });

  it("never throws and locates every problem, for a valid config with broken data", () => {
    fc.assert(
      fc.property(brokenConfigData, anyEnv, (text, env) => {
        expectLoadsOrLocates(text, env);
      }),
      propertyRuns(150),
    );
  });

  it("never throws and locates every problem, for a valid config with broken text", () => {
    fc.assert(
      fc.property(brokenConfigText, anyEnv, (text, env) => {
        expectLoadsOrLocates(text, env);
      }),
      propertyRuns(200),
    );
  });

  it("refuses deep nesting with a located problem, never a stack overflow", () => {
    // Around 1,000-2,000 levels the YAML parser runs out of stack (the exact depth varies
    // with the JIT): both sides of that edge must give located problems.
    const nested = fc
      .tuple(fc.integer({ min: 1, max: 2500 }), fc.constantFrom(...NESTING_STYLES))
      .map(([depth, style]) => `upstreams:\n  stable:\n    endpoints: ${nest(depth, style)}\n`);
    fc.assert(
      fc.property(nested, (text) => {
        expectLoadsOrLocates(text);
      }),
      propertyRuns(20),
    );
  });

  it("refuses alias bombs with a located problem", () => {
    const bomb = fc
      .tuple(fc.integer({ min: 1, max: 12 }), fc.integer({ min: 1, max: 12 }))
      .map(([levels, fanOut]) => aliasBomb(levels, fanOut));
    fc.assert(
      fc.property(bomb, (text) => {
        expectLoadsOrLocates(text);
      }),
      propertyRuns(30),
    );
  });
});

const NESTING_STYLES = ["flow-list", "flow-map", "block-list", "block-map"] as const;

function nest(depth: number, style: (typeof NESTING_STYLES)[number]): string {
  switch (style) {
    case "flow-list":
      return `${"[".repeat(depth)}x${"]".repeat(depth)}`;
    case "flow-map":
      return `${"{a: ".repeat(depth)}x${"}".repeat(depth)}`;
    case "block-list":
      return `\n      ${"- ".repeat(depth)}x`;
    case "block-map": {
      // Each level indents two more spaces: keep the text a sane size.
      const levels = Math.min(depth, 300);
      const lines = Array.from({ length: levels }, (_, i) => `${"  ".repeat(i + 3)}a:`);
      return `\n${lines.join("\n")} x`;
    }
  }
}

/** Each level is a list of `fanOut` aliases of the level below: fanOut^levels leaves. */
function aliasBomb(levels: number, fanOut: number): string {
  const lines = ["l0: &l0 [x]"];
  for (let level = 1; level <= levels; level++) {
    const aliases = Array.from({ length: fanOut }, () => `*l${level - 1}`).join(", ");
    lines.push(`l${level}: &l${level} [${aliases}]`);
  }
  lines.push("upstreams:", `  stable: { endpoints: *l${levels} }`, "routes: []");
  return `${lines.join("\n")}\n`;
}
