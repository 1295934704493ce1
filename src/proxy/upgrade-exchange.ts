/**
 * One upgrade from the moment it has a destination until the upstream has answered: settles
 * the attempt (breaker, outlier detection, recorder) and records the request once, as the
 * Exchange does for plain requests. A 101 is a success; any other answer is relayed by
 * http-proxy-3 and is a failure when it is a 5xx (SPEC 4); an upstream that cannot be reached
 * gets our 502. What happens in the tunnel after the 101 is not the request's outcome.
 */
import type { ClientRequest, IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import { ERROR_CODES } from "../errors/error-codes.ts";
import { writeRawError } from "../errors/raw-error.ts";
import type { Logger } from "../log/logger.ts";
import { classifyRequestError } from "../net/request-error-kind.ts";
import type { AttemptTarget } from "./attempt-target.ts";
import { buildClientResponseHeaders } from "./headers.ts";
import type { ProxyRecorder } from "./recorder.ts";
import { upstreamErrorCode } from "./upstream-errors.ts";

export interface UpgradeExchangeInit {
  socket: Duplex;
  requestId: string;
  route: string;
  attempt: AttemptTarget;
  startedAtMs: number;
  recorder: ProxyRecorder;
  logger: Logger;
  /** A Set-Cookie value for a new sticky client, sent with the answer. */
  stickyCookie: string | undefined;
}

export class UpgradeExchange {
  private readonly init: UpgradeExchangeInit;
  private upstreamRequest: ClientRequest | undefined;
  private isSettled = false;

  constructor(init: UpgradeExchangeInit) {
    this.init = init;
    init.socket.once("close", this.onClientClose);
  }

  /** http-proxy-3 made the upstream request: our listeners run before its own. */
  attach(upstreamRequest: ClientRequest): void {
    this.upstreamRequest = upstreamRequest;
    upstreamRequest.once("upgrade", this.onSwitched);
    upstreamRequest.once("response", this.onAnswered);
  }

  /** The upstream switched protocols; http-proxy-3 writes the 101 from these headers. */
  private readonly onSwitched = (answer: IncomingMessage): void => {
    answer.headers = this.clientHeaders(answer, true);
    this.settle(101, false);
  };

  /** A plain answer to the upgrade, relayed by http-proxy-3; the connection closes after it. */
  private readonly onAnswered = (answer: IncomingMessage): void => {
    const headers = this.clientHeaders(answer, false);
    headers.connection = "close";
    answer.headers = headers;
    const status = answer.statusCode ?? 0;
    this.settle(status, status >= 500);
  };

  /** http-proxy-3's error callback: the upstream request failed, or later the tunnel did. */
  readonly onError = (error: Error): void => {
    const { logger, requestId, socket } = this.init;
    if (this.isSettled) {
      logger.debug({ err: error, requestId }, "upgraded connection to upstream failed");
      return;
    }
    logger.debug({ err: error, requestId }, "upgrade to upstream failed");
    const code = upstreamErrorCode(classifyRequestError(error));
    writeRawError(socket, code, requestId);
    this.settle(0, true, ERROR_CODES[code].status);
  };

  /**
   * The client left before the upstream answered: not the upstream's fault. Its socket is not
   * read before the switch, so this is a reset or an error; a FIN alone shows once it is.
   */
  private readonly onClientClose = (): void => {
    if (this.isSettled) return;
    this.settle(0, false);
    this.upstreamRequest?.destroy();
  };

  private clientHeaders(answer: IncomingMessage, isUpgrade: boolean): IncomingMessage["headers"] {
    const headers = buildClientResponseHeaders(answer.headers, this.init.requestId, isUpgrade);
    const cookie = this.init.stickyCookie;
    if (cookie !== undefined) {
      const existing = headers["set-cookie"];
      headers["set-cookie"] = existing === undefined ? [cookie] : [...existing, cookie];
    }
    return headers;
  }

  /** Reports the attempt and the request once; `clientStatus` is what the client got. */
  private settle(upstreamStatus: number, isFailure: boolean, clientStatus = upstreamStatus): void {
    if (this.isSettled) return;
    this.isSettled = true;
    const { attempt, recorder, route, startedAtMs } = this.init;
    if (isFailure) attempt.breakerCall.fail();
    else attempt.breakerCall.succeed();
    attempt.upstream.recordAttempt(attempt.endpoint, isFailure);
    const durationMs = performance.now() - startedAtMs;
    const upstream = attempt.upstream.name;
    recorder.attemptFinished({
      route,
      upstream,
      endpoint: attempt.endpoint,
      status: upstreamStatus,
      durationMs,
      isFailure,
    });
    recorder.requestFinished({ route, upstream, status: clientStatus, durationMs });
  }
}
