/**
 * One route compiled for the hot path: its host and path matchers, rules, split and sticky
 * settings, and `pickUpstream`, the pure decision of which upstream a request goes to
 * (SPEC 3.2-3.3). Availability and fallback are the caller's next step (`pickAvailable`).
 */
import type { RouteConfig } from "../config/schema.ts";
import { HostMatcher } from "./host-matcher.ts";
import { PathPrefix } from "./path-prefix.ts";
import { readCookie } from "./cookies.ts";
import { compileRules, type CompiledRules, type HeaderMap } from "./rules.ts";
import { compileSplit, type CompiledSplit, type SplitEntry } from "./split.ts";

export type PickInput = {
  /** Lower-case header names, e.g. `req.headers`. */
  readonly headers: HeaderMap;
  /** The query string without '?', "" when there is none. */
  readonly rawQuery: string;
};

export type UpstreamPick = {
  readonly upstream: string;
  readonly by: "rule" | "sticky" | "split";
  /** The matching rule's index in the route's rules, -1 when no rule decided. */
  readonly ruleIndex: number;
  /**
   * Set when `sticky.cookie` is configured and the request carried no such cookie (or an empty
   * one): the caller sends `formatStickyCookie(cookieName, newStickyId)` in Set-Cookie. The
   * pick already honours the new id, so the client's next request lands on the same upstream.
   */
  readonly newStickyId: string | undefined;
};

export type StickySettings = {
  readonly cookie: string | undefined;
  readonly header: string | undefined;
};

export type RouteOptions = {
  /** Creates sticky ids for new clients; `crypto.randomUUID` by default. */
  readonly createStickyId: () => string;
};

export class CompiledRoute {
  readonly name: string;
  readonly config: RouteConfig;
  readonly split: CompiledSplit;
  readonly rules: CompiledRules;
  /** Sticky settings: `cookie` (its name) or `header` (lower-case name); undefined when off. */
  readonly sticky: StickySettings | undefined;
  readonly #stickyCookie: string | undefined;
  readonly #stickyHeader: string | undefined;
  readonly #host: HostMatcher;
  readonly #path: PathPrefix;
  readonly #createStickyId: () => string;

  constructor(config: RouteConfig, splitEntries: readonly SplitEntry[], options: RouteOptions) {
    this.name = config.name;
    this.config = config;
    this.split = compileSplit(splitEntries);
    this.rules = compileRules(config.rules);
    const sticky = config.sticky;
    this.#stickyCookie = sticky !== undefined && "cookie" in sticky ? sticky.cookie : undefined;
    this.#stickyHeader =
      sticky !== undefined && "header" in sticky ? sticky.header.toLowerCase() : undefined;
    this.sticky =
      sticky === undefined
        ? undefined
        : Object.freeze({ cookie: this.#stickyCookie, header: this.#stickyHeader });
    this.#host = new HostMatcher(config.match.hosts);
    this.#path = new PathPrefix(config.match.pathPrefix);
    this.#createStickyId = options.createStickyId;
  }

  /** `host` normalised with normalizeHost; `path` without the query. */
  matches(host: string | undefined, path: string): boolean {
    return this.#host.matches(host) && this.#path.matches(path);
  }

  /** Rules first, then sticky, then a random pick by weight. `random` returns [0, 1). */
  pickUpstream(input: PickInput, random: () => number): UpstreamPick {
    const headers = input.headers;
    let newStickyId: string | undefined;
    let stickyKey: string | undefined;
    if (this.#stickyCookie !== undefined) {
      stickyKey = readCookie(headers.cookie, this.#stickyCookie);
      if (stickyKey === undefined || stickyKey === "") {
        newStickyId = this.#createStickyId();
        stickyKey = newStickyId;
      }
    } else if (this.#stickyHeader !== undefined) {
      const value = headers[this.#stickyHeader];
      stickyKey = typeof value === "string" ? value : value?.[0];
    }

    const ruleIndex =
      this.rules.rules.length === 0 ? -1 : this.rules.match(headers, input.rawQuery);
    if (ruleIndex !== -1) {
      const upstream = this.rules.rules[ruleIndex]?.to ?? "";
      return { upstream, by: "rule", ruleIndex, newStickyId };
    }
    if (stickyKey !== undefined && stickyKey !== "") {
      const upstream = this.split.pickSticky(stickyKey);
      return { upstream, by: "sticky", ruleIndex, newStickyId };
    }
    return { upstream: this.split.pickRandom(random), by: "split", ruleIndex, newStickyId };
  }
}
