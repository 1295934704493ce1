import { describe, expect, it } from "vitest";
import { AllowedHosts, parseHostHeader } from "../../../src/admin/admin-hosts.ts";
import {
  crossSiteRequestOf,
  findCrossSiteRefusal,
  type CrossSiteRequest,
} from "../../../src/admin/cross-site.ts";

const ALLOWED = new AllowedHosts(["switchyard-admin.shop.svc", "*.admin.example"]);

function request(overrides: Partial<CrossSiteRequest>): CrossSiteRequest {
  return {
    hosts: ["127.0.0.1:9901"],
    httpVersion: "1.1",
    origin: undefined,
    secFetchSite: undefined,
    ...overrides,
  };
}

function verdict(overrides: Partial<CrossSiteRequest>): string {
  return findCrossSiteRefusal(request(overrides), ALLOWED)?.code ?? "accepted";
}

describe("parseHostHeader", () => {
  it.each([
    ["127.0.0.1:9901", { hostname: "127.0.0.1", isIpLiteral: true }],
    ["10.1.2.3", { hostname: "10.1.2.3", isIpLiteral: true }],
    ["[::1]:9901", { hostname: "[::1]", isIpLiteral: true }],
    ["[FE80::1]", { hostname: "[fe80::1]", isIpLiteral: true }],
    ["LocalHost:9901", { hostname: "localhost", isIpLiteral: false }],
    ["evil.example", { hostname: "evil.example", isIpLiteral: false }],
    ["127.1:9901", { hostname: "127.1", isIpLiteral: false }],
  ])("%s", (value, expected) => {
    expect(parseHostHeader(value)).toEqual(expected);
  });

  it.each(["", "::1", "[::1", "[evil.example]:80", "a:b:c", "host:99999x", "a b", "host:port"])(
    "refuses %j",
    (value) => {
      expect(parseHostHeader(value)).toBeUndefined();
    },
  );
});

describe("findCrossSiteRefusal: Host", () => {
  it.each([
    { host: "127.0.0.1:9901", expected: "accepted" },
    { host: "10.0.0.7:9901", expected: "accepted" },
    { host: "[::1]:9901", expected: "accepted" },
    { host: "localhost:9901", expected: "accepted" },
    { host: "localhost", expected: "accepted" },
    { host: "LOCALHOST:19901", expected: "accepted" },
    { host: "switchyard-admin.shop.svc:9901", expected: "accepted" },
    { host: "Switchyard-Admin.Shop.Svc", expected: "accepted" },
    { host: "eu.admin.example:9901", expected: "accepted" },
    { host: "a.b.admin.example", expected: "accepted" },
    { host: "evil.example:9901", expected: "SWITCHYARD_ADMIN_HOST_REFUSED" },
    { host: "admin.example", expected: "SWITCHYARD_ADMIN_HOST_REFUSED" },
    { host: "evil-admin.example", expected: "SWITCHYARD_ADMIN_HOST_REFUSED" },
    { host: "x.switchyard-admin.shop.svc", expected: "SWITCHYARD_ADMIN_HOST_REFUSED" },
    { host: "api.localhost:9901", expected: "SWITCHYARD_ADMIN_HOST_REFUSED" },
    { host: "localhost.:9901", expected: "SWITCHYARD_ADMIN_HOST_REFUSED" },
    { host: "127.0.0.1.nip.io:9901", expected: "SWITCHYARD_ADMIN_HOST_REFUSED" },
    { host: "a:b:c", expected: "SWITCHYARD_ADMIN_HOST_INVALID" },
  ])("$host -> $expected", ({ host, expected }) => {
    expect(verdict({ hosts: [host] })).toBe(expected);
  });

  it("needs a Host on HTTP/1.1 but not on HTTP/1.0", () => {
    expect(verdict({ hosts: [] })).toBe("SWITCHYARD_ADMIN_HOST_INVALID");
    expect(verdict({ hosts: [], httpVersion: "1.0" })).toBe("accepted");
  });

  it("refuses two Host headers, even when both are acceptable", () => {
    expect(verdict({ hosts: ["127.0.0.1:9901", "127.0.0.1:9901"] })).toBe(
      "SWITCHYARD_ADMIN_HOST_INVALID",
    );
  });

  it("says which Host was refused and how to allow it", () => {
    const refusal = findCrossSiteRefusal(request({ hosts: ["Evil.Example:9901"] }), ALLOWED);
    expect(refusal?.message).toContain('Host "Evil.Example:9901" does not name this admin API');
    expect(refusal?.message).toContain('list "evil.example" in admin.allowedHosts');
  });

  it("accepts only IP literals and localhost when no host is allowed", () => {
    const none = new AllowedHosts([]);
    const codeOf = (host: string): string =>
      findCrossSiteRefusal(request({ hosts: [host] }), none)?.code ?? "accepted";
    expect(codeOf("[::1]:9901")).toBe("accepted");
    expect(codeOf("switchyard-admin.shop.svc:9901")).toBe("SWITCHYARD_ADMIN_HOST_REFUSED");
  });
});

describe("findCrossSiteRefusal: Origin and Sec-Fetch-Site", () => {
  it.each([
    { origin: undefined, expected: "accepted" },
    { origin: "http://127.0.0.1:9901", expected: "accepted" },
    { origin: "HTTP://127.0.0.1:9901", expected: "accepted" },
    { origin: "http://evil.example", expected: "SWITCHYARD_ADMIN_ORIGIN_REFUSED" },
    { origin: "null", expected: "SWITCHYARD_ADMIN_ORIGIN_REFUSED" },
    { origin: "", expected: "SWITCHYARD_ADMIN_ORIGIN_REFUSED" },
    { origin: "https://127.0.0.1:9901", expected: "SWITCHYARD_ADMIN_ORIGIN_REFUSED" },
    { origin: "http://127.0.0.1:9902", expected: "SWITCHYARD_ADMIN_ORIGIN_REFUSED" },
    { origin: "http://127.0.0.1", expected: "SWITCHYARD_ADMIN_ORIGIN_REFUSED" },
    { origin: "http://localhost:9901", expected: "SWITCHYARD_ADMIN_ORIGIN_REFUSED" },
    {
      origin: "http://127.0.0.1:9901, http://evil.example",
      expected: "SWITCHYARD_ADMIN_ORIGIN_REFUSED",
    },
  ])("Origin $origin on Host 127.0.0.1:9901 -> $expected", ({ origin, expected }) => {
    expect(verdict({ origin })).toBe(expected);
  });

  it("refuses any Origin on an HTTP/1.0 request without Host", () => {
    expect(verdict({ hosts: [], httpVersion: "1.0", origin: "http://127.0.0.1:9901" })).toBe(
      "SWITCHYARD_ADMIN_ORIGIN_REFUSED",
    );
  });

  it.each([
    { site: undefined, expected: "accepted" },
    { site: "same-origin", expected: "accepted" },
    { site: "none", expected: "accepted" },
    { site: "cross-site", expected: "SWITCHYARD_ADMIN_ORIGIN_REFUSED" },
    { site: "same-site", expected: "SWITCHYARD_ADMIN_ORIGIN_REFUSED" },
    { site: "Cross-Site", expected: "SWITCHYARD_ADMIN_ORIGIN_REFUSED" },
  ])("Sec-Fetch-Site $site -> $expected", ({ site, expected }) => {
    expect(verdict({ secFetchSite: site })).toBe(expected);
  });

  it("checks the Host before the Origin", () => {
    // A rebinding page is same-origin to the browser: only the Host gives it away.
    const rebinding = { hosts: ["evil.example:9901"], origin: "http://evil.example:9901" };
    expect(verdict({ ...rebinding, secFetchSite: "same-origin" })).toBe(
      "SWITCHYARD_ADMIN_HOST_REFUSED",
    );
  });
});

describe("crossSiteRequestOf", () => {
  it("collects every Host of the raw headers", () => {
    const seen = crossSiteRequestOf({
      rawHeaders: ["Host", "127.0.0.1:9901", "HOST", "evil.example", "Origin", "null"],
      headers: { host: "127.0.0.1:9901", origin: "null", "sec-fetch-site": "cross-site" },
      httpVersion: "1.1",
    });
    expect(seen).toEqual({
      hosts: ["127.0.0.1:9901", "evil.example"],
      httpVersion: "1.1",
      origin: "null",
      secFetchSite: "cross-site",
    });
  });
});
