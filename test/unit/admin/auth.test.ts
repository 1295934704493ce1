import { timingSafeEqual } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  authorize,
  bearerToken,
  sha256,
  TokenMatcher,
  type AdminToken,
  type DigestEquals,
} from "../../../src/admin/auth.ts";

const READ: AdminToken = { name: "dashboards", scope: "read", token: "read-token-0123456789" };
const WRITE: AdminToken = { name: "ops", scope: "write", token: "write-token-0123456789" };
const OTHER: AdminToken = { name: "ci", scope: "write", token: "ci-token-0123456789ab" };

/** Records each comparison, then compares in constant time like the default. */
function watchingEquals(): { equals: DigestEquals; lengths: [number, number][] } {
  const lengths: [number, number][] = [];
  return {
    lengths,
    equals: (a, b) => {
      lengths.push([a.length, b.length]);
      return timingSafeEqual(a, b);
    },
  };
}

describe("TokenMatcher", () => {
  it("finds the token equal to the one presented, and nothing for near misses", () => {
    const matcher = new TokenMatcher([READ, WRITE]);
    expect(matcher.find(WRITE.token)).toBe(WRITE);
    expect(matcher.find(READ.token)).toBe(READ);
    for (const near of [
      `${WRITE.token}x`,
      WRITE.token.slice(0, -1),
      WRITE.token.toUpperCase(),
      "",
      ` ${WRITE.token}`,
    ]) {
      expect(matcher.find(near), JSON.stringify(near)).toBeUndefined();
    }
  });

  it("compares SHA-256 digests of equal length against every token, without stopping at a match", () => {
    const watch = watchingEquals();
    const matcher = new TokenMatcher([WRITE, READ, OTHER], watch.equals);
    expect(matcher.find(WRITE.token)).toBe(WRITE);
    expect(watch.lengths).toEqual([
      [32, 32],
      [32, 32],
      [32, 32],
    ]);
    watch.lengths.length = 0;
    // A presented token of another length still compares 32 bytes with 32 bytes.
    expect(matcher.find("short")).toBeUndefined();
    expect(matcher.find("x".repeat(4096))).toBeUndefined();
    expect(watch.lengths).toHaveLength(6);
    expect(watch.lengths.every(([a, b]) => a === 32 && b === 32)).toBe(true);
  });

  it("defaults to crypto.timingSafeEqual over SHA-256", () => {
    expect(sha256("abc").toString("hex")).toBe(
      "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
    );
    // timingSafeEqual throws on unequal lengths; digests make that impossible.
    expect(new TokenMatcher([WRITE]).find("a")).toBeUndefined();
  });
});

describe("bearerToken", () => {
  it.each([
    ["Bearer abc", "abc"],
    ["bearer abc", "abc"],
    ["BEARER   abc  ", "abc"],
    ["Bearer", undefined],
    ["Bearer ", undefined],
    ["Bearer a b", undefined],
    ["Basic abc", undefined],
    ["abc", undefined],
    [undefined, undefined],
  ])("%j -> %j", (header, token) => {
    expect(bearerToken(header)).toBe(token);
  });
});

describe("authorize", () => {
  const matcher = new TokenMatcher([READ, WRITE]);
  const header = (token: AdminToken): string => `Bearer ${token.token}`;

  it("allows everything, anonymously, when no token is configured", () => {
    const open = new TokenMatcher([]);
    expect(authorize(open, undefined, "write")).toEqual({ ok: true, actor: "anonymous" });
    expect(authorize(open, "Bearer whatever", "read")).toEqual({ ok: true, actor: "anonymous" });
  });

  it("needs no token where the endpoint needs none", () => {
    expect(authorize(matcher, undefined, "none")).toEqual({ ok: true, actor: "anonymous" });
  });

  it("refuses a missing token and an unknown one with 401", () => {
    expect(authorize(matcher, undefined, "read")).toEqual({
      ok: false,
      status: 401,
      reason: "missing",
    });
    expect(authorize(matcher, "Bearer nope-0123456789abcdef", "read")).toEqual({
      ok: false,
      status: 401,
      reason: "unknown",
    });
  });

  it("lets a read token read and refuses its writes with 403", () => {
    expect(authorize(matcher, header(READ), "read")).toEqual({ ok: true, actor: "dashboards" });
    expect(authorize(matcher, header(READ), "write")).toEqual({
      ok: false,
      status: 403,
      actor: "dashboards",
    });
  });

  it("lets a write token read and write", () => {
    expect(authorize(matcher, header(WRITE), "read")).toEqual({ ok: true, actor: "ops" });
    expect(authorize(matcher, header(WRITE), "write")).toEqual({ ok: true, actor: "ops" });
  });
});
