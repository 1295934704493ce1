/**
 * A webhook receiver on loopback that holds every delivery open: it reads each POST and sends
 * no answer until the test calls `release()`. While it holds them, the sender's deliveries
 * stay in flight and the rest wait in its queue, so a test can show what does not wait on them.
 */
import { createServer, type ServerResponse } from "node:http";
import type { Socket } from "node:net";
import { closeServer, listenOnFreePort, originOf } from "./ports.ts";

export interface HeldDelivery {
  readonly path: string;
  readonly body: string;
}

export interface HoldingReceiver {
  /** `http://127.0.0.1:PORT/hooks/deploys`. */
  readonly url: string;
  /** Every POST read so far, retries included, in arrival order. */
  readonly arrivals: readonly HeldDelivery[];
  /** Deliveries read and not answered, whose connection is still open. */
  readonly heldCount: number;
  /** Answers sent so far. */
  readonly answeredCount: number;
  /** Answers 204 to every held delivery, and to every later one at once. */
  release(): void;
  close(): Promise<void>;
}

export async function startHoldingReceiver(): Promise<HoldingReceiver> {
  const arrivals: HeldDelivery[] = [];
  const held = new Set<ServerResponse>();
  const sockets = new Set<Socket>();
  const state = { isReleased: false, answeredCount: 0 };
  const answer = (res: ServerResponse): void => {
    held.delete(res);
    state.answeredCount++;
    res.writeHead(204).end();
  };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      arrivals.push({ path: req.url ?? "", body: Buffer.concat(chunks).toString("utf8") });
      if (state.isReleased) {
        answer(res);
        return;
      }
      held.add(res);
      // The sender gave up on it (its deadline): no longer held.
      res.once("close", () => held.delete(res));
    });
  });
  server.on("connection", (socket: Socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
  });
  const port = await listenOnFreePort(server);
  return {
    url: `${originOf(port)}/hooks/deploys`,
    arrivals,
    get heldCount() {
      return held.size;
    },
    get answeredCount() {
      return state.answeredCount;
    },
    release() {
      state.isReleased = true;
      for (const res of [...held]) answer(res);
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await closeServer(server);
    },
  };
}
