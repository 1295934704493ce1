import type { IncomingMessage } from "node:http";
import { afterAll, describe, expect, it } from "vitest";
import type { ProxyErrorCode } from "../../../src/proxy/errors.ts";
import { RequestResolver, type Resolution } from "../../../src/proxy/resolve.ts";
import { buildSnapshot, type Snapshot } from "../../../src/runtime/snapshot.ts";
import { buildUpstreams } from "../../../src/upstream/upstream-set.ts";
import { parseTestConfig } from "../../support/switchyard.ts";
import { testUpstreamDeps } from "../../support/upstream-deps.ts";

const config = parseTestConfig({
  upstreams: {
    stable: { endpoints: ["http://127.0.0.1:1"] },
    canary: { endpoints: ["http://127.0.0.1:2"] },
    lonely: { endpoints: ["http://127.0.0.1:3"] },
  },
  routes: [
    { name: "alone", match: { pathPrefix: "/alone" }, split: { lonely: 100 }, fallback: false },
    { name: "web", match: { hosts: ["app.test"] }, split: { canary: 100, stable: 0 } },
  ],
});
const { upstreams } = buildUpstreams(config, testUpstreamDeps());
const snapshot: Snapshot = buildSnapshot(config, "test", upstreams);
const resolver = new RequestResolver({ current: snapshot }, () => 0.5);

afterAll(async () => {
  await Promise.all([...upstreams.values()].flatMap((u) => u.endpoints.map((e) => e.close())));
});

interface RequestParts {
  url?: string;
  version?: [number, number];
  /** Raw header pairs; Host app.test unless given. */
  headers?: [string, string][];
}

/** The parts of a parsed request that resolving reads. */
function request(parts: RequestParts = {}): IncomingMessage {
  const pairs = parts.headers ?? [["Host", "app.test"]];
  const headers: Record<string, string> = {};
  for (const [name, value] of pairs) headers[name.toLowerCase()] = value;
  const [major, minor] = parts.version ?? [1, 1];
  return {
    method: "GET",
    url: parts.url ?? "/",
    httpVersionMajor: major,
    httpVersionMinor: minor,
    rawHeaders: pairs.flat(),
    headers,
  } as unknown as IncomingMessage;
}

/** Resolves and settles an admitted attempt, so breakers see no call left open. */
function resolve(req: IncomingMessage, isUpgrade = false): Resolution {
  const resolution = resolver.resolve(req, isUpgrade);
  if (resolution.kind === "destination") resolution.attempt.breakerCall.succeed();
  return resolution;
}

function refusalOf(resolution: Resolution): { code: ProxyErrorCode; mustClose: boolean } {
  if (resolution.kind !== "refusal") throw new Error("expected a refusal");
  return { code: resolution.code, mustClose: resolution.mustClose };
}

const H2C: [string, string][] = [
  ["Host", "app.test"],
  ["Connection", "Upgrade"],
  ["Upgrade", "websocket, H2C"],
];

describe("RequestResolver.resolve", () => {
  it.each<[string, RequestParts, boolean, ProxyErrorCode, boolean]>([
    ["HTTP/2.0", { version: [2, 0] }, false, "SWITCHYARD_HTTP_VERSION_NOT_SUPPORTED", true],
    ["HTTP/0.9", { version: [0, 9] }, false, "SWITCHYARD_HTTP_VERSION_NOT_SUPPORTED", true],
    ["an h2c upgrade", { headers: H2C }, true, "SWITCHYARD_UPGRADE_REFUSED", false],
    [
      "h2c before the version",
      { headers: H2C, version: [2, 0] },
      true,
      "SWITCHYARD_UPGRADE_REFUSED",
      false,
    ],
    [
      "two Hosts",
      {
        headers: [
          ["Host", "a"],
          ["Host", "b"],
        ],
      },
      false,
      "SWITCHYARD_BAD_REQUEST",
      true,
    ],
    ["an unusable target", { url: "nope" }, false, "SWITCHYARD_BAD_REQUEST", true],
    [
      "our own Via",
      {
        headers: [
          ["Host", "app.test"],
          ["Via", "1.0 a, 1.1 switchyard"],
        ],
      },
      false,
      "SWITCHYARD_LOOP_DETECTED",
      false,
    ],
    ["no route", { headers: [["Host", "other.test"]] }, false, "SWITCHYARD_NO_ROUTE", false],
  ])("refuses %s", (_name, parts, isUpgrade, code, mustClose) => {
    expect(refusalOf(resolve(request(parts), isUpgrade))).toEqual({ code, mustClose });
  });

  it("refuses h2c only on the upgrade path (a plain request drops Upgrade)", () => {
    expect(resolve(request({ headers: H2C }), false).kind).toBe("destination");
  });

  it("says why a malformed request was refused", () => {
    const refusal = resolve(request({ headers: [["Host", "a b"]] }));
    expect(refusal.kind === "refusal" && refusal.problem).toMatch(/invalid Host/);
  });

  it("keeps a sane request id and replaces one that is not", () => {
    const sane = [
      ["Host", "app.test"],
      ["X-Request-Id", "abc-1"],
    ] as [string, string][];
    expect(resolve(request({ headers: sane })).requestId).toBe("abc-1");
    const insane = [
      ["Host", "app.test"],
      ["X-Request-Id", "a b"],
    ] as [string, string][];
    expect(resolve(request({ headers: insane })).requestId).not.toBe("a b");
  });

  it("gives the route, the pick, the attempt and the origin-form target", () => {
    const resolution = resolve(request({ url: "http://app.test/p?q=1" }));
    if (resolution.kind !== "destination") throw new Error("expected a destination");
    expect(resolution.route.name).toBe("web");
    expect(resolution.pick.upstream).toBe("canary");
    expect(resolution.attempt.upstream.name).toBe("canary");
    expect(resolution.target).toEqual({ pathAndQuery: "/p?q=1", path: "/p", rawQuery: "q=1" });
    expect(resolution.snapshot).toBe(snapshot);
  });

  it("falls back to another upstream of the route when the picked one is unavailable", () => {
    const canary = upstreams.get("canary")?.endpoints[0];
    if (canary === undefined) throw new Error("no canary endpoint");
    canary.isHealthy = false;
    try {
      const resolution = resolve(request());
      if (resolution.kind !== "destination") throw new Error("expected a destination");
      expect([resolution.pick.upstream, resolution.attempt.upstream.name]).toEqual([
        "canary",
        "stable",
      ]);
    } finally {
      canary.isHealthy = true;
    }
  });

  it("refuses with 503, naming the route and the picked upstream, when none is available", () => {
    const lonely = upstreams.get("lonely")?.endpoints[0];
    if (lonely === undefined) throw new Error("no lonely endpoint");
    lonely.isHealthy = false;
    try {
      const resolution = resolve(request({ url: "/alone" }));
      if (resolution.kind !== "refusal") throw new Error("expected a refusal");
      expect(resolution.code).toBe("SWITCHYARD_UPSTREAM_UNAVAILABLE");
      expect([resolution.route?.name, resolution.pickedUpstream]).toEqual(["alone", "lonely"]);
    } finally {
      lonely.isHealthy = true;
    }
  });

  it("answers with one reused object per kind, its fields reset on every call", () => {
    const first = resolve(request({ headers: [["Host", "other.test"]] }));
    const second = resolve(request({ version: [2, 0] }));
    expect(second).toBe(first);
    expect(second.kind === "refusal" && [second.route, second.problem]).toEqual([
      undefined,
      undefined,
    ]);
    expect(resolve(request())).toBe(resolve(request({ url: "/other" })));
  });
});
