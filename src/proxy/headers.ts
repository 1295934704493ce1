/**
 * Header rewriting between client and upstream (RFC 9110 section 7.6): hop-by-hop headers and
 * whatever Connection names are dropped, X-Forwarded-* and Via are set, framing is left to the
 * next hop's writer. Works on Node's flat rawHeaders array so names keep their case and order.
 */
import type { IncomingHttpHeaders, IncomingMessage } from "node:http";
import { isLookAlikeFramingName } from "./framing-names.ts";

export const VIA_TOKEN = "switchyard";
const VIA_VALUE = `1.1 ${VIA_TOKEN}`;

/** Never forwarded in either direction; lower-case. */
const HOP_BY_HOP = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "te",
  "transfer-encoding",
  "upgrade",
  "proxy-authorization",
  "proxy-authenticate",
]);

/** Request headers we rebuild ourselves (or undici refuses), on top of the hop-by-hop set. */
const REBUILT_REQUEST = new Set([
  ...HOP_BY_HOP,
  "expect",
  "via",
  "x-forwarded-for",
  "x-forwarded-proto",
  "x-forwarded-host",
  "x-request-id",
]);

/** Names listed in Connection (lower-case), or undefined when it lists no header to drop. */
function connectionListed(value: string | undefined): Set<string> | undefined {
  if (value === undefined || value === "") return undefined;
  // Nearly every message says just "keep-alive" or "close": no split, no Set.
  if (value.length <= 10) {
    const lower = value.toLowerCase();
    if (lower === "keep-alive" || lower === "close") return undefined;
  }
  let names: Set<string> | undefined;
  for (const part of value.split(",")) {
    const name = part.trim().toLowerCase();
    if (name !== "" && name !== "close" && name !== "keep-alive") (names ??= new Set()).add(name);
  }
  return names;
}

export interface ForwardedOptions {
  /** true: append to incoming X-Forwarded-*; false: replace them. */
  isTrusted: boolean;
}

/**
 * The headers to send upstream, as a flat [name, value, ...] array. `isUpgrade` keeps Upgrade
 * and sends `Connection: upgrade`: a protocol upgrade must reach the upstream as one.
 */
export function buildUpstreamRequestHeaders(
  req: IncomingMessage,
  requestId: string,
  forwarded: ForwardedOptions,
  isUpgrade = false,
): string[] {
  const raw = req.rawHeaders;
  const listed = connectionListed(req.headers.connection);
  const out: string[] = [];
  let incomingFor: string | undefined;
  let incomingProto: string | undefined;
  let incomingHost: string | undefined;
  let incomingVia: string | undefined;
  let host: string | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i] ?? "";
    const value = raw[i + 1] ?? "";
    const lower = name.toLowerCase();
    if (REBUILT_REQUEST.has(lower) || listed?.has(lower) === true) {
      if (lower === "x-forwarded-for") incomingFor = join(incomingFor, value);
      else if (lower === "x-forwarded-proto") incomingProto ??= value;
      else if (lower === "x-forwarded-host") incomingHost ??= value;
      else if (lower === "via") incomingVia = join(incomingVia, value);
      else if (isUpgrade && lower === "upgrade") out.push(name, value);
      continue;
    }
    if (lower === "host") host = value;
    out.push(name, value);
  }
  const clientIp = req.socket.remoteAddress ?? "";
  if (forwarded.isTrusted) {
    out.push(
      "x-forwarded-for",
      incomingFor === undefined ? clientIp : `${incomingFor}, ${clientIp}`,
    );
    out.push("x-forwarded-proto", incomingProto ?? "http");
    if (incomingHost !== undefined || host !== undefined) {
      out.push("x-forwarded-host", incomingHost ?? host ?? "");
    }
  } else {
    out.push("x-forwarded-for", clientIp, "x-forwarded-proto", "http");
    if (host !== undefined) out.push("x-forwarded-host", host);
  }
  out.push("via", incomingVia === undefined ? VIA_VALUE : `${incomingVia}, ${VIA_VALUE}`);
  out.push("x-request-id", requestId);
  if (isUpgrade) out.push("connection", "upgrade");
  return out;
}

/**
 * The same headers as an object with lower-case names, a repeated name as an array: what
 * http-proxy-3 sends for an upgrade (it reads `req.headers`).
 */
export function buildUpstreamUpgradeHeaders(
  req: IncomingMessage,
  requestId: string,
  forwarded: ForwardedOptions,
): IncomingHttpHeaders {
  const flat = buildUpstreamRequestHeaders(req, requestId, forwarded, true);
  const out: IncomingHttpHeaders = {};
  for (let i = 0; i < flat.length; i += 2) {
    const name = (flat[i] ?? "").toLowerCase();
    const value = flat[i + 1] ?? "";
    const existing = out[name];
    if (existing === undefined) out[name] = value;
    else out[name] = Array.isArray(existing) ? [...existing, value] : [existing, value];
  }
  return out;
}

function join(previous: string | undefined, value: string): string {
  return previous === undefined ? value : `${previous}, ${value}`;
}

/** True when the request already went through a switchyard (its Via names us). */
export function hasOwnVia(via: string | undefined): boolean {
  if (via === undefined) return false;
  for (const entry of via.split(",")) {
    // "1.1 switchyard" or "HTTP/1.1 switchyard (comment)"
    const receivedBy = entry.trim().split(/\s+/)[1];
    if (receivedBy === VIA_TOKEN) return true;
  }
  return false;
}

/**
 * The response headers to send the client, from a parsed headers object (undici's, or node's
 * for upgrades): hop-by-hop and Connection-listed headers dropped, so are names that a client
 * could fold into a framing header (framing-names.ts); Via appended, X-Request-Id set.
 * `isUpgrade` (a 101) keeps Connection and Upgrade, which the client needs to switch.
 */
export function buildClientResponseHeaders(
  upstreamHeaders: IncomingHttpHeaders,
  requestId: string,
  isUpgrade = false,
): IncomingHttpHeaders {
  const listed = connectionListed(headerText(upstreamHeaders.connection));
  const out: IncomingHttpHeaders = {};
  for (const name in upstreamHeaders) {
    if (HOP_BY_HOP.has(name) || listed?.has(name) === true || isLookAlikeFramingName(name)) {
      if (!isUpgrade || (name !== "connection" && name !== "upgrade")) continue;
    }
    out[name] = upstreamHeaders[name];
  }
  const via = headerText(upstreamHeaders.via);
  out.via = via === undefined ? VIA_VALUE : `${via}, ${VIA_VALUE}`;
  out["x-request-id"] = requestId;
  return out;
}

function headerText(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(", ") : value;
}
