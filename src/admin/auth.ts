/**
 * Bearer tokens and scopes. Tokens are compared as SHA-256 digests with `timingSafeEqual`, so
 * neither a token's content nor its length shows in the time an answer takes, and every
 * configured token is compared on every call (no early exit on a match).
 */
import { createHash, timingSafeEqual } from "node:crypto";
import type { Config } from "../config/schema.ts";

export type AdminConfig = Config["admin"];
export type AdminToken = AdminConfig["tokens"][number];
export type TokenScope = AdminToken["scope"];
/** What an endpoint needs: nothing, or a token of at least this scope. */
export type RequiredScope = "none" | TokenScope;

/** The actor named in logs when no token is configured or the endpoint needs none. */
export const ANONYMOUS_ACTOR = "anonymous";

export const WWW_AUTHENTICATE = 'Bearer realm="switchyard"';

/** Compares two equal-length digests; injectable so tests can watch the comparisons. */
export type DigestEquals = (a: Buffer, b: Buffer) => boolean;

export function sha256(text: string): Buffer {
  return createHash("sha256").update(text, "utf8").digest();
}

export class TokenMatcher {
  private readonly entries: readonly { token: AdminToken; digest: Buffer }[];
  private readonly equals: DigestEquals;

  constructor(tokens: readonly AdminToken[], equals: DigestEquals = timingSafeEqual) {
    this.entries = tokens.map((token) => ({ token, digest: sha256(token.token) }));
    this.equals = equals;
  }

  get isEmpty(): boolean {
    return this.entries.length === 0;
  }

  /** The configured token equal to `presented`, comparing against all of them. */
  find(presented: string): AdminToken | undefined {
    const digest = sha256(presented);
    let found: AdminToken | undefined;
    for (const entry of this.entries) {
      if (this.equals(entry.digest, digest) && found === undefined) found = entry.token;
    }
    return found;
  }
}

export type AuthDecision =
  | { readonly ok: true; readonly actor: string }
  | { readonly ok: false; readonly status: 401; readonly reason: "missing" | "unknown" }
  | { readonly ok: false; readonly status: 403; readonly actor: string };

/** The token of an `Authorization: Bearer TOKEN` header, or undefined when there is none. */
export function bearerToken(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const found = /^Bearer[ ]+(\S+)[ ]*$/i.exec(header);
  return found?.[1];
}

/**
 * Decides a call: with no tokens configured everything is allowed; otherwise a call that needs
 * a scope must carry a known token (401) of that scope or above (403).
 */
export function authorize(
  matcher: TokenMatcher,
  authorizationHeader: string | undefined,
  required: RequiredScope,
): AuthDecision {
  if (required === "none" || matcher.isEmpty) return { ok: true, actor: ANONYMOUS_ACTOR };
  const presented = bearerToken(authorizationHeader);
  if (presented === undefined) return { ok: false, status: 401, reason: "missing" };
  const token = matcher.find(presented);
  if (token === undefined) return { ok: false, status: 401, reason: "unknown" };
  if (required === "write" && token.scope !== "write") {
    return { ok: false, status: 403, actor: token.name };
  }
  return { ok: true, actor: token.name };
}
