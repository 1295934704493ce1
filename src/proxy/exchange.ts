/**
 * One client request from the moment it has a destination until the client has its answer:
 * the attempts on upstream endpoints, retries, and the streaming of the response. One object
 * per request carries the state, and its methods are undici's dispatch-handler callbacks, so
 * an attempt allocates no callbacks of its own (the exchange binds two client listeners once,
 * and a retry one tick callback). Backpressure both ways: undici pulls the request body
 * from the client stream as the upstream socket drains, and a client that reads slowly pauses
 * the upstream response (controller.pause / resume).
 */
import type {
  IncomingHttpHeaders,
  IncomingMessage,
  OutgoingHttpHeaders,
  ServerResponse,
} from "node:http";
import type { Dispatcher } from "undici";
import { CODE } from "../errors/error-codes.ts";
import { classifyRequestError, isConnectFailure } from "../net/request-error-kind.ts";
import type { CompiledRoute } from "../routing/route-table.ts";
import type { Runtime } from "../runtime/runtime.ts";
import { chooseRetryTarget, type AttemptTarget } from "./attempt-target.ts";
import { sendProxyError, type ProxyErrorCode } from "./errors.ts";
import { buildClientResponseHeaders } from "./headers.ts";
import type { ProxyRecorder } from "./recorder.ts";
import type { RetryBudget } from "./retry-budget.ts";
import { upstreamErrorCode } from "./upstream-errors.ts";

type DispatchController = Dispatcher.DispatchController;

export interface ExchangeInit {
  req: IncomingMessage;
  res: ServerResponse;
  requestId: string;
  /**
   * Read at response time (a drain that began mid-request still closes the connection) and
   * for retries (a reload since the request began may have retired its snapshot's pools).
   */
  runtime: Runtime;
  route: CompiledRoute;
  /** Headers for the upstream, flat [name, value, ...]. */
  headers: string[];
  /** The origin-form path and query. */
  path: string;
  startedAtMs: number;
  recorder: ProxyRecorder;
  retryBudget: RetryBudget;
  random: () => number;
  /** Extra response headers (e.g. the sticky cookie), flat [name, value, ...]. */
  extraResponseHeaders: string[] | undefined;
}

class ClientGoneError extends Error {
  readonly code = CODE.SWITCHYARD_CLIENT_GONE;
}

/** Aborts an attempt whose 5xx answer will be retried instead of relayed. */
class RetryingError extends Error {
  readonly code = CODE.SWITCHYARD_RETRYING;
}

const CLIENT_GONE = new ClientGoneError("client went away");
const RETRYING = new RetryingError("answer discarded for a retry");

export class Exchange implements Dispatcher.DispatchHandler {
  private readonly init: ExchangeInit;
  private readonly hasBody: boolean;
  private retriesLeft: number;
  private target!: AttemptTarget;
  private controller: DispatchController | undefined;
  private attemptStartedMs = 0;
  private upstreamStatus = 0;
  private isAttemptSettled = false;
  /** Chosen when a 5xx answer is discarded for a retry; sent once undici has let go. */
  private pendingRetry: AttemptTarget | undefined;
  private isClientGone = false;
  private isDone = false;
  private canSendTrailers = false;

  constructor(init: ExchangeInit) {
    this.init = init;
    this.hasBody = requestHasBody(init.req);
    this.retriesLeft = init.route.config.retries.attempts;
    init.res.on("close", this.onClientClose);
  }

  /** Sends the first attempt; the exchange reports its outcome when it ends. */
  start(target: AttemptTarget): void {
    this.send(target, this.init.startedAtMs);
  }

  private send(target: AttemptTarget, nowMs: number): void {
    const { req, headers, path } = this.init;
    this.target = target;
    this.controller = undefined;
    this.upstreamStatus = 0;
    this.isAttemptSettled = false;
    this.attemptStartedMs = nowMs;
    target.endpoint.pool.dispatch(
      {
        path,
        method: req.method as Dispatcher.HttpMethod,
        headers,
        body: this.hasBody ? req : null,
        // Retries are ours to decide (methods, budget); undici must not replay on its own.
        idempotent: false,
        blocking: false,
      },
      this,
    );
  }

  onRequestStart(controller: DispatchController): void {
    this.controller = controller;
    if (this.isClientGone) controller.abort(CLIENT_GONE);
  }

  onResponseStart(
    controller: DispatchController,
    statusCode: number,
    headers: IncomingHttpHeaders,
    statusMessage?: string,
  ): void {
    // 1xx interim answers (100 Continue, 103) are not relayed; the final answer follows.
    if (statusCode < 200) return;
    this.upstreamStatus = statusCode;
    if (statusCode >= 500 && this.mayRetry(false)) {
      this.finishAttempt(statusCode, true);
      // Only discard the answer when the retry has somewhere to go; else relay the 5xx.
      this.pendingRetry = this.chooseRetry(false);
      if (this.pendingRetry !== undefined) {
        controller.abort(RETRYING);
        return;
      }
    }
    const { res, requestId, extraResponseHeaders } = this.init;
    const outHeaders: OutgoingHttpHeaders = buildClientResponseHeaders(headers, requestId);
    if (extraResponseHeaders !== undefined) appendHeaders(outHeaders, extraResponseHeaders);
    // Trailers need chunked framing toward the client; without it they cannot be sent.
    this.canSendTrailers = canSendTrailers(this.init.req, outHeaders);
    // Checked first: a delete turns the object into a slow dictionary for writeHead.
    if (!this.canSendTrailers && outHeaders.trailer !== undefined) delete outHeaders.trailer;
    if (this.init.runtime.isClosing) res.shouldKeepAlive = false;
    try {
      res.writeHead(statusCode, statusMessage, outHeaders);
    } catch (error) {
      controller.abort(error as Error);
    }
  }

  onResponseData(controller: DispatchController, chunk: Buffer): void {
    const res = this.init.res;
    if (!res.write(chunk)) {
      controller.pause();
      res.once("drain", this.onClientDrain);
    }
  }

  onResponseEnd(_controller: DispatchController, trailers: IncomingHttpHeaders): void {
    const res = this.init.res;
    if (this.canSendTrailers) {
      for (const _name in trailers) {
        res.addTrailers(trailers);
        break;
      }
    }
    res.end();
    const status = this.upstreamStatus;
    const nowMs = performance.now();
    this.finishAttempt(status, status >= 500, nowMs);
    this.finishRequest(status, nowMs);
  }

  onResponseError(_controller: DispatchController, error: Error): void {
    if (this.isClientGone) {
      // Not the upstream's fault: the breaker and outlier detection count it as a success.
      this.finishAttempt(this.upstreamStatus, false);
      this.pendingRetry?.breakerCall.succeed();
      this.pendingRetry = undefined;
      this.finishRequest(0);
      return;
    }
    const { res } = this.init;
    if (res.headersSent) {
      // Mid-body failure: never end a truncated body cleanly, drop the client connection.
      this.finishAttempt(this.upstreamStatus, true);
      res.destroy(error);
      this.finishRequest(this.upstreamStatus);
      return;
    }
    if (error === RETRYING) {
      const next = this.pendingRetry;
      this.pendingRetry = undefined;
      if (next !== undefined) this.sendRetrySoon(next);
      return;
    }
    this.finishAttempt(0, true);
    const kind = classifyRequestError(error);
    const isReset = kind === "reset";
    const isNeverSent = isConnectFailure(kind);
    const next = this.mayRetry(isReset || isNeverSent, isNeverSent)
      ? this.chooseRetry(isReset)
      : undefined;
    if (next === undefined) {
      this.answerError(upstreamErrorCode(kind));
      return;
    }
    this.sendRetrySoon(next);
  }

  /**
   * Whether a failed attempt may be tried again (SPEC 4). `isBudgetFree`: the failure cost the
   * upstream nothing, so the budget, which protects upstreams from retry storms, does not
   * apply (still within `attempts`): a connect that failed (refused, timed out, unreachable,
   * unresolved) never reached it, and a reset before any answer is how a pooled connection the
   * upstream had just closed shows up (the keep-alive race). `isNeverSent`: the connection was
   * never made, so no byte of the request left (undici has not read its body): any method may
   * go elsewhere, as in nginx, HAProxy and Envoy.
   */
  private mayRetry(isBudgetFree: boolean, isNeverSent = false): boolean {
    const { req, route, res, retryBudget } = this.init;
    if (this.retriesLeft <= 0 || res.headersSent || this.isClientGone) return false;
    if (isNeverSent) return true;
    if (this.hasBody || !route.config.retries.methods.includes(req.method ?? "")) return false;
    return isBudgetFree || retryBudget.canRetry(performance.now());
  }

  private chooseRetry(isReset: boolean): AttemptTarget | undefined {
    const { runtime, route, random } = this.init;
    return chooseRetryTarget(runtime.current, route, this.target, isReset, random);
  }

  /** Dispatches the retry outside undici's callback that reported the failure. */
  private sendRetrySoon(next: AttemptTarget): void {
    const { route, recorder, retryBudget } = this.init;
    this.retriesLeft--;
    retryBudget.recordRetry(performance.now());
    recorder.retry(route.name, next.upstream.name);
    process.nextTick(() => {
      if (this.isClientGone) {
        next.breakerCall.succeed();
        this.finishRequest(0);
        return;
      }
      this.send(next, performance.now());
    });
  }

  private answerError(code: ProxyErrorCode): void {
    const { res, requestId } = this.init;
    sendProxyError(res, code, requestId);
    this.finishRequest(res.statusCode);
  }

  private readonly onClientDrain = (): void => {
    this.controller?.resume();
  };

  /**
   * Also what keeps a request body that turns malformed mid-stream from poisoning the pool:
   * Node closes the client's connection on the parse error, and aborting an attempt whose body
   * is still streaming makes undici destroy that upstream connection rather than reuse it.
   */
  private readonly onClientClose = (): void => {
    if (this.init.res.writableFinished || this.isDone) return;
    this.isClientGone = true;
    this.controller?.abort(CLIENT_GONE);
  };

  private finishAttempt(status: number, isFailure: boolean, nowMs = performance.now()): void {
    if (this.isAttemptSettled) return;
    this.isAttemptSettled = true;
    const target = this.target;
    if (isFailure) target.breakerCall.fail();
    else target.breakerCall.succeed();
    target.upstream.recordAttempt(target.endpoint, isFailure);
    this.init.recorder.attemptFinished({
      route: this.init.route.name,
      upstream: target.upstream.name,
      endpoint: target.endpoint,
      status,
      durationMs: nowMs - this.attemptStartedMs,
      isFailure,
    });
  }

  private finishRequest(status: number, nowMs = performance.now()): void {
    if (this.isDone) return;
    this.isDone = true;
    const init = this.init;
    init.recorder.requestFinished({
      route: init.route.name,
      upstream: this.target.upstream.name,
      status,
      durationMs: nowMs - init.startedAtMs,
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
