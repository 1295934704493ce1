/**
 * The route table of one config snapshot (SPEC 3.1): every route compiled once, matched in
 * file order, the first match wins.
 */
import { randomUUID } from "node:crypto";
import type { Config, RouteConfig } from "../config/schema.ts";
import { normalizeHost } from "./host-matcher.ts";
import { CompiledRoute } from "./route.ts";
import type { SplitEntry } from "./split.ts";

export { CompiledRoute } from "./route.ts";
export type { PickInput, UpstreamPick } from "./route.ts";

export type RouteTableOptions = {
  /** Creates sticky ids for new clients; `crypto.randomUUID` by default. */
  readonly createStickyId?: () => string;
};

export class RouteTable {
  readonly routes: readonly CompiledRoute[];
  readonly #byName: ReadonlyMap<string, CompiledRoute>;

  constructor(routes: readonly CompiledRoute[]) {
    this.routes = routes;
    this.#byName = new Map(routes.map((route) => [route.name, route]));
  }

  /**
   * The first route matching the Host header value (any case, with or without port; undefined
   * when the request has none) and the path (without the query); undefined when none does.
   */
  match(host: string | undefined, path: string): CompiledRoute | undefined {
    const normalized = normalizeHost(host);
    for (const route of this.routes) {
      if (route.matches(normalized, path)) return route;
    }
    return undefined;
  }

  get(name: string): CompiledRoute | undefined {
    return this.#byName.get(name);
  }
}

/**
 * Compiles every route of `config`. `splitOverrides` maps a route name to the split that
 * replaces the file's (admin weights, rollout steps); entries must sum to 10000 basis points.
 * Throws RangeError for a split that does not.
 */
export function compileRouteTable(
  config: Config,
  splitOverrides?: ReadonlyMap<string, readonly SplitEntry[]>,
  options?: RouteTableOptions,
): RouteTable {
  const routeOptions = { createStickyId: options?.createStickyId ?? defaultStickyId };
  const routes = config.routes.map(
    (route) =>
      new CompiledRoute(
        route,
        splitOverrides?.get(route.name) ?? splitFromConfig(route),
        routeOptions,
      ),
  );
  return new RouteTable(routes);
}

/** The route's split from the file, in the order the file lists it. */
export function splitFromConfig(route: RouteConfig): SplitEntry[] {
  return Object.entries(route.split).map(([upstream, weightBp]) => ({ upstream, weightBp }));
}

function defaultStickyId(): string {
  return randomUUID();
}
