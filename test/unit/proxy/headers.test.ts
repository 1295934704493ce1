/**
 * Header rewriting between client and upstream (src/proxy/headers.ts): what is forwarded as
 * it came, what is dropped (hop-by-hop, named by Connection, look-alike framing names), and
 * what is set (X-Forwarded-*, Via, X-Request-Id), for trusted and untrusted clients.
 * Upgrades have their own cases in upgrade-headers.test.ts.
 */
import type { IncomingHttpHeaders } from "node:http";
import { describe, expect, it } from "vitest";
import {
  buildClientResponseHeaders,
  buildUpstreamRequestHeaders,
  hasOwnVia,
  VIA_TOKEN,
} from "../../../src/proxy/headers.ts";
import { CLIENT_IP, parsedRequest } from "./parsed-request.ts";

type Pair = readonly [string, string];

const TRUSTED = { isTrusted: true };
const UNTRUSTED = { isTrusted: false };
const ID = "req-1";

/** The flat [name, value, ...] array as pairs. */
function pairsOf(flat: readonly string[]): Pair[] {
  const pairs: Pair[] = [];
  for (let i = 0; i < flat.length; i += 2) pairs.push([flat[i] ?? "", flat[i + 1] ?? ""]);
  return pairs;
}

function upstreamPairs(rawHeaders: readonly Pair[], forwarded = UNTRUSTED): Pair[] {
  return pairsOf(buildUpstreamRequestHeaders(parsedRequest(rawHeaders), ID, forwarded));
}

/** The headers switchyard adds, for a request with Host app.test from CLIENT_IP. */
const ADDED: Pair[] = [
  ["x-forwarded-for", CLIENT_IP],
  ["x-forwarded-proto", "http"],
  ["x-forwarded-host", "app.test"],
  ["via", `1.1 ${VIA_TOKEN}`],
  ["x-request-id", ID],
];

/** Upstream headers with a repeated Connection or Via (typed as one string by node). */
function repeated(headers: Record<string, string | string[]>): IncomingHttpHeaders {
  return headers;
}

/** Values of `name` (any case) among `pairs`. */
function valuesOf(pairs: readonly Pair[], name: string): string[] {
  return pairs.filter(([n]) => n.toLowerCase() === name).map(([, value]) => value);
}

describe("buildUpstreamRequestHeaders", () => {
  it("forwards end-to-end headers as they came: names' case, order and repeats kept", () => {
    const end: Pair[] = [
      ["Host", "app.test"],
      ["Accept", "text/html"],
      ["cookie", "a=1"],
      ["X-Custom", "one"],
      ["Cookie", "b=2"],
      ["Content-Length", "3"],
      ["authorization", "Bearer t"],
    ];
    expect(upstreamPairs(end)).toEqual([...end, ...ADDED]);
  });

  it.each([
    "Connection",
    "Keep-Alive",
    "Proxy-Connection",
    "TE",
    "Transfer-Encoding",
    "Upgrade",
    "Proxy-Authorization",
    "Proxy-Authenticate",
    "Expect",
  ])("drops %s, in any case", (name) => {
    for (const spelled of [name, name.toLowerCase(), name.toUpperCase()]) {
      const pairs = upstreamPairs([
        ["Host", "app.test"],
        [spelled, "value"],
      ]);
      expect(pairs).toEqual([["Host", "app.test"], ...ADDED]);
    }
  });

  it("drops every header Connection names, whatever its case and spacing", () => {
    const pairs = upstreamPairs([
      ["Host", "app.test"],
      ["Connection", " X-Secret ,cookie,, KEEP-ALIVE "],
      ["x-secret", "s"],
      ["Cookie", "a=1"],
      ["X-Kept", "k"],
    ]);
    expect(pairs).toEqual([["Host", "app.test"], ["X-Kept", "k"], ...ADDED]);
  });

  it("reads the names of every Connection header of the request", () => {
    const pairs = upstreamPairs([
      ["Host", "app.test"],
      ["Connection", "keep-alive"],
      ["Connection", "X-One"],
      ["X-One", "1"],
      ["X-Two", "2"],
    ]);
    expect(pairs).toEqual([["Host", "app.test"], ["X-Two", "2"], ...ADDED]);
  });

  it.each(["close", "keep-alive", "Keep-Alive", "close, keep-alive", ""])(
    "drops no other header for Connection: %j",
    (connection) => {
      const pairs = upstreamPairs([
        ["Host", "app.test"],
        ["Connection", connection],
        ["Close", "x"],
        ["X-Kept", "k"],
      ]);
      expect(pairs).toEqual([["Host", "app.test"], ["Close", "x"], ["X-Kept", "k"], ...ADDED]);
    },
  );

  it("sets its own headers even when Connection names them", () => {
    const pairs = upstreamPairs([
      ["Host", "app.test"],
      ["Connection", "X-Forwarded-For, X-Forwarded-Host, Via, X-Request-Id"],
      ["X-Forwarded-For", "203.0.113.1"],
      ["Via", "1.1 edge"],
    ]);
    // A Via the client named still counts for loop detection: it stays in the chain.
    expect(pairs).toEqual([
      ["Host", "app.test"],
      ["x-forwarded-for", CLIENT_IP],
      ["x-forwarded-proto", "http"],
      ["x-forwarded-host", "app.test"],
      ["via", `1.1 edge, 1.1 ${VIA_TOKEN}`],
      ["x-request-id", ID],
    ]);
  });

  describe("from an untrusted client", () => {
    it("replaces X-Forwarded-* with what it saw itself", () => {
      const pairs = upstreamPairs([
        ["Host", "app.test"],
        ["X-Forwarded-For", "203.0.113.1, 198.51.100.2"],
        ["X-Forwarded-Proto", "https"],
        ["X-Forwarded-Host", "spoofed.example"],
      ]);
      expect(pairs).toEqual([["Host", "app.test"], ...ADDED]);
    });

    it("sets no X-Forwarded-Host without a Host", () => {
      const pairs = upstreamPairs([["X-Forwarded-Host", "spoofed.example"]]);
      expect(valuesOf(pairs, "x-forwarded-host")).toEqual([]);
      expect(valuesOf(pairs, "x-forwarded-for")).toEqual([CLIENT_IP]);
    });
  });

  describe("from a trusted client", () => {
    it("appends the client's address to every X-Forwarded-For, in order", () => {
      const pairs = upstreamPairs(
        [
          ["X-Forwarded-For", "203.0.113.1"],
          ["Host", "app.test"],
          ["x-forwarded-for", "198.51.100.2, 198.51.100.3"],
        ],
        TRUSTED,
      );
      expect(valuesOf(pairs, "x-forwarded-for")).toEqual([
        `203.0.113.1, 198.51.100.2, 198.51.100.3, ${CLIENT_IP}`,
      ]);
    });

    it("keeps the first X-Forwarded-Proto and X-Forwarded-Host it was given", () => {
      const pairs = upstreamPairs(
        [
          ["Host", "internal.test"],
          ["X-Forwarded-Proto", "https"],
          ["X-Forwarded-Proto", "http"],
          ["X-Forwarded-Host", "shop.example"],
          ["X-Forwarded-Host", "other.example"],
        ],
        TRUSTED,
      );
      expect(valuesOf(pairs, "x-forwarded-proto")).toEqual(["https"]);
      expect(valuesOf(pairs, "x-forwarded-host")).toEqual(["shop.example"]);
    });

    it("falls back to its own view where the client sent none", () => {
      expect(upstreamPairs([["Host", "app.test"]], TRUSTED)).toEqual([
        ["Host", "app.test"],
        ...ADDED,
      ]);
      expect(valuesOf(upstreamPairs([], TRUSTED), "x-forwarded-host")).toEqual([]);
    });
  });

  it("appends itself to every Via it was given", () => {
    const pairs = upstreamPairs([
      ["Via", "1.0 edge"],
      ["Host", "app.test"],
      ["via", "1.1 lb (nginx)"],
    ]);
    expect(valuesOf(pairs, "via")).toEqual([`1.0 edge, 1.1 lb (nginx), 1.1 ${VIA_TOKEN}`]);
  });

  it("replaces the client's X-Request-Id with the request's own", () => {
    const pairs = upstreamPairs([
      ["Host", "app.test"],
      ["X-Request-Id", "chosen-by-client"],
    ]);
    expect(valuesOf(pairs, "x-request-id")).toEqual([ID]);
  });

  it("sends an empty X-Forwarded-For when the socket no longer knows the address", () => {
    const req = parsedRequest([["Host", "app.test"]], { remoteAddress: undefined });
    const pairs = pairsOf(buildUpstreamRequestHeaders(req, ID, UNTRUSTED));
    expect(valuesOf(pairs, "x-forwarded-for")).toEqual([""]);
  });
});

describe("buildClientResponseHeaders", () => {
  it("forwards end-to-end headers, repeated ones as arrays, and adds Via and X-Request-Id", () => {
    expect(
      buildClientResponseHeaders(
        {
          "content-type": "application/json",
          "content-length": "12",
          "set-cookie": ["a=1", "b=2"],
          "cache-control": "no-store",
        },
        ID,
      ),
    ).toEqual({
      "content-type": "application/json",
      "content-length": "12",
      "set-cookie": ["a=1", "b=2"],
      "cache-control": "no-store",
      via: `1.1 ${VIA_TOKEN}`,
      "x-request-id": ID,
    });
  });

  it("drops hop-by-hop headers and those Connection names", () => {
    const headers = buildClientResponseHeaders(
      {
        connection: "X-Internal, close",
        "keep-alive": "timeout=5",
        "transfer-encoding": "chunked",
        upgrade: "h2c",
        "proxy-authenticate": "Basic",
        "proxy-connection": "keep-alive",
        te: "trailers",
        "x-internal": "secret",
        "x-public": "p",
      },
      ID,
    );
    expect(Object.keys(headers)).toEqual(["x-public", "via", "x-request-id"]);
  });

  it("reads the names of a Connection header given as an array", () => {
    const headers = buildClientResponseHeaders(
      repeated({ connection: ["X-One", "X-Two"], "x-one": "1", "x-two": "2", "x-three": "3" }),
      ID,
    );
    expect(Object.keys(headers)).toEqual(["x-three", "via", "x-request-id"]);
  });

  it("drops names that an origin's framework would fold into a framing header", () => {
    const headers = buildClientResponseHeaders(
      { transfer_encoding: "chunked", content_length: "5", "content-length": "5" },
      ID,
    );
    expect(Object.keys(headers)).toEqual(["content-length", "via", "x-request-id"]);
  });

  it("appends itself to the upstream's Via, and replaces its X-Request-Id", () => {
    expect(
      buildClientResponseHeaders(
        repeated({ via: ["1.1 origin", "1.0 cache"], "x-request-id": "origin-id" }),
        ID,
      ),
    ).toEqual({ via: `1.1 origin, 1.0 cache, 1.1 ${VIA_TOKEN}`, "x-request-id": ID });
  });
});

describe("hasOwnVia", () => {
  it.each([
    [undefined, false],
    ["", false],
    ["1.1 switchyard", true],
    ["HTTP/1.1 switchyard (comment)", true],
    ["1.0 edge, 1.1 switchyard", true],
    ["1.1 switchyard, 1.0 edge", true],
    ["  1.1   switchyard  ", true],
    ["1.1 edge", false],
    ["1.1 switchyard-two", false],
    ["1.1 my-switchyard", false],
    ["switchyard", false],
    ["1.1 edge (via switchyard)", false],
  ])("%j -> %s", (via, expected) => {
    expect(hasOwnVia(via)).toBe(expected);
  });
});
