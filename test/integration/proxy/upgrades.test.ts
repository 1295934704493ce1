/**
 * WebSocket and other upgrades through switchyard (SPEC 8): tunnelled both ways, routed by the
 * same route table, rules and split as plain requests, `Upgrade: h2c` refused, and a dead
 * upstream answered with our 502 before the connection closes.
 */
import { createHash } from "node:crypto";
import { createServer } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { headerValues, startEchoBackend, type EchoBackend } from "../../support/echo-backend.ts";
import { within } from "../../support/deadline.ts";
import { closeServer, listenOnFreePort, originOf, waitFor } from "../../support/ports.ts";
import { connectRaw, parseAllResponses, sendRaw } from "../../support/raw-client.ts";
import {
  singleUpstreamConfig,
  startTestSwitchyard,
  type TestSwitchyard,
} from "../../support/switchyard.ts";
import {
  errorCodeOf,
  upgradeRequest,
  WEBSOCKET_HEADERS,
  WEBSOCKET_KEY,
} from "../../support/upgrade-client.ts";

const WEBSOCKET_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

describe("upgrades through switchyard", () => {
  let stable: EchoBackend;
  let canary: EchoBackend;
  let proxy: TestSwitchyard;

  beforeAll(async () => {
    stable = await startEchoBackend({ name: "stable" });
    canary = await startEchoBackend({ name: "canary" });
    proxy = await startTestSwitchyard({
      upstreams: { stable: { endpoints: [stable.url] }, canary: { endpoints: [canary.url] } },
      routes: [
        { name: "live", match: { pathPrefix: "/live" }, split: { canary: 100 } },
        {
          name: "web",
          split: { stable: 100 },
          rules: [
            { match: { headers: { "x-canary": "always" } }, to: "canary" },
            { match: { query: { preview: "1" } }, to: "canary" },
          ],
        },
      ],
    });
  });

  afterAll(async () => {
    await proxy.close();
    await stable.close();
    await canary.close();
  });

  it("carries a WebSocket (the global client) through, text echoed both ways", async () => {
    stable.clearReceived();
    const socket = new WebSocket(`ws://127.0.0.1:${proxy.proxyPort}/chat`);
    try {
      await new Promise<void>((resolve, reject) => {
        socket.addEventListener("open", () => {
          resolve();
        });
        socket.addEventListener("error", () => {
          reject(new Error("the WebSocket failed to open"));
        });
      });
      const echoed: string[] = [];
      const received = new Promise<void>((resolve) => {
        socket.addEventListener("message", (event: MessageEvent) => {
          echoed.push(String(event.data));
          if (echoed.length === 2) resolve();
        });
      });
      socket.send("hello through the proxy");
      socket.send("second message");
      await received;
      expect(echoed).toEqual(["hello through the proxy", "second message"]);
      expect(stable.received).toHaveLength(1);
      expect(stable.received[0]?.url).toBe("/chat");
    } finally {
      socket.close();
    }
  });

  it("passes the WebSocket handshake through intact (Sec-WebSocket-Accept matches the key)", async () => {
    const connection = await connectRaw(proxy.proxyPort);
    try {
      await connection.write(upgradeRequest("/ws", "websocket", WEBSOCKET_HEADERS));
      const data = await connection.waitForData("\r\n\r\n");
      const [response] = parseAllResponses(data);
      expect(response?.statusCode).toBe(101);
      const expectedAccept = createHash("sha1")
        .update(WEBSOCKET_KEY + WEBSOCKET_GUID)
        .digest("base64");
      expect(response?.headers["sec-websocket-accept"]).toBe(expectedAccept);
      expect(response?.headers.upgrade?.toLowerCase()).toBe("websocket");
    } finally {
      connection.destroy();
    }
  });

  it("tunnels a non-WebSocket upgrade: raw bytes echoed after the 101", async () => {
    const connection = await connectRaw(proxy.proxyPort);
    try {
      await connection.write(upgradeRequest("/tunnel", "echo-protocol/1"));
      const head = await connection.waitForData("\r\n\r\n");
      expect(parseAllResponses(head)[0]?.statusCode).toBe(101);
      const headLength = head.indexOf("\r\n\r\n") + 4;
      // Bytes that are not HTTP at all, in two writes, must come back verbatim.
      const payload = "\u0000\u0001binary\r\n\r\nGET / HTTP/1.1\r\n\u00ff";
      await connection.write(payload.slice(0, 10));
      await connection.write(payload.slice(10));
      const data = await connection.waitForData(
        (text) => text.length >= headLength + payload.length,
      );
      expect(data.slice(headLength)).toBe(payload);
    } finally {
      connection.destroy();
    }
  });

  it("routes upgrades by rules: a header rule sends the upgrade to the canary", async () => {
    stable.clearReceived();
    canary.clearReceived();
    const connection = await connectRaw(proxy.proxyPort);
    try {
      await connection.write(
        upgradeRequest("/ws", "websocket", [...WEBSOCKET_HEADERS, "X-Canary: always"]),
      );
      const head = parseAllResponses(await connection.waitForData("\r\n\r\n"))[0];
      expect(head?.statusCode).toBe(101);
      expect(head?.headers["x-backend-name"]).toBe("canary");
      expect(canary.received).toHaveLength(1);
      expect(stable.received).toHaveLength(0);
    } finally {
      connection.destroy();
    }
    // Without the header the same upgrade goes to the split (stable).
    const plain = await connectRaw(proxy.proxyPort);
    try {
      await plain.write(upgradeRequest("/ws", "websocket", WEBSOCKET_HEADERS));
      const head = parseAllResponses(await plain.waitForData("\r\n\r\n"))[0];
      expect(head?.headers["x-backend-name"]).toBe("stable");
    } finally {
      plain.destroy();
    }
  });

  it("routes upgrades by query rules and by route (the global WebSocket client)", async () => {
    stable.clearReceived();
    canary.clearReceived();
    for (const path of ["/feed?preview=1", "/live/feed"]) {
      const socket = new WebSocket(`ws://127.0.0.1:${proxy.proxyPort}${path}`);
      try {
        const echoed = await new Promise<string>((resolve, reject) => {
          socket.addEventListener("open", () => {
            socket.send(`ping ${path}`);
          });
          socket.addEventListener("message", (event: MessageEvent) => {
            resolve(String(event.data));
          });
          socket.addEventListener("error", () => {
            reject(new Error(`the WebSocket to ${path} failed`));
          });
        });
        expect(echoed).toBe(`ping ${path}`);
      } finally {
        socket.close();
      }
    }
    expect(canary.received.map((r) => r.url)).toEqual(["/feed?preview=1", "/live/feed"]);
    expect(stable.received).toHaveLength(0);
  });

  it("adds Via and replaces X-Forwarded-For on the upgrade request the backend sees", async () => {
    stable.clearReceived();
    const connection = await connectRaw(proxy.proxyPort);
    try {
      await connection.write(
        upgradeRequest("/ws", "websocket", [
          ...WEBSOCKET_HEADERS,
          "X-Forwarded-For: 203.0.113.9",
          "X-Request-Id: upgrade-id-1",
        ]),
      );
      await connection.waitForData("\r\n\r\n");
    } finally {
      connection.destroy();
    }
    const raw = stable.received[0]?.rawHeaders ?? [];
    expect(headerValues(raw, "via")).toEqual(["1.1 switchyard"]);
    // forwarded.trust defaults to false: the client's claim is replaced, not appended to.
    expect(headerValues(raw, "x-forwarded-for")).toEqual(["127.0.0.1"]);
    expect(headerValues(raw, "x-request-id")).toEqual(["upgrade-id-1"]);
    expect(headerValues(raw, "host")).toEqual(["app.test"]);
    expect(headerValues(raw, "x-forwarded-proto")).toEqual(["http"]);
  });

  it("returns X-Request-Id and Via on the 101 answer", async () => {
    const connection = await connectRaw(proxy.proxyPort);
    try {
      await connection.write(
        upgradeRequest("/ws", "websocket", [...WEBSOCKET_HEADERS, "X-Request-Id: upgrade-id-2"]),
      );
      const [response] = parseAllResponses(await connection.waitForData("\r\n\r\n"));
      expect(response?.statusCode).toBe(101);
      expect(response?.headers["x-request-id"]).toBe("upgrade-id-2");
      expect(response?.headers.via).toBe("1.1 switchyard");
    } finally {
      connection.destroy();
    }
  });

  it("closes the tunnel to the upstream when the client goes away", async () => {
    await waitFor(() => stable.openConnections === 0, { description: "no tunnel open" });
    for (const goAway of ["end", "reset"] as const) {
      const connection = await connectRaw(proxy.proxyPort);
      await connection.write(upgradeRequest("/tunnel", "echo-protocol/1"));
      await connection.waitForData("\r\n\r\n");
      expect(stable.openConnections, goAway).toBe(1);
      if (goAway === "end") connection.destroy();
      else connection.reset();
      await waitFor(() => stable.openConnections === 0, {
        description: `the upstream side closed after the client's ${goAway}`,
      });
    }
  });

  it("refuses Upgrade: h2c, even listed after another protocol, and forwards nothing", async () => {
    stable.clearReceived();
    canary.clearReceived();
    for (const protocol of ["h2c", "websocket, h2c", "H2C"]) {
      const answer = await sendRaw(
        proxy.proxyPort,
        upgradeRequest("/", protocol, ["HTTP2-Settings: AAMAAABkAAQCAAAAAAIAAAAA"]),
      );
      expect(answer.statusCode, protocol).toBe(400);
      expect(answer.closed, protocol).toBe(true);
      expect(answer.raw, protocol).toContain("SWITCHYARD_UPGRADE_REFUSED");
    }
    expect(stable.received).toHaveLength(0);
    expect(canary.received).toHaveLength(0);
  });

  it("answers an upgrade that already passed through switchyard with 508", async () => {
    stable.clearReceived();
    const answer = await sendRaw(
      proxy.proxyPort,
      upgradeRequest("/ws", "websocket", [...WEBSOCKET_HEADERS, "Via: 1.1 switchyard"]),
    );
    expect(answer.statusCode).toBe(508);
    expect(answer.closed).toBe(true);
    expect(stable.received).toHaveLength(0);
  });
});

describe("stopping switchyard with a tunnel open", () => {
  it("ends the tunnel instead of waiting for it forever", async () => {
    const backend = await startEchoBackend();
    const proxy = await startTestSwitchyard({
      upstreams: { stable: { endpoints: [backend.url] } },
      routes: [{ name: "web", split: { stable: 100 } }],
    });
    try {
      const connection = await connectRaw(proxy.proxyPort);
      await connection.write(upgradeRequest("/tunnel", "echo-protocol/1"));
      await connection.waitForData("\r\n\r\n");
      await within(proxy.close(), 3000, "closing switchyard with a tunnel open");
      expect(await connection.waitClosed(1000)).toBe(true);
    } finally {
      await backend.close();
    }
  });
});

describe("upgrades to an upstream that goes away", () => {
  it("closes the client connection when the upstream closes the tunnel", async () => {
    const backend = await startEchoBackend({ name: "stable" });
    const proxy = await startTestSwitchyard(singleUpstreamConfig([backend.url]));
    try {
      const connection = await connectRaw(proxy.proxyPort);
      await connection.write(upgradeRequest("/tunnel", "echo-protocol/1"));
      await connection.waitForData("\r\n\r\n");
      await backend.close();
      expect(await connection.waitClosed(2000)).toBe(true);
    } finally {
      await proxy.close();
      await backend.close();
    }
  });

  it("answers 502 with the JSON error body and closes the connection when it is down", async () => {
    const closed = createServer();
    const port = await listenOnFreePort(closed);
    await closeServer(closed);
    const proxy = await startTestSwitchyard(singleUpstreamConfig([originOf(port)]));
    try {
      const answer = await sendRaw(
        proxy.proxyPort,
        upgradeRequest("/ws", "websocket", WEBSOCKET_HEADERS),
        { timeoutMs: 3000 },
      );
      expect(answer.statusCode).toBe(502);
      expect(answer.closed).toBe(true);
      const [response] = parseAllResponses(answer.raw);
      expect(errorCodeOf(response?.body ?? "{}")).toBe("SWITCHYARD_UPSTREAM_CONNECT_FAILED");
    } finally {
      await proxy.close();
    }
  });
});
