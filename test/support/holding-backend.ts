/**
 * A backend that holds requests to `/hold` open until the test releases them, and answers any
 * other path at once with `{"name": NAME}` (the shape the load helpers count by backend). A
 * request in flight is then a fact the test controls, not a delay it hopes is long enough.
 * `/health` answers 200 and is counted apart.
 */
import { createServer, type ServerResponse } from "node:http";
import type { Socket } from "node:net";
import { closeServer, listenOnFreePort, originOf } from "./ports.ts";

export interface HoldingBackend {
  readonly name: string;
  readonly url: string;
  /** Requests received, `/hold` ones included, `/health` not. */
  readonly requests: number;
  /** `/hold` requests waiting for `release()`. */
  readonly heldCount: number;
  readonly healthChecks: number;
  /** Answers every held request (200, `{"name", "held": true}`). */
  release(): void;
  close(): Promise<void>;
}

export async function startHoldingBackend(name: string): Promise<HoldingBackend> {
  const held = new Set<ServerResponse>();
  const sockets = new Set<Socket>();
  const counts = { requests: 0, healthChecks: 0 };
  const answer = (res: ServerResponse, body: Record<string, unknown>): void => {
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(body));
  };
  const server = createServer((req, res) => {
    req.resume();
    if (req.url === "/health") {
      counts.healthChecks++;
      answer(res, { name });
      return;
    }
    counts.requests++;
    if (req.url?.startsWith("/hold") !== true) {
      answer(res, { name });
      return;
    }
    held.add(res);
    res.once("close", () => held.delete(res));
  });
  server.on("connection", (socket: Socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
  });
  const port = await listenOnFreePort(server);
  return {
    name,
    url: originOf(port),
    get requests() {
      return counts.requests;
    },
    get heldCount() {
      return held.size;
    },
    get healthChecks() {
      return counts.healthChecks;
    },
    release() {
      for (const res of [...held]) {
        held.delete(res);
        answer(res, { name, held: true });
      }
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await closeServer(server);
    },
  };
}
