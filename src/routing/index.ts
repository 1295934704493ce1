/** The routing layer's public surface: pure, compiled once per config snapshot. */
export { compileRouteTable, splitFromConfig, RouteTable } from "./route-table.ts";
export type { RouteTableOptions } from "./route-table.ts";
export { CompiledRoute } from "./route.ts";
export type { PickInput, UpstreamPick, RouteOptions, StickySettings } from "./route.ts";
export { compileSplit, pickAvailable, CompiledSplit } from "./split.ts";
export type { SplitEntry } from "./split.ts";
export { compileRules, CompiledRules, CompiledRule } from "./rules.ts";
export type { HeaderMap, Condition } from "./rules.ts";
export { formatStickyCookie, pickRendezvous } from "./sticky.ts";
export { fnv1a32, mix32, hashKey } from "./hash.ts";
export { HostMatcher, normalizeHost } from "./host-matcher.ts";
export { PathPrefix } from "./path-prefix.ts";
export { ValueMatcher } from "./value-matcher.ts";
export { readCookie, cookieMatches } from "./cookies.ts";
export type { CookieHeader } from "./cookies.ts";
export { queryMatches } from "./query.ts";
