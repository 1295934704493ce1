/**
 * The parts of a parsed request that the header builders read: rawHeaders as Node's parser
 * gives them, `headers` with repeated names joined by ", " (as Node does for Connection), and
 * the client's address.
 */
import type { IncomingMessage } from "node:http";

export const CLIENT_IP = "192.0.2.7";

export function parsedRequest(
  rawHeaders: readonly (readonly [string, string])[],
  socket: { remoteAddress: string | undefined } = { remoteAddress: CLIENT_IP },
): IncomingMessage {
  const flat = rawHeaders.flat();
  const headers: Record<string, string> = {};
  for (const [name, value] of rawHeaders) {
    const lower = name.toLowerCase();
    headers[lower] = headers[lower] === undefined ? value : `${headers[lower]}, ${value}`;
  }
  return { rawHeaders: flat, headers, socket } as unknown as IncomingMessage;
}
