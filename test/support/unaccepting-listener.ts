/**
 * A loopback port where TCP handshakes never complete: a listener in a stopped child process
 * whose accept queue is full, so the kernel drops further SYNs and a client's connect attempt
 * hangs until its own connect timeout. (Linux semantics of the listen backlog.)
 */
import { spawn } from "node:child_process";
import { connect, type Socket } from "node:net";
import { fileURLToPath } from "node:url";
import { LOOPBACK_HOST, originOf } from "./ports.ts";

const NODE_BINARY = fileURLToPath(new URL("../../node_modules/.bin/node", import.meta.url));
const LISTENER_SCRIPT = `
const server = require("node:net").createServer();
server.listen({ port: 0, host: ${JSON.stringify(LOOPBACK_HOST)}, backlog: 1 }, () => {
  process.stdout.write(server.address().port + "\\n");
});`;
/** How long a filler connection may take before we call the accept queue full. */
const HANDSHAKE_WAIT_MS = 300;
const MAX_FILLERS = 16;

export interface UnacceptingListener {
  readonly port: number;
  readonly url: string;
  close(): Promise<void>;
}

export async function startUnacceptingListener(): Promise<UnacceptingListener> {
  const child = spawn(NODE_BINARY, ["-e", LISTENER_SCRIPT], {
    stdio: ["ignore", "pipe", "ignore"],
  });
  const fillers: Socket[] = [];
  const close = async (): Promise<void> => {
    for (const socket of fillers) socket.destroy();
    if (child.exitCode !== null || child.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once("exit", () => {
        resolve();
      });
      child.kill("SIGKILL");
    });
  };
  try {
    const port = await readPort(child.stdout);
    // Stopped, it accepts nothing: the queue fills and then stays full.
    child.kill("SIGSTOP");
    for (let i = 0; i < MAX_FILLERS; i++) {
      const socket = connect({ port, host: LOOPBACK_HOST });
      socket.on("error", () => undefined);
      fillers.push(socket);
      if (!(await isConnectedWithin(socket, HANDSHAKE_WAIT_MS))) {
        return { port, url: originOf(port), close };
      }
    }
    throw new Error(`the accept queue did not fill after ${MAX_FILLERS} connections`);
  } catch (error) {
    await close();
    throw error;
  }
}

function readPort(stdout: NodeJS.ReadableStream | null): Promise<number> {
  return new Promise((resolve, reject) => {
    if (stdout === null) {
      reject(new Error("the listener has no stdout"));
      return;
    }
    let text = "";
    stdout.setEncoding("utf8");
    stdout.on("data", (chunk: string) => {
      text += chunk;
      if (text.includes("\n")) resolve(Number(text.trim()));
    });
    stdout.once("end", () => {
      reject(new Error("the listener exited before printing its port"));
    });
  });
}

function isConnectedWithin(socket: Socket, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      resolve(false);
    }, timeoutMs);
    socket.once("connect", () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}
