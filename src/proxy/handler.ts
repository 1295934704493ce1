/**
 * The entry of the data path for plain HTTP requests: resolve where the request goes
 * (resolve.ts), answer a refusal, or hand the exchange to an Exchange object.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { ERROR_CODES } from "../errors/error-codes.ts";
import type { Logger } from "../log/logger.ts";
import { formatStickyCookie } from "../routing/sticky.ts";
import type { Runtime } from "../runtime/runtime.ts";
import { sendProxyError } from "./errors.ts";
import { Exchange } from "./exchange.ts";
import { buildUpstreamRequestHeaders } from "./headers.ts";
import type { ProxyRecorder } from "./recorder.ts";
import { RequestResolver, type Refusal } from "./resolve.ts";
import { RetryBudgets } from "./retry-budgets.ts";

export interface ProxyHandlerOptions {
  runtime: Runtime;
  recorder: ProxyRecorder;
  logger: Logger;
  random?: () => number;
}

export class ProxyHandler {
  private readonly runtime: Runtime;
  private readonly recorder: ProxyRecorder;
  private readonly logger: Logger;
  private readonly random: () => number;
  private readonly resolver: RequestResolver;
  private readonly retryBudgets = new RetryBudgets();

  constructor(options: ProxyHandlerOptions) {
    this.runtime = options.runtime;
    this.recorder = options.recorder;
    this.logger = options.logger;
    this.random = options.random ?? Math.random;
    this.resolver = new RequestResolver(this.runtime, this.random);
  }

  /** Node's 'request' and 'checkContinue' events both land here. */
  readonly handleRequest = (req: IncomingMessage, res: ServerResponse): void => {
    const startedAtMs = performance.now();
    // Draining: this answer is the connection's last (Node then sends Connection: close).
    if (this.runtime.isClosing) res.shouldKeepAlive = false;
    const resolution = this.resolver.resolve(req, false);
    if (resolution.kind === "refusal") {
      this.refuse(res, resolution, startedAtMs);
      return;
    }
    const { requestId, snapshot, route, target, pick, attempt } = resolution;
    const retryBudget = this.retryBudgets.countRequest(route, startedAtMs);
    if (attempt.upstream.name !== pick.upstream) {
      this.recorder.fallback(route.name, pick.upstream, attempt.upstream.name);
    }
    // We answer 100 Continue ourselves once the request has somewhere to go; the upstream
    // never sees Expect (undici does not forward it).
    if (req.headers.expect !== undefined) res.writeContinue();
    const stickyCookie = route.sticky?.cookie;
    const extraResponseHeaders =
      pick.newStickyId !== undefined && stickyCookie !== undefined
        ? ["set-cookie", formatStickyCookie(stickyCookie, pick.newStickyId)]
        : undefined;
    new Exchange({
      req,
      res,
      requestId,
      runtime: this.runtime,
      route,
      headers: buildUpstreamRequestHeaders(req, requestId, {
        isTrusted: snapshot.isForwardedTrusted,
      }),
      path: target.pathAndQuery,
      startedAtMs,
      recorder: this.recorder,
      retryBudget,
      random: this.random,
      extraResponseHeaders,
    }).start(attempt);
  };

  private refuse(res: ServerResponse, refusal: Refusal, startedAtMs: number): void {
    const { code, requestId, route, pickedUpstream } = refusal;
    if (refusal.problem !== undefined && this.logger.isLevelEnabled("debug")) {
      this.logger.debug({ requestId, problem: refusal.problem }, "refused a malformed request");
    }
    sendProxyError(res, code, requestId, refusal.mustClose);
    // Only an unavailable upstream has a route: the request counts as the route's.
    if (route === undefined || pickedUpstream === undefined) return;
    this.retryBudgets.countRequest(route, startedAtMs);
    this.recorder.requestFinished({
      route: route.name,
      upstream: pickedUpstream,
      status: ERROR_CODES[code].status,
      durationMs: performance.now() - startedAtMs,
    });
  }
}
