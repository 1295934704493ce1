/**
 * Server side of upgraded connections for the echo backend: `Upgrade: websocket` gets a
 * minimal WebSocket echo (enough for text, binary, ping and close frames), any other protocol
 * gets a raw byte echo after the 101.
 */
import { createHash } from "node:crypto";
import { STATUS_CODES, type IncomingMessage } from "node:http";
import type { Socket } from "node:net";

const WEBSOCKET_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
const OPCODE_CLOSE = 0x8;
const OPCODE_PING = 0x9;
const OPCODE_PONG = 0xa;

/** Answers the upgrade with 101 and echoes whatever the client sends on the socket. */
export function acceptUpgrade(
  req: IncomingMessage,
  socket: Socket,
  head: Buffer,
  backendName: string,
): void {
  socket.on("error", () => undefined);
  const protocol = req.headers.upgrade ?? "";
  const key = req.headers["sec-websocket-key"];
  const lines = [
    "HTTP/1.1 101 Switching Protocols",
    `Upgrade: ${protocol}`,
    "Connection: Upgrade",
    `X-Backend-Name: ${backendName}`,
  ];
  const isWebSocket = protocol.toLowerCase() === "websocket" && typeof key === "string";
  if (isWebSocket) {
    const accept = createHash("sha1")
      .update(key + WEBSOCKET_GUID)
      .digest("base64");
    lines.push(`Sec-WebSocket-Accept: ${accept}`);
  }
  socket.write(`${lines.join("\r\n")}\r\n\r\n`);
  if (!isWebSocket) {
    if (head.length > 0) socket.write(head);
    socket.pipe(socket);
    return;
  }
  const echoFrames = createFrameEchoer(socket);
  if (head.length > 0) echoFrames(head);
  socket.on("data", echoFrames);
  // Like real WebSocket servers: a peer that closes its side gets ours closed too (node's
  // server sockets allow half-open connections, which would otherwise linger).
  socket.on("end", () => socket.end());
}

/** Answers the upgrade with a plain `status` (no switch) and closes the connection. */
export function refuseUpgrade(socket: Socket, status: number, backendName: string): void {
  socket.on("error", () => undefined);
  const body = `upgrade refused with ${status}`;
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? "Status"}\r\nContent-Type: text/plain\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\nX-Backend-Name: ${backendName}\r\n` +
      `Connection: close\r\n\r\n${body}`,
  );
}

/** Encodes one frame: unmasked as a server sends it, or masked with `mask` as a client must. */
export function encodeWebSocketFrame(firstByte: number, payload: Buffer, mask?: Buffer): Buffer {
  const maskBit = mask === undefined ? 0 : 0x80;
  let header: Buffer;
  if (payload.length < 126) {
    header = Buffer.from([firstByte, maskBit | payload.length]);
  } else if (payload.length < 0x10000) {
    header = Buffer.alloc(4);
    header[0] = firstByte;
    header[1] = maskBit | 126;
    header.writeUInt16BE(payload.length, 2);
  } else {
    header = Buffer.alloc(10);
    header[0] = firstByte;
    header[1] = maskBit | 127;
    header.writeBigUInt64BE(BigInt(payload.length), 2);
  }
  if (mask === undefined) return Buffer.concat([header, payload]);
  return Buffer.concat([header, mask, applyMask(payload, mask)]);
}

function applyMask(payload: Buffer, mask: Buffer): Buffer {
  const out = Buffer.from(payload);
  for (let i = 0; i < out.length; i++) out[i] = (out[i] ?? 0) ^ (mask[i % 4] ?? 0);
  return out;
}

/** Returns a 'data' listener that decodes client frames and echoes them back unmasked. */
function createFrameEchoer(socket: Socket): (data: Buffer) => void {
  let pending: Buffer = Buffer.alloc(0);
  return (data: Buffer) => {
    pending = pending.length === 0 ? data : Buffer.concat([pending, data]);
    for (;;) {
      const frame = decodeFrame(pending);
      if (frame === undefined) return;
      pending = pending.subarray(frame.frameBytes);
      const opcode = frame.firstByte & 0x0f;
      if (opcode === OPCODE_CLOSE) {
        socket.end(encodeWebSocketFrame(frame.firstByte, frame.payload));
        return;
      }
      if (opcode === OPCODE_PONG) continue;
      const replyFirstByte = opcode === OPCODE_PING ? 0x80 | OPCODE_PONG : frame.firstByte;
      socket.write(encodeWebSocketFrame(replyFirstByte, frame.payload));
    }
  };
}

interface DecodedFrame {
  firstByte: number;
  payload: Buffer;
  frameBytes: number;
}

function decodeFrame(bytes: Buffer): DecodedFrame | undefined {
  if (bytes.length < 2) return undefined;
  const firstByte = bytes[0] ?? 0;
  const secondByte = bytes[1] ?? 0;
  let payloadLength = secondByte & 0x7f;
  let offset = 2;
  if (payloadLength === 126) {
    if (bytes.length < 4) return undefined;
    payloadLength = bytes.readUInt16BE(2);
    offset = 4;
  } else if (payloadLength === 127) {
    if (bytes.length < 10) return undefined;
    payloadLength = Number(bytes.readBigUInt64BE(2));
    offset = 10;
  }
  const isMasked = (secondByte & 0x80) !== 0;
  const mask = isMasked ? bytes.subarray(offset, offset + 4) : undefined;
  if (isMasked) offset += 4;
  if (bytes.length < offset + payloadLength) return undefined;
  const raw = bytes.subarray(offset, offset + payloadLength);
  const payload = mask === undefined ? Buffer.from(raw) : applyMask(raw, mask);
  return { firstByte, payload, frameBytes: offset + payloadLength };
}
