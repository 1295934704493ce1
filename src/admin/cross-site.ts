/**
 * The admin API refuses calls a web page could make (SPEC section 8), on every path and with
 * or without tokens, before anything else is looked at:
 * - `Host` must name this listener (admin-hosts.ts), against DNS rebinding;
 * - a request with an `Origin` is accepted only from `http://` + its own Host (`null` is
 *   foreign); curl and the CLI send none;
 * - `Sec-Fetch-Site`, which browsers send on every request, must be `same-origin` or `none`.
 * Writes also need `Content-Type: application/json` (content-type.ts), which no form can send.
 */
import type { IncomingHttpHeaders } from "node:http";
import { CODE } from "../errors/error-codes.ts";
import { parseHostHeader, type AllowedHosts } from "./admin-hosts.ts";

/** What the guard reads of a request. */
export interface CrossSiteRequest {
  /** Every Host header, in order (from `rawHeaders`: Node keeps only the first). */
  readonly hosts: readonly string[];
  /** "1.1", "1.0". */
  readonly httpVersion: string;
  readonly origin: string | undefined;
  readonly secFetchSite: string | undefined;
}

export interface CrossSiteRefusal {
  readonly code:
    | typeof CODE.SWITCHYARD_ADMIN_HOST_INVALID
    | typeof CODE.SWITCHYARD_ADMIN_HOST_REFUSED
    | typeof CODE.SWITCHYARD_ADMIN_ORIGIN_REFUSED;
  readonly message: string;
}

const SAME_SITE_FETCHES: ReadonlySet<string> = new Set(["same-origin", "none"]);

/** Undefined when the call may go on; otherwise why it is refused. */
export function findCrossSiteRefusal(
  request: CrossSiteRequest,
  allowedHosts: AllowedHosts,
): CrossSiteRefusal | undefined {
  return checkHost(request, allowedHosts) ?? checkOrigin(request) ?? checkFetchSite(request);
}

/** The guard's view of a Node request. */
export function crossSiteRequestOf(req: {
  readonly rawHeaders: readonly string[];
  readonly headers: IncomingHttpHeaders;
  readonly httpVersion: string;
}): CrossSiteRequest {
  const hosts: string[] = [];
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    if (req.rawHeaders[i]?.toLowerCase() === "host") hosts.push(req.rawHeaders[i + 1] ?? "");
  }
  const secFetchSite = req.headers["sec-fetch-site"];
  return {
    hosts,
    httpVersion: req.httpVersion,
    origin: req.headers.origin,
    secFetchSite: Array.isArray(secFetchSite) ? secFetchSite.join(", ") : secFetchSite,
  };
}

function checkHost(
  { hosts, httpVersion }: CrossSiteRequest,
  allowedHosts: AllowedHosts,
): CrossSiteRefusal | undefined {
  const [host, ...others] = hosts;
  if (others.length > 0) {
    return invalidHost(`The request carries ${hosts.length} Host headers; send exactly one.`);
  }
  if (host === undefined) {
    // HTTP/1.0 allows no Host; no browser sends a request without one.
    return httpVersion === "1.0" ? undefined : invalidHost("A Host header is required.");
  }
  const parsed = parseHostHeader(host);
  if (parsed === undefined) {
    return invalidHost(`Host "${host}" is not a host name or IP address with an optional port.`);
  }
  if (allowedHosts.accepts(parsed)) return undefined;
  return {
    code: CODE.SWITCHYARD_ADMIN_HOST_REFUSED,
    message:
      `Host "${host}" does not name this admin API, so the call is refused (a web page could ` +
      "reach it by DNS rebinding). Call it by IP address or localhost, or list " +
      `"${parsed.hostname}" in admin.allowedHosts.`,
  };
}

function invalidHost(message: string): CrossSiteRefusal {
  return { code: CODE.SWITCHYARD_ADMIN_HOST_INVALID, message };
}

function checkOrigin({ hosts, origin }: CrossSiteRequest): CrossSiteRefusal | undefined {
  if (origin === undefined) return undefined;
  const own = hosts[0] === undefined ? undefined : `http://${hosts[0]}`;
  if (own !== undefined && origin.toLowerCase() === own.toLowerCase()) return undefined;
  return {
    code: CODE.SWITCHYARD_ADMIN_ORIGIN_REFUSED,
    message:
      `Origin "${origin}" is not this admin API's own${own === undefined ? "" : ` (${own})`}, ` +
      "so the call is refused: web pages may not call the admin API. Clients such as curl and " +
      "switchyard's CLI send no Origin.",
  };
}

function checkFetchSite({ secFetchSite }: CrossSiteRequest): CrossSiteRefusal | undefined {
  if (secFetchSite === undefined || SAME_SITE_FETCHES.has(secFetchSite.toLowerCase())) {
    return undefined;
  }
  return {
    code: CODE.SWITCHYARD_ADMIN_ORIGIN_REFUSED,
    message:
      `Sec-Fetch-Site "${secFetchSite}" says another site's page sent this call; ` +
      "web pages may not call the admin API.",
  };
}
