/** A rule value (SPEC 3.2): exact text, or `~regex`, compiled once per snapshot. */

export class ValueMatcher {
  /** The value as written in the config. */
  readonly source: string;
  readonly #exact: string | undefined;
  readonly #regex: RegExp | undefined;

  constructor(source: string) {
    this.source = source;
    // No g/y flags: `test` must not carry lastIndex state from one request to the next.
    this.#regex = source.startsWith("~") ? new RegExp(source.slice(1)) : undefined;
    this.#exact = this.#regex === undefined ? source : undefined;
  }

  matches(value: string): boolean {
    return this.#regex === undefined ? value === this.#exact : this.#regex.test(value);
  }

  /**
   * A header value: an array (one element per occurrence, like `req.headersDistinct`) matches
   * if any element does. A string matches as a whole or, since Node joins repeated headers
   * with ", ", if any comma-separated element does.
   */
  matchesHeader(value: string | readonly string[] | undefined): boolean {
    if (value === undefined) return false;
    if (typeof value === "string") return this.#matchesList(value);
    for (const one of value) {
      if (this.#matchesList(one)) return true;
    }
    return false;
  }

  #matchesList(value: string): boolean {
    if (this.matches(value)) return true;
    if (!value.includes(",")) return false;
    let start = 0;
    while (start <= value.length) {
      let end = value.indexOf(",", start);
      if (end === -1) end = value.length;
      const element = value.slice(start, end).trim();
      // Empty list elements carry no value (RFC 9110 5.6.1).
      if (element !== "" && this.matches(element)) return true;
      start = end + 1;
    }
    return false;
  }
}
