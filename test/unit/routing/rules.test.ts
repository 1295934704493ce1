import { describe, expect, it } from "vitest";
import type { RuleConfig } from "../../../src/config/schema.ts";
import { compileRules, type HeaderMap } from "../../../src/routing/rules.ts";

const rules: RuleConfig[] = [
  { match: { headers: { "X-Canary": "always" } }, to: "canary" },
  { match: { cookies: { canary: "never" } }, to: "stable" },
  { match: { query: { preview: "1" } }, to: "canary" },
  { match: { headers: { "user-agent": "~(?i:iphone)" } }, to: "old" },
  {
    match: { headers: { "x-team": "qa" }, cookies: { beta: "~^y" }, query: { v: "2" } },
    to: "canary",
  },
  { match: { headers: { "x-canary": "~^(yes|on)$" } }, to: "old" },
];

const compiled = compileRules(rules);

describe("compileRules", () => {
  it.each<[string, HeaderMap, string, number]>([
    ["no match", {}, "", -1],
    ["exact header, any case in config", { "x-canary": "always" }, "", 0],
    ["exact header is case-sensitive in value", { "x-canary": "Always" }, "", -1],
    ["a repeated header matches on any value", { "x-canary": ["never", "always"] }, "", 0],
    ["a repeated header joined by Node", { "x-canary": "never, always" }, "", 0],
    ["cookie", { cookie: "a=1; canary=never" }, "", 1],
    ["cookie value differs", { cookie: "canary=always" }, "", -1],
    ["query", {}, "preview=1", 2],
    ["query with form encoding", {}, "pre%76iew=%31", 2],
    ["query with a malformed escape", {}, "preview=%E0%A4%A", -1],
    ["regex header", { "user-agent": "Mozilla/5.0 (iPhone; CPU)" }, "", 3],
    ["combined: all match", { "x-team": "qa", cookie: "beta=yes" }, "v=2", 4],
    ["combined: the query differs", { "x-team": "qa", cookie: "beta=yes" }, "v=3", -1],
    ["combined: the cookie is missing", { "x-team": "qa" }, "v=2", -1],
    ["combined: the header is missing", { cookie: "beta=yes" }, "v=2", -1],
    ["first match wins", { "x-canary": "always", cookie: "canary=never" }, "preview=1", 0],
    ["a later rule when earlier ones miss", { "x-canary": "on" }, "", 5],
  ])("%s", (_label, headers, rawQuery, expected) => {
    expect(compiled.match(headers, rawQuery)).toBe(expected);
  });

  it("keeps each rule's target", () => {
    expect(compiled.rules.map((r) => r.to)).toEqual([
      "canary",
      "stable",
      "canary",
      "old",
      "canary",
      "old",
    ]);
  });

  it("does not read the Cookie header or the query for header-only rules", () => {
    const headerOnly = compileRules([
      { match: { headers: { "x-canary": "always" } }, to: "canary" },
    ]);
    let cookieReads = 0;
    const headers: HeaderMap = {
      get cookie(): string {
        cookieReads++;
        return "canary=never";
      },
    };
    expect(headerOnly.match(headers, "%")).toBe(-1);
    expect(cookieReads).toBe(0);
  });
});
