/** The client side of upgrade tests: request heads written byte for byte on a raw socket. */

export const WEBSOCKET_KEY = "dGhlIHNhbXBsZSBub25jZQ==";

/** The extra header lines a WebSocket handshake needs. */
export const WEBSOCKET_HEADERS = [
  `Sec-WebSocket-Key: ${WEBSOCKET_KEY}`,
  "Sec-WebSocket-Version: 13",
];

/** An upgrade request head for Host app.test; `headers` are extra "Name: value" lines. */
export function upgradeRequest(path: string, protocol: string, headers: string[] = []): string {
  const lines = [
    `GET ${path} HTTP/1.1`,
    "Host: app.test",
    "Connection: Upgrade",
    `Upgrade: ${protocol}`,
    ...headers,
  ];
  return `${lines.join("\r\n")}\r\n\r\n`;
}

/** The `error.code` of one of our JSON error bodies. */
export function errorCodeOf(body: string): string | undefined {
  return (JSON.parse(body) as { error?: { code?: string } }).error?.code;
}
