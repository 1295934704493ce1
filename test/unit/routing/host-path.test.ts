import { describe, expect, it } from "vitest";
import { HostMatcher, normalizeHost } from "../../../src/routing/host-matcher.ts";
import { PathPrefix } from "../../../src/routing/path-prefix.ts";

describe("normalizeHost", () => {
  it.each([
    [undefined, undefined],
    ["", undefined],
    ["Shop.Example.COM", "shop.example.com"],
    ["shop.example.com:8080", "shop.example.com"],
    ["shop.example.com.", "shop.example.com"],
    ["shop.example.com.:443", "shop.example.com"],
    ["[::1]:8080", "::1"],
    ["[::1]", "::1"],
    ["[2001:DB8::1]", "2001:db8::1"],
    ["::1", "::1"],
    ["127.0.0.1:80", "127.0.0.1"],
  ])("%j -> %j", (raw, expected) => {
    expect(normalizeHost(raw)).toBe(expected);
  });
});

describe("HostMatcher", () => {
  const matcher = new HostMatcher(["Shop.Example.com", "*.apps.example.com", "[::1]", "10.0.0.1"]);

  it.each([
    ["shop.example.com", true],
    ["SHOP.example.com:8443", true],
    ["shop.example.com.", true],
    ["www.shop.example.com", false],
    ["a.apps.example.com", true],
    ["a.b.apps.example.com:80", true],
    ["apps.example.com", false],
    ["xapps.example.com", false],
    ["[::1]:8080", true],
    ["10.0.0.1:8080", true],
    ["example.com", false],
    [undefined, false],
  ])("%j -> %s", (host, expected) => {
    expect(matcher.matches(normalizeHost(host))).toBe(expected);
  });

  it("matches any host, even none, without hosts", () => {
    const any = new HostMatcher(undefined);
    expect(any.matches("whatever.test")).toBe(true);
    expect(any.matches(undefined)).toBe(true);
  });

  it("treats * as any host", () => {
    expect(new HostMatcher(["*"]).matches("a.test")).toBe(true);
  });
});

describe("PathPrefix", () => {
  it.each([
    ["/", "/", true],
    ["/", "/anything/at/all", true],
    ["/api", "/api", true],
    ["/api", "/api/", true],
    ["/api", "/api/users", true],
    ["/api", "/apix", false],
    ["/api", "/ap", false],
    ["/api", "/API", false],
    ["/api", "/other/api", false],
    ["/api/", "/api/x", true],
    ["/api/", "/api", false],
    ["/ap", "/api", false],
    ["/static-", "/static-js", false],
    ["/static-/", "/static-/js", true],
  ])("%j against %j -> %s", (prefix, path, expected) => {
    expect(new PathPrefix(prefix).matches(path)).toBe(expected);
  });
});
