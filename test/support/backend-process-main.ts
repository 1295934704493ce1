/**
 * Entry of a backend child process (see backend-process.ts): an echo backend whose options
 * come as JSON in argv[2]. It reports on stdout, one JSON line each, as things happen:
 * listening, each request's tag as its head arrives, and every change of its open
 * connections. Writes to a pipe are synchronous on Linux, so a line is out before the answer
 * it precedes, and survives a SIGKILL. A "stats" line on stdin gets the counters back.
 */
import { createInterface } from "node:readline";
import { headerValues, startEchoBackend, type EchoBackendOptions } from "./echo-backend.ts";
import { REQUEST_TAG_HEADER, type BackendLine } from "./backend-process.ts";

function report(line: BackendLine): void {
  process.stdout.write(`${JSON.stringify(line)}\n`);
}

const options = JSON.parse(process.argv[2] ?? "{}") as EchoBackendOptions;
const backend = await startEchoBackend({
  ...options,
  onRequest(request) {
    const tag = headerValues(request.rawHeaders, REQUEST_TAG_HEADER)[0];
    report({ type: "request", method: request.method, ...(tag === undefined ? {} : { tag }) });
  },
  onConnectionCountChange(open) {
    report({ type: "connections", open });
  },
});
report({ type: "listening", port: backend.port });

createInterface({ input: process.stdin }).on("line", (command) => {
  if (command !== "stats") return;
  report({
    type: "stats",
    requests: backend.received.length,
    openConnections: backend.openConnections,
    bodiesReset: backend.bodiesReset,
  });
});
process.stdin.once("end", () => {
  // The parent is gone: so are we.
  process.exit(0);
});
