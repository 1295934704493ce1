/**
 * Micro-benchmarks of the per-request work around forwarding: request checks, the request
 * target, the request id, and header rewriting both ways. Requests are plain objects shaped
 * like Node's IncomingMessage (only the fields these functions read).
 */
import type { IncomingHttpHeaders, IncomingMessage } from "node:http";
import { test } from "vitest";
import {
  buildClientResponseHeaders,
  buildUpstreamRequestHeaders,
  hasOwnVia,
} from "../../src/proxy/headers.ts";
import { requestIdFor } from "../../src/proxy/request-id.ts";
import { parseRequestTarget } from "../../src/proxy/request-target.ts";
import { findRequestProblem } from "../../src/proxy/request-validation.ts";

/** A browser-like GET: a dozen headers, as Node parses them. */
function fakeRequest(rawHeaders: string[]): IncomingMessage {
  const headers: IncomingHttpHeaders = {};
  for (let i = 0; i < rawHeaders.length; i += 2) {
    headers[(rawHeaders[i] ?? "").toLowerCase()] = rawHeaders[i + 1] ?? "";
  }
  return {
    method: "GET",
    url: "/products/42?page=2&sort=price",
    httpVersionMajor: 1,
    httpVersionMinor: 1,
    rawHeaders,
    headers,
    socket: { remoteAddress: "127.0.0.1" },
  } as unknown as IncomingMessage;
}

const browserRequest = fakeRequest([
  "Host",
  "shop.example.com",
  "User-Agent",
  "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
  "Accept",
  "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
  "Accept-Language",
  "en-US,en;q=0.5",
  "Accept-Encoding",
  "gzip, deflate, br, zstd",
  "Connection",
  "keep-alive",
  "Cookie",
  "theme=dark; session=abc123; sy_id=3f1c2a9e-5b7d-4c1e-9a2b-8d6f0e4c7b1a",
  "Upgrade-Insecure-Requests",
  "1",
  "Sec-Fetch-Dest",
  "document",
  "Sec-Fetch-Mode",
  "navigate",
  "Priority",
  "u=0, i",
]);

/** Behind another proxy: X-Forwarded-*, Via and a request id already set. */
const forwardedRequest = fakeRequest([
  "Host",
  "shop.example.com",
  "Accept",
  "*/*",
  "X-Forwarded-For",
  "203.0.113.7",
  "X-Forwarded-Proto",
  "https",
  "Via",
  "1.1 edge",
  "X-Request-Id",
  "edge-5b7d4c1e9a2b",
  "Connection",
  "keep-alive, x-debug",
  "X-Debug",
  "1",
]);

/** What undici hands back for a small HTML page. */
const upstreamResponse: IncomingHttpHeaders = {
  "content-type": "text/html; charset=utf-8",
  "content-length": "5120",
  date: "Tue, 24 Nov 2026 02:40:00 GMT",
  connection: "keep-alive",
  "keep-alive": "timeout=5",
  "cache-control": "private, max-age=0",
  etag: 'W/"1400-abc"',
  vary: "Accept-Encoding",
  "set-cookie": ["session=abc123; Path=/; HttpOnly"],
};

let sink = 0;

test("request checks", async ({ bench }) => {
  await bench.compare(
    bench("findRequestProblem (12 headers)", () => {
      sink += findRequestProblem(browserRequest) === undefined ? 1 : 0;
    }),
    bench("parseRequestTarget (origin-form with query)", () => {
      sink += parseRequestTarget(browserRequest)?.rawQuery.length ?? 0;
    }),
    bench("hasOwnVia (one other proxy)", () => {
      sink += hasOwnVia(forwardedRequest.headers.via) ? 1 : 0;
    }),
    bench("requestIdFor (client's id kept)", () => {
      sink += requestIdFor(forwardedRequest.headers["x-request-id"]).length;
    }),
    bench("requestIdFor (new UUID)", () => {
      sink += requestIdFor(undefined).length;
    }),
    { time: 300 },
  );
  if (sink === -1) throw new Error("unreachable");
});

test("header rewriting", async ({ bench }) => {
  await bench.compare(
    bench("buildUpstreamRequestHeaders (browser, 12 headers)", () => {
      sink += buildUpstreamRequestHeaders(browserRequest, "id-1", { isTrusted: false }).length;
    }),
    bench("buildUpstreamRequestHeaders (forwarded, trusted)", () => {
      sink += buildUpstreamRequestHeaders(forwardedRequest, "id-1", { isTrusted: true }).length;
    }),
    bench("buildClientResponseHeaders (9 headers)", () => {
      sink += buildClientResponseHeaders(upstreamResponse, "id-1").via?.length ?? 0;
    }),
    { time: 300 },
  );
  if (sink === -1) throw new Error("unreachable");
});
