/**
 * The names the admin API answers to, against DNS rebinding: a page of evil.example whose name
 * is made to resolve to 127.0.0.1 reaches the admin port with `Host: evil.example`, so a Host
 * that names something else than this listener is refused. IP literals are always accepted (a
 * request addressed to an IP cannot be a rebinding), as is `localhost`; other names only when
 * listed in `admin.allowedHosts` (exact, or `*.` for any name below). The port is not
 * compared: a port-forward (kubectl, ssh) reaches the listener through another port.
 */
import { isIP } from "node:net";

export interface ParsedHost {
  /** Lower-cased; IPv6 literals keep their brackets (`[::1]`). */
  readonly hostname: string;
  readonly isIpLiteral: boolean;
}

const BRACKETED = /^\[([^\]]+)\](?::(\d{0,5}))?$/;
const NAME_AND_PORT = /^([^:[\]\s]+)(?::(\d{0,5}))?$/;

/** `name`, `name:port`, `1.2.3.4:port` or `[v6]:port`; undefined for anything else. */
export function parseHostHeader(value: string): ParsedHost | undefined {
  const bracketed = BRACKETED.exec(value);
  if (bracketed !== null) {
    const address = bracketed[1] ?? "";
    if (isIP(address) !== 6) return undefined;
    return { hostname: `[${address.toLowerCase()}]`, isIpLiteral: true };
  }
  const named = NAME_AND_PORT.exec(value);
  if (named === null) return undefined;
  const hostname = (named[1] ?? "").toLowerCase();
  return { hostname, isIpLiteral: isIP(hostname) === 4 };
}

/** `admin.allowedHosts`, compiled once per config: exact names and `*.` suffixes. */
export class AllowedHosts {
  private readonly exact: ReadonlySet<string>;
  /** `.shop.svc` for `*.shop.svc`. */
  private readonly suffixes: readonly string[];

  constructor(patterns: readonly string[]) {
    const lower = patterns.map((pattern) => pattern.toLowerCase());
    this.exact = new Set(lower.filter((pattern) => !pattern.startsWith("*.")));
    this.suffixes = lower
      .filter((pattern) => pattern.startsWith("*."))
      .map((pattern) => pattern.slice(1));
  }

  /** IP literals, `localhost`, and the listed names. */
  accepts(host: ParsedHost): boolean {
    if (host.isIpLiteral || host.hostname === "localhost") return true;
    if (this.exact.has(host.hostname)) return true;
    return this.suffixes.some(
      (suffix) => host.hostname.endsWith(suffix) && host.hostname.length > suffix.length,
    );
  }
}
