/**
 * Many idle keep-alive connections at once: each sends one GET, reads its answer and stays
 * open, the way browsers and pooled clients sit on a proxy between requests.
 */
import { connect, type Socket } from "node:net";
import { LOOPBACK } from "./loopback.ts";

const BATCH = 100;
const ANSWER_TIMEOUT_MS = 10_000;

export interface HeldConnections {
  /** Connections that got their answer and are still open. */
  readonly openCount: number;
  readonly failedCount: number;
  closeAll(): void;
}

export async function holdConnections(port: number, count: number): Promise<HeldConnections> {
  const sockets: Socket[] = [];
  let failedCount = 0;
  for (let first = 0; first < count; first += BATCH) {
    const batch = Array.from({ length: Math.min(BATCH, count - first) }, () => openOne(port));
    for (const outcome of await Promise.allSettled(batch)) {
      if (outcome.status === "fulfilled") sockets.push(outcome.value);
      else failedCount++;
    }
  }
  return {
    get openCount() {
      return sockets.filter((socket) => !socket.destroyed).length;
    },
    failedCount,
    closeAll() {
      for (const socket of sockets) socket.destroy();
    },
  };
}

function openOne(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, LOOPBACK);
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error("no answer"));
    }, ANSWER_TIMEOUT_MS);
    socket.once("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    socket.once("connect", () => {
      socket.write(`GET / HTTP/1.1\r\nHost: ${LOOPBACK}:${port}\r\n\r\n`);
    });
    // The answers are a few bytes: the first chunk is the whole response.
    socket.once("data", () => {
      clearTimeout(timer);
      socket.on("error", () => undefined);
      resolve(socket);
    });
  });
}
