/**
 * A route's rules (SPEC 3.2), compiled once per snapshot: header names lower-cased, values
 * compiled to matchers. A rule matches when every header, cookie and query condition it lists
 * matches; the first matching rule wins. Cookies and the query are read only by rules that
 * name them.
 */
import type { RuleConfig } from "../config/schema.ts";
import { cookieMatches } from "./cookies.ts";
import { queryMatches } from "./query.ts";
import { ValueMatcher } from "./value-matcher.ts";

/**
 * Request headers keyed by lower-case name, as Node gives them (`req.headers`, or
 * `req.headersDistinct` to see every occurrence of a repeated header).
 */
export type HeaderMap = Readonly<Record<string, string | readonly string[] | undefined>>;

export type Condition = { readonly name: string; readonly matcher: ValueMatcher };

export class CompiledRule {
  readonly to: string;
  readonly headers: readonly Condition[];
  readonly cookies: readonly Condition[];
  readonly query: readonly Condition[];

  constructor(rule: RuleConfig) {
    this.to = rule.to;
    this.headers = compileConditions(rule.match.headers, true);
    this.cookies = compileConditions(rule.match.cookies, false);
    this.query = compileConditions(rule.match.query, false);
  }

  matches(headers: HeaderMap, rawQuery: string): boolean {
    // Cheapest first: header lookups, then cookie scans, then query decoding.
    for (const { name, matcher } of this.headers) {
      if (!matcher.matchesHeader(headers[name])) return false;
    }
    if (this.cookies.length > 0) {
      const cookie = headers.cookie;
      for (const { name, matcher } of this.cookies) {
        if (!cookieMatches(cookie, name, matcher)) return false;
      }
    }
    for (const { name, matcher } of this.query) {
      if (!queryMatches(rawQuery, name, matcher)) return false;
    }
    return true;
  }
}

export class CompiledRules {
  readonly rules: readonly CompiledRule[];

  constructor(rules: readonly RuleConfig[]) {
    this.rules = rules.map((rule) => new CompiledRule(rule));
  }

  /** The index of the first rule that matches, or -1. */
  match(headers: HeaderMap, rawQuery: string): number {
    const rules = this.rules;
    for (let i = 0; i < rules.length; i++) {
      if (rules[i]?.matches(headers, rawQuery) === true) return i;
    }
    return -1;
  }
}

export function compileRules(rules: readonly RuleConfig[]): CompiledRules {
  return new CompiledRules(rules);
}

function compileConditions(
  values: Readonly<Record<string, string>> | undefined,
  isHeader: boolean,
): readonly Condition[] {
  if (values === undefined) return [];
  return Object.entries(values).map(([name, value]) => ({
    name: isHeader ? name.toLowerCase() : name,
    matcher: new ValueMatcher(value),
  }));
}
