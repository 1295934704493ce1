/**
 * Baseline: http-proxy-3 in front of one backend with a keep-alive `http.Agent` (without one
 * it opens a connection per request and measures mostly the TCP handshake).
 *
 *   node bench/baselines/http-proxy-3.ts PORT BACKEND_ORIGIN
 */
import { Agent, createServer, ServerResponse } from "node:http";
import { createProxyServer } from "http-proxy-3";

const port = Number(process.argv[2] ?? "0");
const backend = process.argv[3] ?? "http://127.0.0.1:8081";
const agent = new Agent({ keepAlive: true, maxSockets: 64 });
const proxy = createProxyServer({ target: backend, agent });
proxy.on("error", (_error, _req, res) => {
  if (res instanceof ServerResponse) {
    if (!res.headersSent) res.writeHead(502, { "content-type": "text/plain" });
    res.end();
  } else {
    res.destroy();
  }
});

const server = createServer((req, res) => {
  proxy.web(req, res);
});
server.keepAliveTimeout = 65_000;
server.listen(port, "127.0.0.1");
process.on("SIGTERM", () => {
  server.close();
  server.closeAllConnections();
  agent.destroy();
});
