/**
 * Forwards one request to one endpoint with undici's dispatch API and streams the answer back.
 * One ForwardingHandler object per request carries the state; its methods are undici's handler
 * callbacks, so the hot path allocates no closures. Backpressure both ways: undici pulls the
 * request body from the client stream as the upstream socket drains, and a client that reads
 * slowly pauses the upstream response (controller.pause / resume).
 */
import type {
  IncomingHttpHeaders,
  IncomingMessage,
  OutgoingHttpHeaders,
  ServerResponse,
} from "node:http";
import type { Dispatcher } from "undici";
import type { Endpoint } from "../upstream/endpoint.ts";
import { sendProxyError } from "./errors.ts";
import { buildClientResponseHeaders } from "./headers.ts";
import type { ProxyRecorder } from "./recorder.ts";
import { classifyUpstreamError } from "./upstream-errors.ts";

type DispatchController = Dispatcher.DispatchController;

export interface ForwardRequest {
  req: IncomingMessage;
  res: ServerResponse;
  requestId: string;
  routeName: string;
  upstreamName: string;
  endpoint: Endpoint;
  /** Headers for the upstream, flat [name, value, ...]. */
  headers: string[];
  /** The origin-form path and query. */
  path: string;
  startedAtMs: number;
  recorder: ProxyRecorder;
  /** Extra response headers (e.g. the sticky cookie), flat [name, value, ...]. */
  extraResponseHeaders: string[] | undefined;
}

class ClientGoneError extends Error {
  readonly code = "SWITCHYARD_CLIENT_GONE";
}

export class ForwardingHandler implements Dispatcher.DispatchHandler {
  private readonly request: ForwardRequest;
  private controller: DispatchController | undefined;
  private isClientGone = false;
  private isDone = false;
  private status = 0;
  private canSendTrailers = false;

  constructor(request: ForwardRequest) {
    this.request = request;
    request.res.on("close", this.onClientClose);
  }

  /** Sends the request; the handler reports the outcome when the exchange ends. */
  start(): void {
    const { req, endpoint, headers, path } = this.request;
    const hasBody = requestHasBody(req);
    endpoint.pool.dispatch(
      {
        path,
        method: req.method as Dispatcher.HttpMethod,
        headers,
        body: hasBody ? req : null,
        // Forward as the client sent it; undici would otherwise retry GETs on its own.
        idempotent: false,
        blocking: false,
      },
      this,
    );
  }

  onRequestStart(controller: DispatchController): void {
    this.controller = controller;
    if (this.isClientGone) controller.abort(new ClientGoneError("client went away"));
  }

  onResponseStart(
    controller: DispatchController,
    statusCode: number,
    headers: IncomingHttpHeaders,
    statusMessage?: string,
  ): void {
    // 1xx interim answers (100 Continue, 103) are not relayed; the final answer follows.
    if (statusCode < 200) return;
    const { res, requestId, extraResponseHeaders } = this.request;
    this.status = statusCode;
    const outHeaders: OutgoingHttpHeaders = buildClientResponseHeaders(headers, requestId);
    if (extraResponseHeaders !== undefined) appendHeaders(outHeaders, extraResponseHeaders);
    // Trailers need chunked framing toward the client; without it they cannot be sent.
    this.canSendTrailers = canSendTrailers(this.request.req, outHeaders);
    if (!this.canSendTrailers) delete outHeaders.trailer;
    try {
      res.writeHead(statusCode, statusMessage, outHeaders);
    } catch (error) {
      controller.abort(error as Error);
    }
  }

  onResponseData(controller: DispatchController, chunk: Buffer): void {
    const res = this.request.res;
    if (!res.write(chunk)) {
      controller.pause();
      res.once("drain", this.onClientDrain);
    }
  }

  onResponseEnd(_controller: DispatchController, trailers: IncomingHttpHeaders): void {
    const res = this.request.res;
    if (this.canSendTrailers) {
      for (const _name in trailers) {
        res.addTrailers(trailers);
        break;
      }
    }
    res.end();
    this.finish(this.status, this.status >= 500);
  }

  onResponseError(_controller: DispatchController, error: Error): void {
    if (this.isClientGone) {
      this.finish(0, false);
      return;
    }
    const { res, requestId } = this.request;
    if (res.headersSent) {
      // Mid-body failure: never end a truncated body cleanly, drop the client connection.
      res.destroy(error);
      this.finish(this.status, true);
      return;
    }
    const code = classifyUpstreamError(error);
    sendProxyError(res, code, requestId);
    this.finish(res.statusCode, true);
  }

  private readonly onClientDrain = (): void => {
    this.controller?.resume();
  };

  private readonly onClientClose = (): void => {
    if (this.request.res.writableFinished || this.isDone) return;
    this.isClientGone = true;
    this.controller?.abort(new ClientGoneError("client went away"));
  };

  private finish(status: number, isFailure: boolean): void {
    if (this.isDone) return;
    this.isDone = true;
    const r = this.request;
    r.recorder.requestFinished({
      route: r.routeName,
      upstream: r.upstreamName,
      endpoint: r.endpoint,
      status,
      durationMs: performance.now() - r.startedAtMs,
      isFailure,
    });
  }
}

function requestHasBody(req: IncomingMessage): boolean {
  const length = req.headers["content-length"];
  if (length !== undefined) return length !== "0";
  return req.headers["transfer-encoding"] !== undefined;
}

function canSendTrailers(req: IncomingMessage, headers: OutgoingHttpHeaders): boolean {
  return req.httpVersionMinor >= 1 && headers["content-length"] === undefined;
}

function appendHeaders(headers: OutgoingHttpHeaders, extra: string[]): void {
  for (let i = 0; i < extra.length; i += 2) {
    const name = extra[i] ?? "";
    const value = extra[i + 1] ?? "";
    const existing = headers[name];
    if (existing === undefined) headers[name] = value;
    else if (Array.isArray(existing)) headers[name] = [...existing, value];
    else headers[name] = [String(existing), value];
  }
}
