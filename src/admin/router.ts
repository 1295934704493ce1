/**
 * The admin API's table of endpoints: a path pattern with `{param}` segments, a method, the
 * scope it needs and its handler. A new endpoint is one more entry in the table.
 */
import type { AdminAnswer } from "./answer.ts";
import type { AdminConfig, RequiredScope } from "./auth.ts";

export type AdminMethod = "GET" | "PUT" | "POST" | "DELETE";

export interface EndpointRequest {
  /** Path parameters, percent-decoded (`{route}` -> `params.route`). */
  readonly params: Readonly<Record<string, string>>;
  readonly query: URLSearchParams;
  /** The parsed JSON body; undefined when the request has none. */
  readonly body: unknown;
  /** The token's name, or "anonymous". */
  readonly actor: string;
}

export interface AdminEndpoint {
  readonly method: AdminMethod;
  /** `/api/v1/routes/{route}/weights`. */
  readonly path: string;
  /** A scope, or a function of the admin config (e.g. /metrics with publicMetrics). */
  readonly scope: RequiredScope | ((admin: AdminConfig) => RequiredScope);
  /** A JSON body is required (otherwise one may be sent but is ignored). */
  readonly takesBody: boolean;
  handle(request: EndpointRequest): AdminAnswer | Promise<AdminAnswer>;
}

export type RouteMatch =
  | {
      readonly kind: "found";
      readonly endpoint: AdminEndpoint;
      readonly params: Readonly<Record<string, string>>;
    }
  | { readonly kind: "wrongMethod"; readonly allow: readonly string[] }
  | { readonly kind: "notFound" };

type Segment = { readonly literal: string } | { readonly param: string };

interface CompiledEndpoint {
  readonly endpoint: AdminEndpoint;
  readonly segments: readonly Segment[];
}

function compile(path: string): Segment[] {
  return path
    .split("/")
    .slice(1)
    .map((part) => {
      const param = /^\{(\w+)\}$/.exec(part)?.[1];
      return param === undefined ? { literal: part } : { param };
    });
}

function decodeSegment(text: string): string | undefined {
  try {
    return decodeURIComponent(text);
  } catch {
    return undefined;
  }
}

/** Path parameters when `parts` fit the pattern, else undefined. */
function matchSegments(
  segments: readonly Segment[],
  parts: readonly string[],
): Record<string, string> | undefined {
  if (segments.length !== parts.length) return undefined;
  const params: Record<string, string> = {};
  for (const [index, segment] of segments.entries()) {
    const part = parts[index] ?? "";
    if ("literal" in segment) {
      if (segment.literal !== part) return undefined;
      continue;
    }
    const value = decodeSegment(part);
    if (value === undefined || value === "") return undefined;
    params[segment.param] = value;
  }
  return params;
}

export class AdminRouter {
  private readonly compiled: readonly CompiledEndpoint[];

  constructor(endpoints: readonly AdminEndpoint[]) {
    this.compiled = endpoints.map((endpoint) => ({ endpoint, segments: compile(endpoint.path) }));
  }

  /** HEAD is answered by the GET endpoint of a path. */
  match(method: string, pathname: string): RouteMatch {
    if (!pathname.startsWith("/")) return { kind: "notFound" };
    const parts = pathname.split("/").slice(1);
    const wanted = method === "HEAD" ? "GET" : method;
    const allow: string[] = [];
    for (const { endpoint, segments } of this.compiled) {
      const params = matchSegments(segments, parts);
      if (params === undefined) continue;
      if (endpoint.method === wanted) return { kind: "found", endpoint, params };
      allow.push(endpoint.method);
      if (endpoint.method === "GET") allow.push("HEAD");
    }
    return allow.length === 0 ? { kind: "notFound" } : { kind: "wrongMethod", allow };
  }
}
