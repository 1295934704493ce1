/**
 * A webhook URL split into what a request needs (origin, path, credentials) and what a log
 * line may show. Webhook URLs often carry secrets: in userinfo, in the query string, or as an
 * opaque token in the path (chat services put theirs there), so logs never see those parts.
 */

export interface WebhookAddress {
  /** `scheme://host:port`: deliveries to one origin share a connection pool. */
  readonly origin: string;
  /** Path and query, as sent. */
  readonly path: string;
  /** `Basic ...` from the URL's userinfo, or undefined. */
  readonly authorization: string | undefined;
  /** The URL as logs show it. */
  readonly masked: string;
}

const MASK = "***";
/** Path segments this long with letters and digits look like tokens, not names. */
const TOKEN_SEGMENT_MIN_LENGTH = 20;

/** Parses an http(s) webhook URL; undefined when it is not one. */
export function parseWebhookUrl(url: string): WebhookAddress | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return undefined;
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") return undefined;
  const hasUserinfo = parsed.username !== "" || parsed.password !== "";
  const authorization = hasUserinfo
    ? `Basic ${Buffer.from(
        `${decodeURIComponent(parsed.username)}:${decodeURIComponent(parsed.password)}`,
      ).toString("base64")}`
    : undefined;
  return {
    origin: parsed.origin,
    path: `${parsed.pathname}${parsed.search}`,
    authorization,
    masked: maskParsed(parsed, hasUserinfo),
  };
}

/** The URL with userinfo, query, fragment and token-like path segments replaced by `***`. */
export function maskWebhookUrl(url: string): string {
  try {
    const parsed = new URL(url);
    return maskParsed(parsed, parsed.username !== "" || parsed.password !== "");
  } catch {
    return "(invalid URL)";
  }
}

function maskParsed(parsed: URL, hasUserinfo: boolean): string {
  const path = parsed.pathname
    .split("/")
    .map((segment) => (isTokenLike(segment) ? MASK : segment))
    .join("/");
  const userinfo = hasUserinfo ? `${MASK}@` : "";
  const query = parsed.search === "" ? "" : `?${MASK}`;
  const fragment = parsed.hash === "" ? "" : `#${MASK}`;
  return `${parsed.protocol}//${userinfo}${parsed.host}${path}${query}${fragment}`;
}

function isTokenLike(segment: string): boolean {
  return segment.length >= TOKEN_SEGMENT_MIN_LENGTH && /[a-z]/i.test(segment) && /\d/.test(segment);
}
