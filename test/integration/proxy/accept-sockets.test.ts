/**
 * The proxy port accepts on several sockets sharing it (SO_REUSEPORT, proxy/proxy-server.ts),
 * so that a busy proxy still accepts a burst of new clients quickly. They share the port with
 * one another only: a fixed port another socket already listens on, sharing or not, is still
 * refused with EADDRINUSE. Whichever socket accepts a connection, the http server serves it.
 */
import { createServer as createHttpServer } from "node:http";
import { createServer, type Server } from "node:net";
import { describe, expect, it } from "vitest";
import { listenSharingPort } from "../../../src/lifecycle/listen.ts";
import { createAcceptSockets, EXTRA_ACCEPT_SOCKETS } from "../../../src/proxy/proxy-server.ts";
import { cleanupAfterEach } from "../../support/cleanups.ts";
import { closeServer, LOOPBACK_HOST } from "../../support/ports.ts";
import { sendRaw } from "../../support/raw-client.ts";

const { defer } = cleanupAfterEach();
const CONNECTIONS = 64;

function closeAfterTest(servers: readonly Server[]): void {
  defer(async () => {
    await Promise.all(servers.filter((server) => server.listening).map(closeServer));
  });
}

/** A server that listens with SO_REUSEPORT on a port of the OS's choice. */
async function sharingHolder(): Promise<{ server: Server; port: number }> {
  const server = createServer();
  closeAfterTest([server]);
  await new Promise<void>((resolve) => {
    server.listen({ port: 0, host: LOOPBACK_HOST, reusePort: true }, resolve);
  });
  const address = server.address();
  return { server, port: typeof address === "object" && address !== null ? address.port : 0 };
}

describe.runIf(process.platform === "linux")("the proxy port's accept sockets", () => {
  it("share one port and hand the http server every connection they accept", async () => {
    const http = createHttpServer((_req, res) => res.end("ok"));
    const acceptSockets = createAcceptSockets(http, EXTRA_ACCEPT_SOCKETS);
    const servers = [http, ...acceptSockets];
    closeAfterTest(servers);
    const accepted = acceptSockets.map(() => 0);
    acceptSockets.forEach((server, index) => {
      server.on("connection", () => (accepted[index] = (accepted[index] ?? 0) + 1));
    });

    await listenSharingPort(servers, LOOPBACK_HOST, 0, "listen.proxy");
    const port = (http.address() as { port: number }).port;
    expect(servers.map((server) => (server.address() as { port: number }).port)).toEqual(
      servers.map(() => port),
    );
    const request = "GET / HTTP/1.1\r\nHost: app.test\r\nConnection: close\r\n\r\n";
    const answers = await Promise.all(
      Array.from({ length: CONNECTIONS }, () => sendRaw(port, request, { timeoutMs: 10_000 })),
    );

    expect(answers.map((answer) => answer.statusCode)).toEqual(answers.map(() => 200));
    // The kernel spread them: the accept sockets took some, and not all on one socket.
    expect(accepted.filter((count) => count > 0).length).toBeGreaterThan(1);
  });

  it("refuses a fixed port another socket listens on with sharing on (EADDRINUSE)", async () => {
    const { port } = await sharingHolder();
    const servers = [createServer(), createServer()];
    closeAfterTest(servers);

    const listening = listenSharingPort(servers, LOOPBACK_HOST, port, "listen.proxy");

    await expect(listening).rejects.toMatchObject({ code: "EADDRINUSE" });
    expect(servers.map((server) => server.listening)).toEqual([false, false]);
  });
});
