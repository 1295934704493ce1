/**
 * Whether a plain-TCP Redis on `host:port` answers PING: how the demo and the bench know the
 * `redis-server` they started is ready. A raw RESP exchange, so no client is set up for it.
 */
import { connect } from "node:net";

const PING_TIMEOUT_MS = 500;

export function answersPing(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    let reply = "";
    const done = (isUp: boolean): void => {
      socket.destroy();
      resolve(isUp);
    };
    socket.setTimeout(PING_TIMEOUT_MS, () => {
      done(false);
    });
    socket.once("error", () => {
      done(false);
    });
    socket.once("connect", () => socket.write("PING\r\n"));
    socket.on("data", (chunk: Buffer) => {
      reply += chunk.toString("utf8");
      if (reply.includes("\r\n")) done(reply.startsWith("+PONG"));
    });
  });
}
