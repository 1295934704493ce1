/**
 * An upgrade is forwarded by the same rules as a plain request: the upstream sees the same
 * headers (apart from Connection and Upgrade, which an upgrade needs) and the same
 * request-target, and a new sticky client gets its cookie on the 101 as on any answer.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startEchoBackend, type EchoBackend } from "../../support/echo-backend.ts";
import { connectRaw, parseAllResponses, sendRaw } from "../../support/raw-client.ts";
import { startTestSwitchyard, type TestSwitchyard } from "../../support/switchyard.ts";

/** A request head for Host app.test with extra header lines. */
function requestHead(target: string, headers: string[]): string {
  return `${[`GET ${target} HTTP/1.1`, "Host: app.test", ...headers].join("\r\n")}\r\n\r\n`;
}

/** Sends an upgrade and returns the head of its answer (the tunnel is closed after it). */
async function upgradeAnswer(port: number, head: string) {
  const connection = await connectRaw(port);
  try {
    await connection.write(head);
    return parseAllResponses(await connection.waitForData("\r\n\r\n"))[0];
  } finally {
    connection.destroy();
  }
}

/** Lower-case name and value pairs as the backend received them, without these names. */
function headerPairs(rawHeaders: readonly string[], without: readonly string[]): string[] {
  const pairs: string[] = [];
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = (rawHeaders[i] ?? "").toLowerCase();
    if (!without.includes(name)) pairs.push(`${name}: ${rawHeaders[i + 1] ?? ""}`);
  }
  return pairs;
}

describe("an upgrade is forwarded like a plain request", () => {
  let backend: EchoBackend;
  let proxy: TestSwitchyard;

  beforeAll(async () => {
    backend = await startEchoBackend({ name: "stable" });
    proxy = await startTestSwitchyard({
      upstreams: { stable: { endpoints: [backend.url] } },
      routes: [
        {
          name: "sticky",
          match: { pathPrefix: "/sticky" },
          split: { stable: 100 },
          sticky: { cookie: "sy_sticky" },
        },
        { name: "web", split: { stable: 100 } },
      ],
    });
  });
  afterAll(async () => {
    await proxy.close();
    await backend.close();
  });
  beforeEach(() => {
    backend.clearReceived();
  });

  it("with the same headers: hop-by-hop and Connection-listed ones dropped, X-Forwarded-* and Via set", async () => {
    const shared = [
      "X-Forwarded-For: 203.0.113.9",
      "X-Forwarded-Proto: https",
      "Via: 1.0 edge",
      "Keep-Alive: timeout=5",
      "Proxy-Authorization: Basic c2VjcmV0",
      "TE: trailers",
      "X-Hop-Secret: listed in Connection",
      "X-Request-Id: parity-1",
      "X-Kept: 1",
      "X-Kept: 2",
    ];
    const plain = await sendRaw(
      proxy.proxyPort,
      requestHead("/same", ["Connection: close, X-Hop-Secret", ...shared]),
    );
    expect(plain.statusCode).toBe(200);
    const upgraded = await upgradeAnswer(
      proxy.proxyPort,
      requestHead("/same", ["Connection: Upgrade, X-Hop-Secret", "Upgrade: echo/1", ...shared]),
    );
    expect(upgraded?.statusCode).toBe(101);
    const [plainSeen, upgradeSeen] = backend.received;
    const plainPairs = headerPairs(plainSeen?.rawHeaders ?? [], ["connection"]);
    expect(plainPairs).toContain("via: 1.0 edge, 1.1 switchyard");
    expect(plainPairs).toContain("x-forwarded-for: 127.0.0.1");
    expect(plainPairs).not.toContain("x-hop-secret: listed in Connection");
    const upgradePairs = headerPairs(upgradeSeen?.rawHeaders ?? [], ["connection", "upgrade"]);
    expect(upgradePairs).toEqual(plainPairs);
    expect(headerPairs(upgradeSeen?.rawHeaders ?? [], [])).toEqual(
      expect.arrayContaining(["connection: upgrade", "upgrade: echo/1"]),
    );
  });

  it.each([
    ["dot segments", "/a/../b?x=1", "/a/../b?x=1"],
    ["absolute-form", "http://app.test/abs?y=2", "/abs?y=2"],
  ])("with the same request-target (%s)", async (_name, target, forwarded) => {
    const plain = await sendRaw(proxy.proxyPort, requestHead(target, ["Connection: close"]));
    expect(plain.statusCode).toBe(200);
    const upgraded = await upgradeAnswer(
      proxy.proxyPort,
      requestHead(target, ["Connection: Upgrade", "Upgrade: echo/1"]),
    );
    expect(upgraded?.statusCode).toBe(101);
    expect(backend.received.map((r) => r.url)).toEqual([forwarded, forwarded]);
  });

  it("with the sticky cookie for a new client on the 101", async () => {
    const answer = await upgradeAnswer(
      proxy.proxyPort,
      requestHead("/sticky/ws", ["Connection: Upgrade", "Upgrade: echo/1"]),
    );
    expect(answer?.statusCode).toBe(101);
    expect(answer?.headers["set-cookie"]).toMatch(/^sy_sticky=[^;]+/);
    const returning = await upgradeAnswer(
      proxy.proxyPort,
      requestHead("/sticky/ws", ["Connection: Upgrade", "Upgrade: echo/1", "Cookie: sy_sticky=a"]),
    );
    expect(returning?.statusCode).toBe(101);
    expect(returning?.headers["set-cookie"]).toBeUndefined();
  });
});
