/** A minimal keep-alive backend for benchmarks: `node bench/backend.ts PORT` answers "ok". */
import { createServer } from "node:http";

const port = Number(process.argv[2] ?? "0");
const body = Buffer.from("ok\n");
const server = createServer((_req, res) => {
  res.writeHead(200, { "content-type": "text/plain", "content-length": body.length });
  res.end(body);
});
server.keepAliveTimeout = 65_000;
server.listen(port, "127.0.0.1", () => {
  const address = server.address();
  process.stdout.write(`${typeof address === "object" && address ? address.port : port}\n`);
});
process.on("SIGTERM", () => {
  server.close();
  server.closeAllConnections();
});
