/**
 * Where one request goes, or why we answer it ourselves: the front half of the data path,
 * shared by plain requests (handler.ts) and upgrades (upgrade.ts) so both refuse, route, split
 * and fall back by the same rules. In order: `Upgrade: h2c` (upgrades only), HTTP version
 * (505), request checks (400), Via loop (508), route (404), rules or split, and the first
 * attempt with fallback (503). It only decides: the caller answers and records.
 */
import type { IncomingMessage } from "node:http";
import { CODE } from "../errors/error-codes.ts";
import type { CompiledRoute } from "../routing/route-table.ts";
import type { UpstreamPick } from "../routing/route.ts";
import type { Snapshot } from "../runtime/snapshot.ts";
import { chooseFirstTarget, type AttemptTarget } from "./attempt-target.ts";
import type { ProxyErrorCode } from "./errors.ts";
import { hasOwnVia } from "./headers.ts";
import { requestIdFor } from "./request-id.ts";
import { parseRequestTarget, type RequestTarget } from "./request-target.ts";
import { findRequestProblem } from "./request-validation.ts";

/** We answer the request ourselves with `code`. */
export interface Refusal {
  readonly kind: "refusal";
  readonly code: ProxyErrorCode;
  readonly requestId: string;
  /** The request's framing cannot be trusted: its connection must not carry another. */
  readonly mustClose: boolean;
  /** Why a malformed request was refused, for the debug log. */
  readonly problem: string | undefined;
  /** For SWITCHYARD_UPSTREAM_UNAVAILABLE: the route, and the upstream its split picked. */
  readonly route: CompiledRoute | undefined;
  readonly pickedUpstream: string | undefined;
}

/** The request goes to `attempt`, whose breaker admission the caller must settle. */
export interface Destination {
  readonly kind: "destination";
  readonly requestId: string;
  readonly snapshot: Snapshot;
  readonly route: CompiledRoute;
  readonly target: RequestTarget;
  readonly pick: UpstreamPick;
  readonly attempt: AttemptTarget;
}

export type Resolution = Refusal | Destination;

/** Where the current snapshot is read (the Runtime). */
export interface SnapshotSource {
  readonly current: Snapshot;
}

type Writable<T> = { -readonly [K in keyof T]: T[K] };

/**
 * One per handler. Its answer is one of two objects it reuses, so resolving allocates nothing
 * of its own: read the answer before resolving the next request.
 */
export class RequestResolver {
  private readonly snapshots: SnapshotSource;
  private readonly random: () => number;
  private refusal: Writable<Refusal> | undefined;
  private destination: Writable<Destination> | undefined;

  constructor(snapshots: SnapshotSource, random: () => number) {
    this.snapshots = snapshots;
    this.random = random;
  }

  resolve(req: IncomingMessage, isUpgrade: boolean): Resolution {
    const requestId = requestIdFor(req.headers["x-request-id"]);
    // Checked first: a proxy that passes h2c on lets a client talk HTTP/2 past every rule.
    if (isUpgrade && isH2cUpgrade(req.headers.upgrade)) {
      return this.refuse(CODE.SWITCHYARD_UPGRADE_REFUSED, requestId, false);
    }
    // llhttp passes HTTP/0.9 and HTTP/2.0 request lines on: we speak neither over HTTP/1.
    if (req.httpVersionMajor !== 1) {
      return this.refuse(CODE.SWITCHYARD_HTTP_VERSION_NOT_SUPPORTED, requestId, true);
    }
    const problem = findRequestProblem(req);
    const target = problem === undefined ? parseRequestTarget(req) : undefined;
    if (target === undefined) {
      return this.refuse(
        CODE.SWITCHYARD_BAD_REQUEST,
        requestId,
        true,
        problem ?? "an unusable request-target",
      );
    }
    if (hasOwnVia(req.headers.via)) return this.refuse(CODE.SWITCHYARD_LOOP_DETECTED, requestId);
    const snapshot = this.snapshots.current;
    const route = snapshot.routes.match(req.headers.host, target.path);
    if (route === undefined) return this.refuse(CODE.SWITCHYARD_NO_ROUTE, requestId);
    const pick = route.pickUpstream(
      { headers: req.headers, rawQuery: target.rawQuery },
      this.random,
    );
    const attempt = chooseFirstTarget(snapshot, route, pick.upstream, this.random);
    if (attempt === undefined) {
      return this.refuse(
        CODE.SWITCHYARD_UPSTREAM_UNAVAILABLE,
        requestId,
        false,
        undefined,
        route,
        pick,
      );
    }
    return this.destine(requestId, snapshot, route, target, pick, attempt);
  }

  private refuse(
    code: ProxyErrorCode,
    requestId: string,
    mustClose = false,
    problem?: string,
    route?: CompiledRoute,
    pick?: UpstreamPick,
  ): Refusal {
    const pickedUpstream = pick?.upstream;
    const refusal = this.refusal;
    if (refusal === undefined) {
      this.refusal = {
        kind: "refusal",
        code,
        requestId,
        mustClose,
        problem,
        route,
        pickedUpstream,
      };
      return this.refusal;
    }
    refusal.code = code;
    refusal.requestId = requestId;
    refusal.mustClose = mustClose;
    refusal.problem = problem;
    refusal.route = route;
    refusal.pickedUpstream = pickedUpstream;
    return refusal;
  }

  private destine(
    requestId: string,
    snapshot: Snapshot,
    route: CompiledRoute,
    target: RequestTarget,
    pick: UpstreamPick,
    attempt: AttemptTarget,
  ): Destination {
    const destination = this.destination;
    if (destination === undefined) {
      this.destination = { kind: "destination", requestId, snapshot, route, target, pick, attempt };
      return this.destination;
    }
    destination.requestId = requestId;
    destination.snapshot = snapshot;
    destination.route = route;
    destination.target = target;
    destination.pick = pick;
    destination.attempt = attempt;
    return destination;
  }
}

/** `Upgrade: h2c` in any case, alone or in a list. */
function isH2cUpgrade(upgrade: string | undefined): boolean {
  if (upgrade === undefined) return false;
  for (const protocol of upgrade.split(",")) {
    if (protocol.trim().toLowerCase().startsWith("h2c")) return true;
  }
  return false;
}
