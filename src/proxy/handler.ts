/**
 * The entry of the data path for plain HTTP requests: refuse what must not be forwarded,
 * find the destination, and hand the exchange to a ForwardingHandler.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Logger } from "../log/logger.ts";
import { formatStickyCookie } from "../routing/sticky.ts";
import type { Runtime } from "../runtime/runtime.ts";
import { findDestination } from "./destination.ts";
import { sendProxyError } from "./errors.ts";
import { ForwardingHandler } from "./forward.ts";
import { buildUpstreamRequestHeaders, hasOwnVia } from "./headers.ts";
import type { ProxyRecorder } from "./recorder.ts";
import { requestIdFor } from "./request-id.ts";
import { parseRequestTarget } from "./request-target.ts";
import { findRequestProblem } from "./request-validation.ts";

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

  constructor(options: ProxyHandlerOptions) {
    this.runtime = options.runtime;
    this.recorder = options.recorder;
    this.logger = options.logger;
    this.random = options.random ?? Math.random;
  }

  /** Node's 'request' and 'checkContinue' events both land here. */
  readonly handleRequest = (req: IncomingMessage, res: ServerResponse): void => {
    const startedAtMs = performance.now();
    const requestId = requestIdFor(req.headers["x-request-id"]);
    const problem = findRequestProblem(req);
    const target = problem === undefined ? parseRequestTarget(req) : undefined;
    if (target === undefined) {
      this.logger.debug({ requestId, problem }, "refused a malformed request");
      sendProxyError(res, "SWITCHYARD_BAD_REQUEST", requestId, true);
      return;
    }
    if (hasOwnVia(req.headers.via)) {
      sendProxyError(res, "SWITCHYARD_LOOP_DETECTED", requestId);
      return;
    }
    const snapshot = this.runtime.current;
    const found = findDestination(snapshot, req, target, this.random);
    if (!found.ok) {
      sendProxyError(res, found.code, requestId);
      if (found.routeName !== undefined) {
        this.recorder.requestFinished({
          route: found.routeName,
          upstream: "",
          endpoint: undefined,
          status: res.statusCode,
          durationMs: performance.now() - startedAtMs,
          isFailure: false,
        });
      }
      return;
    }
    const { route, pick, endpoint } = found.destination;
    // We answer 100 Continue ourselves once we know the request has somewhere to go; the
    // upstream never sees Expect (undici does not forward it).
    if (req.headers.expect !== undefined) res.writeContinue();
    const stickyCookie = route.sticky?.cookie;
    const extraResponseHeaders =
      pick.newStickyId !== undefined && stickyCookie !== undefined
        ? ["set-cookie", formatStickyCookie(stickyCookie, pick.newStickyId)]
        : undefined;
    new ForwardingHandler({
      req,
      res,
      requestId,
      routeName: route.name,
      upstreamName: pick.upstream,
      endpoint,
      headers: buildUpstreamRequestHeaders(req, requestId, {
        isTrusted: snapshot.isForwardedTrusted,
      }),
      path: target.pathAndQuery,
      startedAtMs,
      recorder: this.recorder,
      extraResponseHeaders,
    }).start();
  };
}
