import { describe, expect, it } from "vitest";
import {
  buildClientResponseHeaders,
  buildUpstreamRequestHeaders,
  buildUpstreamUpgradeHeaders,
} from "../../../src/proxy/headers.ts";
import { parsedRequest } from "./parsed-request.ts";

const UPGRADE = parsedRequest([
  ["Host", "app.test"],
  ["Connection", "Upgrade, X-Listed"],
  ["Upgrade", "websocket"],
  ["X-Listed", "dropped"],
  ["Keep-Alive", "timeout=5"],
  ["Proxy-Authorization", "Basic c2VjcmV0"],
  ["Sec-WebSocket-Key", "k"],
  ["X-Forwarded-For", "203.0.113.1"],
  ["Cookie", "a=1"],
  ["cookie", "b=2"],
]);

describe("buildUpstreamRequestHeaders for an upgrade", () => {
  it("keeps Upgrade and sends Connection: upgrade; the rest as for a plain request", () => {
    const plain = buildUpstreamRequestHeaders(UPGRADE, "id-1", { isTrusted: true });
    const upgrade = buildUpstreamRequestHeaders(UPGRADE, "id-1", { isTrusted: true }, true);
    expect(plain).not.toContain("Upgrade");
    expect(plain).not.toContain("connection");
    const withoutUpgrade = upgrade.slice();
    withoutUpgrade.splice(withoutUpgrade.indexOf("Upgrade"), 2);
    expect(withoutUpgrade).toEqual([...plain, "connection", "upgrade"]);
  });
});

describe("buildUpstreamUpgradeHeaders", () => {
  it("gives http-proxy-3 an object: lower-case names, a repeated name as an array", () => {
    expect(buildUpstreamUpgradeHeaders(UPGRADE, "id-1", { isTrusted: false })).toEqual({
      host: "app.test",
      upgrade: "websocket",
      "sec-websocket-key": "k",
      cookie: ["a=1", "b=2"],
      "x-forwarded-for": "192.0.2.7",
      "x-forwarded-proto": "http",
      "x-forwarded-host": "app.test",
      via: "1.1 switchyard",
      "x-request-id": "id-1",
      connection: "upgrade",
    });
  });
});

describe("buildClientResponseHeaders", () => {
  const switched = {
    connection: "Upgrade, X-Listed",
    upgrade: "websocket",
    "x-listed": "dropped",
    "keep-alive": "timeout=5",
    "sec-websocket-accept": "a",
    transfer_encoding: "chunked",
    via: "1.1 origin",
  };

  it("keeps Connection and Upgrade on a 101, dropping the other hop-by-hop names", () => {
    expect(buildClientResponseHeaders(switched, "id-2", true)).toEqual({
      connection: "Upgrade, X-Listed",
      upgrade: "websocket",
      "sec-websocket-accept": "a",
      via: "1.1 origin, 1.1 switchyard",
      "x-request-id": "id-2",
    });
  });

  it("drops them on any other answer", () => {
    expect(buildClientResponseHeaders(switched, "id-2")).toEqual({
      "sec-websocket-accept": "a",
      via: "1.1 origin, 1.1 switchyard",
      "x-request-id": "id-2",
    });
  });
});
