/**
 * Where one request goes: route match, rules and split, then an endpoint of the chosen
 * upstream. Shared by plain requests and upgrades. Expected outcomes are return values.
 */
import type { IncomingMessage } from "node:http";
import type { CompiledRoute, UpstreamPick } from "../routing/route-table.ts";
import type { Snapshot } from "../runtime/snapshot.ts";
import type { Endpoint } from "../upstream/endpoint.ts";
import type { ProxyErrorCode } from "./errors.ts";
import type { RequestTarget } from "./request-target.ts";

export interface Destination {
  route: CompiledRoute;
  pick: UpstreamPick;
  upstreamName: string;
  endpoint: Endpoint;
}

export type DestinationResult =
  | { ok: true; destination: Destination }
  | { ok: false; code: ProxyErrorCode; routeName: string | undefined };

export function findDestination(
  snapshot: Snapshot,
  req: IncomingMessage,
  target: RequestTarget,
  random: () => number,
): DestinationResult {
  const route = snapshot.routes.match(req.headers.host, target.path);
  if (route === undefined) return { ok: false, code: "SWITCHYARD_NO_ROUTE", routeName: undefined };
  const pick = route.pickUpstream({ headers: req.headers, rawQuery: target.rawQuery }, random);
  const endpoint = snapshot.upstreams.get(pick.upstream)?.pickEndpoint();
  if (endpoint === undefined) {
    return { ok: false, code: "SWITCHYARD_UPSTREAM_UNAVAILABLE", routeName: route.name };
  }
  return { ok: true, destination: { route, pick, upstreamName: pick.upstream, endpoint } };
}
