/**
 * Which tagged requests undici wrote to which port, seen through its `undici:client:sendHeaders`
 * diagnostics channel: with switchyard running in the test process, this is the proxy's own
 * account of the endpoint each attempt went to, including requests a backend never got to read
 * because it died with them in its socket buffer.
 */
import { subscribe, unsubscribe } from "node:diagnostics_channel";
import type { Socket } from "node:net";

const SEND_HEADERS_CHANNEL = "undici:client:sendHeaders";

interface SendHeadersMessage {
  headers: string;
  socket: Socket;
}

export interface UpstreamSends {
  /** The tags of every request written to a connection to `port` so far. */
  tagsSentTo(port: number): Set<string>;
  /** Stops watching (idempotent). */
  stop(): void;
}

/** Watches every request head undici writes and records the value of header `tagHeader`. */
export function watchUpstreamSends(tagHeader: string): UpstreamSends {
  const linePattern = new RegExp(`\\r\\n${tagHeader}: ([^\\r]*)\\r\\n`, "i");
  const tagsByPort = new Map<number, Set<string>>();
  const onSend = (message: unknown): void => {
    const { headers, socket } = message as SendHeadersMessage;
    const tag = linePattern.exec(headers)?.[1];
    const port = socket.remotePort;
    if (tag === undefined || port === undefined) return;
    let tags = tagsByPort.get(port);
    if (tags === undefined) {
      tags = new Set();
      tagsByPort.set(port, tags);
    }
    tags.add(tag);
  };
  subscribe(SEND_HEADERS_CHANNEL, onSend);
  return {
    tagsSentTo(port) {
      return new Set(tagsByPort.get(port));
    },
    stop() {
      unsubscribe(SEND_HEADERS_CHANNEL, onSend);
    },
  };
}
