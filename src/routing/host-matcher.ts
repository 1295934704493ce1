/**
 * Route host matching (SPEC 3.1): case-insensitive, the port ignored, a trailing dot ignored.
 * Names are exact (`shop.example.com`), a leading wildcard (`*.example.com` matches any name
 * below example.com at any depth, not example.com itself, like NGINX), or `*` (any host).
 * IPv6 literals are written with or without brackets.
 */

/**
 * A Host header value or a configured name -> lower-case host without port, brackets or
 * trailing dot; undefined when absent or empty.
 */
export function normalizeHost(raw: string | undefined): string | undefined {
  if (raw === undefined || raw === "") return undefined;
  let host: string;
  if (raw.startsWith("[")) {
    const close = raw.indexOf("]");
    host = close === -1 ? raw.slice(1) : raw.slice(1, close);
  } else {
    const colon = raw.indexOf(":");
    // Only a single colon is a port separator; several mean an unbracketed IPv6 literal.
    host = colon !== -1 && colon === raw.lastIndexOf(":") ? raw.slice(0, colon) : raw;
  }
  if (host.endsWith(".")) host = host.slice(0, -1);
  return host === "" ? undefined : host.toLowerCase();
}

export class HostMatcher {
  readonly #isAnyHost: boolean;
  readonly #exact: ReadonlySet<string>;
  /** Wildcard suffixes with their leading dot: `*.example.com` -> `.example.com`. */
  readonly #suffixes: readonly string[];

  /** `hosts` undefined: the route matches any host, even a request without one. */
  constructor(hosts: readonly string[] | undefined) {
    const exact = new Set<string>();
    const suffixes: string[] = [];
    let isAnyHost = hosts === undefined;
    for (const name of hosts ?? []) {
      if (name === "*") {
        isAnyHost = true;
      } else if (name.startsWith("*.")) {
        const suffix = normalizeHost(name.slice(1));
        if (suffix !== undefined) suffixes.push(suffix);
      } else {
        const host = normalizeHost(name);
        if (host !== undefined) exact.add(host);
      }
    }
    this.#isAnyHost = isAnyHost;
    this.#exact = exact;
    this.#suffixes = suffixes;
  }

  /** `host` must already be normalised (normalizeHost). */
  matches(host: string | undefined): boolean {
    if (this.#isAnyHost) return true;
    if (host === undefined) return false;
    if (this.#exact.has(host)) return true;
    for (const suffix of this.#suffixes) {
      if (host.length > suffix.length && host.endsWith(suffix)) return true;
    }
    return false;
  }
}
