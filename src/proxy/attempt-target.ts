/**
 * Which upstream and endpoint one attempt goes to (SPEC 3.5 and 4): the picked upstream when
 * it is available, else (with `fallback: true`) the route's other upstreams in proportion to
 * their weights; for a retry, another endpoint of the same upstream first.
 */
import type { CompiledRoute } from "../routing/route-table.ts";
import { pickAvailable } from "../routing/split.ts";
import type { Snapshot } from "../runtime/snapshot.ts";
import type { BreakerCall } from "../upstream/breaker.ts";
import type { Endpoint } from "../upstream/endpoint.ts";
import type { Upstream } from "../upstream/upstream.ts";

export interface AttemptTarget {
  upstream: Upstream;
  endpoint: Endpoint;
  /** The breaker's admission of this attempt: settle it with the attempt's outcome. */
  breakerCall: BreakerCall;
}

/** Admits one attempt on `upstream`: an available endpoint (preferring not `exclude`) and the breaker's yes. */
export function admit(
  upstream: Upstream,
  exclude?: Endpoint,
  onlyOther = false,
): AttemptTarget | undefined {
  const endpoint = upstream.pickEndpoint(exclude);
  if (endpoint === undefined || (onlyOther && endpoint.url === exclude?.url)) return undefined;
  const breakerCall = upstream.breaker.begin();
  if (breakerCall === undefined) return undefined;
  return { upstream, endpoint, breakerCall };
}

/** The first attempt: the picked upstream, or a fallback; undefined means 503. */
export function chooseFirstTarget(
  snapshot: Snapshot,
  route: CompiledRoute,
  pickedName: string,
  random: () => number,
): AttemptTarget | undefined {
  const picked = snapshot.upstreams.get(pickedName);
  const direct = picked === undefined ? undefined : admit(picked);
  if (direct !== undefined || !route.config.fallback) return direct;
  return admitFallback(snapshot, route, pickedName, random);
}

/**
 * A retry after `failed`: another endpoint of the same upstream, else a fallback upstream,
 * else (only for a pooled connection the upstream had already closed) the same endpoint again
 * on a fresh connection. `snapshot` is the live one: `failed` may belong to an older snapshot
 * whose pools a reload has since retired, so the upstream is looked up again by name (the
 * route's policy stays the one the request began with).
 */
export function chooseRetryTarget(
  snapshot: Snapshot,
  route: CompiledRoute,
  failed: AttemptTarget,
  isStaleConnection: boolean,
  random: () => number,
): AttemptTarget | undefined {
  const upstream = snapshot.upstreams.get(failed.upstream.name);
  const sameUpstream = upstream === undefined ? undefined : admit(upstream, failed.endpoint, true);
  if (sameUpstream !== undefined) return sameUpstream;
  if (route.config.fallback) {
    const fallback = admitFallback(snapshot, route, failed.upstream.name, random);
    if (fallback !== undefined) return fallback;
  }
  return isStaleConnection && upstream !== undefined ? admit(upstream) : undefined;
}

function admitFallback(
  snapshot: Snapshot,
  route: CompiledRoute,
  excludedName: string,
  random: () => number,
): AttemptTarget | undefined {
  const upstreams = snapshot.upstreams;
  const name = pickAvailable(
    route.split,
    (candidate) => candidate !== excludedName && upstreams.get(candidate)?.isAvailable === true,
    random,
  );
  const upstream = name === undefined ? undefined : upstreams.get(name);
  return upstream === undefined ? undefined : admit(upstream);
}
