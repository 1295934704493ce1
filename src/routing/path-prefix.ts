/**
 * Route path matching (SPEC 3.1), case-sensitive. `/api` matches `/api`, `/api/` and `/api/x`
 * but not `/apix`: the prefix ends on a segment boundary. A prefix that ends with `/` is a plain
 * prefix, so `/` matches every path.
 */
export class PathPrefix {
  readonly prefix: string;
  readonly #isPlainPrefix: boolean;

  constructor(prefix: string) {
    this.prefix = prefix;
    this.#isPlainPrefix = prefix.endsWith("/");
  }

  /** `path` is the request-target's path without the query. */
  matches(path: string): boolean {
    const prefix = this.prefix;
    if (this.#isPlainPrefix) return prefix === "/" || path.startsWith(prefix);
    if (!path.startsWith(prefix)) return false;
    return path.length === prefix.length || path.charCodeAt(prefix.length) === SLASH;
  }
}

const SLASH = 0x2f;
