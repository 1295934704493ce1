/**
 * Checks Node's HTTP parser leaves to us. llhttp already refuses Content-Length together with
 * Transfer-Encoding, obs-fold, bad chunk sizes and oversized headers (see errors/client-error.ts);
 * these are the ambiguous requests it lets through, which a proxy must never forward because
 * the next hop may read them differently (request smuggling): a second or invalid Host,
 * Transfer-Encoding other than a single `chunked`, and header names that origins fold into a
 * framing header (framing-names.ts).
 */
import type { IncomingMessage } from "node:http";
import { isLookAlikeFramingName } from "./framing-names.ts";

/** RFC 9110 reg-name / IPv4 / [IPv6], with an optional port. */
const HOST_PATTERN = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9\-._~!$&'()*+,;=%]+)(?::\d{0,5})?$/;

/** Returns why the request must be refused, or undefined when it may be forwarded. */
export function findRequestProblem(req: IncomingMessage): string | undefined {
  const raw = req.rawHeaders;
  let hostCount = 0;
  let host: string | undefined;
  let transferEncoding: string | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i] ?? "";
    // Cheap length pre-check before the case-insensitive compare.
    if (name.length === 4 && name.toLowerCase() === "host") {
      hostCount++;
      host = raw[i + 1];
    } else if (name.length === 17 && name.toLowerCase() === "transfer-encoding") {
      const value = raw[i + 1] ?? "";
      transferEncoding = transferEncoding === undefined ? value : `${transferEncoding}, ${value}`;
    } else if (isLookAlikeFramingName(name)) {
      return "a header name that origins fold into Transfer-Encoding or Content-Length";
    }
  }
  if (hostCount > 1) return "more than one Host header";
  if (hostCount === 0 && req.httpVersionMinor >= 1) return "missing Host header";
  if (host !== undefined && !HOST_PATTERN.test(host)) return "invalid Host header";
  if (transferEncoding !== undefined) {
    if (req.httpVersionMajor === 1 && req.httpVersionMinor === 0) {
      return "Transfer-Encoding on an HTTP/1.0 request";
    }
    if (transferEncoding.trim().toLowerCase() !== "chunked") {
      return "Transfer-Encoding other than a single chunked";
    }
  }
  return undefined;
}
