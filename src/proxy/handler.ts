/**
 * The entry of the data path for plain HTTP requests: refuse what must not be forwarded, find
 * the route and upstream (with fallback), and hand the exchange to an Exchange object.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Logger } from "../log/logger.ts";
import { formatStickyCookie } from "../routing/sticky.ts";
import type { Runtime } from "../runtime/runtime.ts";
import { chooseFirstTarget } from "./attempt-target.ts";
import { sendProxyError } from "./errors.ts";
import { Exchange } from "./exchange.ts";
import { buildUpstreamRequestHeaders, hasOwnVia } from "./headers.ts";
import type { ProxyRecorder } from "./recorder.ts";
import { requestIdFor } from "./request-id.ts";
import { parseRequestTarget } from "./request-target.ts";
import { findRequestProblem } from "./request-validation.ts";
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
  private readonly retryBudgets = new RetryBudgets();

  constructor(options: ProxyHandlerOptions) {
    this.runtime = options.runtime;
    this.recorder = options.recorder;
    this.logger = options.logger;
    this.random = options.random ?? Math.random;
  }

  /** Node's 'request' and 'checkContinue' events both land here. */
  readonly handleRequest = (req: IncomingMessage, res: ServerResponse): void => {
    const startedAtMs = performance.now();
    // Draining: this answer is the connection's last (Node then sends Connection: close).
    if (this.runtime.isClosing) res.shouldKeepAlive = false;
    const requestId = requestIdFor(req.headers["x-request-id"]);
    // llhttp passes HTTP/0.9 and HTTP/2.0 request lines on: we speak neither over HTTP/1.
    if (req.httpVersionMajor !== 1) {
      sendProxyError(res, "SWITCHYARD_HTTP_VERSION_NOT_SUPPORTED", requestId, true);
      return;
    }
    const problem = findRequestProblem(req);
    const target = problem === undefined ? parseRequestTarget(req) : undefined;
    if (target === undefined) {
      if (this.logger.isLevelEnabled("debug")) {
        this.logger.debug({ requestId, problem }, "refused a malformed request");
      }
      sendProxyError(res, "SWITCHYARD_BAD_REQUEST", requestId, true);
      return;
    }
    if (hasOwnVia(req.headers.via)) {
      sendProxyError(res, "SWITCHYARD_LOOP_DETECTED", requestId);
      return;
    }
    const snapshot = this.runtime.current;
    const route = snapshot.routes.match(req.headers.host, target.path);
    if (route === undefined) {
      sendProxyError(res, "SWITCHYARD_NO_ROUTE", requestId);
      return;
    }
    const retryBudget = this.retryBudgets.countRequest(route, startedAtMs);
    const pick = route.pickUpstream(
      { headers: req.headers, rawQuery: target.rawQuery },
      this.random,
    );
    const first = chooseFirstTarget(snapshot, route, pick.upstream, this.random);
    if (first === undefined) {
      sendProxyError(res, "SWITCHYARD_UPSTREAM_UNAVAILABLE", requestId);
      this.recorder.requestFinished({
        route: route.name,
        upstream: pick.upstream,
        status: 503,
        durationMs: performance.now() - startedAtMs,
      });
      return;
    }
    if (first.upstream.name !== pick.upstream) {
      this.recorder.fallback(route.name, pick.upstream, first.upstream.name);
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
    }).start(first);
  };
}
