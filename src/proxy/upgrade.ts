/**
 * WebSocket and other protocol upgrades, routed by the same rules and split as plain
 * requests and tunnelled by http-proxy-3. `Upgrade: h2c` is refused: a proxy that passes it
 * on lets a client talk HTTP/2 past every rule (h2c smuggling).
 */
import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import { ProxyServer } from "http-proxy-3";
import type { Logger } from "../log/logger.ts";
import type { Runtime } from "../runtime/runtime.ts";
import { chooseFirstTarget, type AttemptTarget } from "./attempt-target.ts";
import { errorBody, PROXY_ERRORS, RETRY_AFTER_SECONDS, type ProxyErrorCode } from "./errors.ts";
import { dropLookAlikeFramingHeaders, hasOwnVia, VIA_TOKEN } from "./headers.ts";

const VIA_VALUE = `1.1 ${VIA_TOKEN}`;
import type { ProxyRecorder } from "./recorder.ts";
import { requestIdFor } from "./request-id.ts";
import { parseRequestTarget } from "./request-target.ts";
import { findRequestProblem } from "./request-validation.ts";

export interface UpgradeHandlerOptions {
  runtime: Runtime;
  recorder: ProxyRecorder;
  logger: Logger;
  random?: () => number;
}

export class UpgradeHandler {
  private readonly runtime: Runtime;
  private readonly recorder: ProxyRecorder;
  private readonly logger: Logger;
  private readonly random: () => number;
  private readonly tunnel: ProxyServer;
  /** The attempt of each upgrade in flight, to settle its breaker call when the upstream answers. */
  private readonly attempts = new WeakMap<IncomingMessage, AttemptTarget>();
  /** Client sockets of open tunnels: Node's server.close() does not end upgraded sockets. */
  private readonly openSockets = new Set<Duplex>();

  constructor(options: UpgradeHandlerOptions) {
    this.runtime = options.runtime;
    this.recorder = options.recorder;
    this.logger = options.logger;
    this.random = options.random ?? Math.random;
    this.tunnel = new ProxyServer({ ws: true, xfwd: false, prependPath: false });
    // Our own checks below replace its "websocket only" check so other upgrades pass too;
    // the pass list is public at run time but not in its typings.
    const passes = this.tunnel as unknown as { wsPasses: { name: string }[] };
    passes.wsPasses = passes.wsPasses.filter((pass) => pass.name !== "checkMethodAndHeader");
    this.tunnel.on("error", (error) => {
      this.logger.warn({ err: error }, "upgrade tunnel error");
    });
    this.tunnel.on("proxyReqWs", (proxyReq, req) => {
      const attempt = this.attempts.get(req);
      if (attempt === undefined) return;
      const succeed = (): void => {
        attempt.breakerCall.succeed();
        attempt.upstream.recordAttempt(attempt.endpoint, false);
      };
      // Runs before http-proxy-3 writes the 101 to the client: the answer carries our headers.
      proxyReq.once("upgrade", (proxyRes: IncomingMessage) => {
        dropLookAlikeFramingHeaders(proxyRes.headers);
        proxyRes.headers["x-request-id"] = req.headers["x-request-id"];
        const via = proxyRes.headers.via;
        proxyRes.headers.via = via === undefined ? VIA_VALUE : `${via}, ${VIA_VALUE}`;
        succeed();
      });
      // A plain answer to an upgrade is relayed by http-proxy-3 from these headers after us.
      proxyReq.once("response", (proxyRes: IncomingMessage) => {
        dropLookAlikeFramingHeaders(proxyRes.headers);
        succeed();
      });
    });
  }

  /** Ends every open tunnel (shutdown). */
  closeAll(): void {
    for (const socket of this.openSockets) socket.destroy();
    this.openSockets.clear();
  }

  get openTunnelCount(): number {
    return this.openSockets.size;
  }

  readonly handleUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    const startedAtMs = performance.now();
    const requestId = requestIdFor(req.headers["x-request-id"]);
    const protocol = (req.headers.upgrade ?? "").toLowerCase();
    if (protocol.split(",").some((p) => p.trim().startsWith("h2c"))) {
      refuse(socket, "SWITCHYARD_UPGRADE_REFUSED", requestId);
      return;
    }
    if (req.httpVersionMajor !== 1) {
      refuse(socket, "SWITCHYARD_HTTP_VERSION_NOT_SUPPORTED", requestId);
      return;
    }
    const target = findRequestProblem(req) === undefined ? parseRequestTarget(req) : undefined;
    if (target === undefined) {
      refuse(socket, "SWITCHYARD_BAD_REQUEST", requestId);
      return;
    }
    if (hasOwnVia(req.headers.via)) {
      refuse(socket, "SWITCHYARD_LOOP_DETECTED", requestId);
      return;
    }
    const snapshot = this.runtime.current;
    const route = snapshot.routes.match(req.headers.host, target.path);
    if (route === undefined) {
      refuse(socket, "SWITCHYARD_NO_ROUTE", requestId);
      return;
    }
    const pick = route.pickUpstream(
      { headers: req.headers, rawQuery: target.rawQuery },
      this.random,
    );
    const attempt = chooseFirstTarget(snapshot, route, pick.upstream, this.random);
    if (attempt === undefined) {
      refuse(socket, "SWITCHYARD_UPSTREAM_UNAVAILABLE", requestId);
      return;
    }
    if (attempt.upstream.name !== pick.upstream) {
      this.recorder.fallback(route.name, pick.upstream, attempt.upstream.name);
    }
    setForwardedHeaders(req, snapshot.isForwardedTrusted);
    const via = req.headers.via;
    req.headers.via = via === undefined ? VIA_VALUE : `${via}, ${VIA_VALUE}`;
    req.headers["x-request-id"] = requestId;
    this.attempts.set(req, attempt);
    this.openSockets.add(socket);
    socket.once("close", () => this.openSockets.delete(socket));
    const recorder = this.recorder;
    this.tunnel.ws(req, socket, head, { target: attempt.endpoint.url }, (error) => {
      this.logger.debug({ err: error, requestId }, "upgrade to upstream failed");
      attempt.breakerCall.fail();
      attempt.upstream.recordAttempt(attempt.endpoint, true);
      refuse(socket, "SWITCHYARD_UPSTREAM_CONNECT_FAILED", requestId);
      recorder.attemptFinished({
        route: route.name,
        upstream: attempt.upstream.name,
        endpoint: attempt.endpoint,
        status: 0,
        durationMs: performance.now() - startedAtMs,
        isFailure: true,
      });
    });
  };
}

/** X-Forwarded-* as for plain requests (headers.ts): replaced, or appended to when trusted. */
function setForwardedHeaders(req: IncomingMessage, isTrusted: boolean): void {
  const headers = req.headers;
  const clientIp = req.socket.remoteAddress ?? "";
  // Node joins a repeated X-Forwarded-For into one string.
  const incomingFor = isTrusted ? (headers["x-forwarded-for"] as string | undefined) : undefined;
  headers["x-forwarded-for"] = incomingFor === undefined ? clientIp : `${incomingFor}, ${clientIp}`;
  if (!isTrusted || headers["x-forwarded-proto"] === undefined)
    headers["x-forwarded-proto"] = "http";
  if (!isTrusted || headers["x-forwarded-host"] === undefined) {
    if (headers.host === undefined) delete headers["x-forwarded-host"];
    else headers["x-forwarded-host"] = headers.host;
  }
}

/** Answers on a socket that has not been upgraded, then closes it. */
function refuse(socket: Duplex, code: ProxyErrorCode, requestId: string): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const { status } = PROXY_ERRORS[code];
  const body = errorBody(code, requestId);
  const retryAfter = status === 503 ? `retry-after: ${RETRY_AFTER_SECONDS}\r\n` : "";
  socket.end(
    `HTTP/1.1 ${status} ${statusText(status)}\r\ncontent-type: application/json\r\n` +
      `content-length: ${Buffer.byteLength(body)}\r\nx-request-id: ${requestId}\r\n` +
      `${retryAfter}connection: close\r\n\r\n${body}`,
  );
}

function statusText(status: number): string {
  switch (status) {
    case 400:
      return "Bad Request";
    case 404:
      return "Not Found";
    case 502:
      return "Bad Gateway";
    case 503:
      return "Service Unavailable";
    case 505:
      return "HTTP Version Not Supported";
    case 508:
      return "Loop Detected";
    default:
      return "Error";
  }
}
