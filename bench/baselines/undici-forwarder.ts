/**
 * Baseline: the least a Node proxy can do. `http.createServer` plus undici `Pool.stream` to one
 * backend over keep-alive connections; no routing, health, breakers, metrics or header
 * rewriting beyond dropping what undici refuses and the hop-by-hop response headers.
 *
 *   node bench/baselines/undici-forwarder.ts PORT BACKEND_ORIGIN
 */
import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type ServerResponse,
} from "node:http";
import { Pool, type Dispatcher } from "undici";

const port = Number(process.argv[2] ?? "0");
const backend = process.argv[3] ?? "http://127.0.0.1:8081";
const pool = new Pool(backend, { connections: 64, pipelining: 1 });
const REFUSED_BY_UNDICI = new Set(["connection", "keep-alive", "transfer-encoding", "upgrade"]);

function requestHeaders(req: IncomingMessage): string[] {
  const raw = req.rawHeaders;
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i] ?? "";
    if (!REFUSED_BY_UNDICI.has(name.toLowerCase())) out.push(name, raw[i + 1] ?? "");
  }
  return out;
}

function responseHeaders(headers: IncomingHttpHeaders): IncomingHttpHeaders {
  const out: IncomingHttpHeaders = {};
  for (const name in headers) {
    if (!REFUSED_BY_UNDICI.has(name)) out[name] = headers[name];
  }
  return out;
}

function factory({ statusCode, headers, opaque }: Dispatcher.StreamFactoryData<ServerResponse>) {
  opaque.writeHead(statusCode, responseHeaders(headers));
  return opaque;
}

const server = createServer((req, res) => {
  const hasBody =
    req.headers["content-length"] !== undefined || req.headers["transfer-encoding"] !== undefined;
  pool.stream(
    {
      path: req.url ?? "/",
      method: req.method ?? "GET",
      headers: requestHeaders(req),
      body: hasBody ? req : null,
      opaque: res,
    },
    factory,
    (error) => {
      if (error === null) return;
      if (!res.headersSent) res.writeHead(502, { "content-type": "text/plain" });
      res.end();
    },
  );
});
server.keepAliveTimeout = 65_000;
server.listen(port, "127.0.0.1");
process.on("SIGTERM", () => {
  server.close();
  server.closeAllConnections();
  void pool.close();
});
