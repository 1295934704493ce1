/**
 * WebSocket and other protocol upgrades: resolved like plain requests (resolve.ts: the same
 * checks, route table, rules, split and fallback), sent with the same forwarded headers
 * (headers.ts), tunnelled by http-proxy-3 and recorded by an UpgradeExchange.
 */
import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import { ProxyServer } from "http-proxy-3";
import { ERROR_CODES } from "../errors/error-codes.ts";
import { writeRawError } from "../errors/raw-error.ts";
import type { Logger } from "../log/logger.ts";
import { formatStickyCookie } from "../routing/sticky.ts";
import type { Runtime } from "../runtime/runtime.ts";
import { buildUpstreamUpgradeHeaders } from "./headers.ts";
import type { ProxyRecorder } from "./recorder.ts";
import { RequestResolver, type Destination, type Refusal } from "./resolve.ts";
import { UpgradeExchange } from "./upgrade-exchange.ts";

export interface UpgradeHandlerOptions {
  runtime: Runtime;
  recorder: ProxyRecorder;
  logger: Logger;
  random?: () => number;
}

export class UpgradeHandler {
  private readonly recorder: ProxyRecorder;
  private readonly logger: Logger;
  private readonly resolver: RequestResolver;
  private readonly tunnel: ProxyServer;
  /** The exchange of each upgrade in flight, for http-proxy-3's upstream request event. */
  private readonly exchanges = new WeakMap<IncomingMessage, UpgradeExchange>();
  /** Client sockets of open tunnels: Node's server.close() does not end upgraded sockets. */
  private readonly openSockets = new Set<Duplex>();

  constructor(options: UpgradeHandlerOptions) {
    this.recorder = options.recorder;
    this.logger = options.logger;
    this.resolver = new RequestResolver(options.runtime, options.random ?? Math.random);
    // toProxy: send req.url as it is (we set the origin-form target) instead of re-parsing it,
    // which would resolve dot segments the route was matched with.
    this.tunnel = new ProxyServer({ ws: true, xfwd: false, prependPath: false, toProxy: true });
    // Our own checks replace its "websocket only" check so other upgrades pass too; the pass
    // list is public at run time but not in its typings.
    const passes = this.tunnel as unknown as { wsPasses: { name: string }[] };
    passes.wsPasses = passes.wsPasses.filter((pass) => pass.name !== "checkMethodAndHeader");
    this.tunnel.on("error", (error) => {
      this.logger.warn({ err: error }, "upgrade tunnel error");
    });
    this.tunnel.on("proxyReqWs", (upstreamRequest, req) => {
      this.exchanges.get(req)?.attach(upstreamRequest);
      this.exchanges.delete(req);
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
    const resolution = this.resolver.resolve(req, true);
    if (resolution.kind === "refusal") {
      this.refuse(socket, resolution, startedAtMs);
      return;
    }
    const exchange = this.startExchange(req, socket, resolution, startedAtMs);
    this.openSockets.add(socket);
    socket.once("close", () => this.openSockets.delete(socket));
    const target = resolution.attempt.endpoint.url;
    this.tunnel.ws(req, socket, head, { target }, exchange.onError);
  };

  /** Rewrites the request for the upstream and creates the exchange that will record it. */
  private startExchange(
    req: IncomingMessage,
    socket: Duplex,
    destination: Destination,
    startedAtMs: number,
  ): UpgradeExchange {
    const { requestId, snapshot, route, target, pick, attempt } = destination;
    if (attempt.upstream.name !== pick.upstream) {
      this.recorder.fallback(route.name, pick.upstream, attempt.upstream.name);
    }
    req.headers = buildUpstreamUpgradeHeaders(req, requestId, {
      isTrusted: snapshot.isForwardedTrusted,
    });
    req.url = target.pathAndQuery;
    const cookieName = route.sticky?.cookie;
    const exchange = new UpgradeExchange({
      socket,
      requestId,
      route: route.name,
      attempt,
      startedAtMs,
      recorder: this.recorder,
      logger: this.logger,
      stickyCookie:
        cookieName === undefined || pick.newStickyId === undefined
          ? undefined
          : formatStickyCookie(cookieName, pick.newStickyId),
    });
    this.exchanges.set(req, exchange);
    return exchange;
  }

  /** Answers on a socket that has not been upgraded, then closes it; a 503 is recorded. */
  private refuse(socket: Duplex, refusal: Refusal, startedAtMs: number): void {
    const { code, requestId, route, pickedUpstream } = refusal;
    writeRawError(socket, code, requestId);
    if (route === undefined || pickedUpstream === undefined) return;
    this.recorder.requestFinished({
      route: route.name,
      upstream: pickedUpstream,
      status: ERROR_CODES[code].status,
      durationMs: performance.now() - startedAtMs,
    });
  }
}
