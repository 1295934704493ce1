/** The parts of the request-target the proxy routes on and forwards. */
import type { IncomingMessage } from "node:http";

export interface RequestTarget {
  /** Origin-form path and query, as forwarded upstream. */
  pathAndQuery: string;
  /** Path alone, for route matching. */
  path: string;
  /** Query without '?', for rules. */
  rawQuery: string;
}

/**
 * Origin-form ("/a?b") is the norm; absolute-form ("http://host/a") is accepted when its
 * authority agrees with Host, and turned into origin-form. Anything else is refused.
 */
export function parseRequestTarget(req: IncomingMessage): RequestTarget | undefined {
  let url = req.url ?? "";
  if (url.charCodeAt(0) !== 47 /* "/" */) {
    if (req.method === "OPTIONS" && url === "*")
      return { pathAndQuery: "*", path: "*", rawQuery: "" };
    const absolute = toOriginForm(url, req.headers.host);
    if (absolute === undefined) return undefined;
    url = absolute;
  }
  const queryAt = url.indexOf("?");
  if (queryAt === -1) return { pathAndQuery: url, path: url, rawQuery: "" };
  return { pathAndQuery: url, path: url.slice(0, queryAt), rawQuery: url.slice(queryAt + 1) };
}

function toOriginForm(url: string, host: string | undefined): string | undefined {
  if (!/^https?:\/\//i.test(url)) return undefined;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return undefined;
  }
  if (host === undefined || parsed.host.toLowerCase() !== host.toLowerCase()) return undefined;
  return `${parsed.pathname}${parsed.search}`;
}
