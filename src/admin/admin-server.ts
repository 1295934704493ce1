/**
 * The admin HTTP server (SPEC section 7): refuse cross-site calls, match the path, check the
 * token, read the JSON body within its limit, run the endpoint, answer JSON. Tokens and allowed
 * hosts can change on reload.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Duplex } from "node:stream";
import type { ControlApi } from "../control/control-api.ts";
import { answerClientError, type ClientErrorStyle } from "../errors/client-error.ts";
import { CODE } from "../errors/error-codes.ts";
import type { Logger } from "../log/logger.ts";
import { AllowedHosts } from "./admin-hosts.ts";
import { errorAnswer, JSON_CONTENT_TYPE, writeAnswer, type AdminAnswer } from "./answer.ts";
import { authorize, TokenMatcher, WWW_AUTHENTICATE, type AdminConfig } from "./auth.ts";
import { hasBody, MAX_BODY_BYTES, readJsonBody } from "./body.ts";
import { findContentTypeProblem } from "./content-type.ts";
import { crossSiteRequestOf, findCrossSiteRefusal } from "./cross-site.ts";
import { createAdminEndpoints, type MetricsSource } from "./endpoints.ts";
import { AdminRouter, type AdminEndpoint } from "./router.ts";

export interface AdminServerOptions {
  readonly control: ControlApi;
  readonly adminConfig: AdminConfig;
  readonly metrics: MetricsSource;
  readonly logger: Logger;
  /** Endpoints added to the standard ones (e.g. rollout actions). */
  readonly extraEndpoints?: readonly AdminEndpoint[];
}

export interface AdminAddress {
  readonly host: string;
  readonly port: number;
}

interface CallOutcome {
  readonly answer: AdminAnswer;
  readonly closeConnection: boolean;
  /** The caller's token name once known (logged). */
  readonly actor?: string | undefined;
}

/**
 * The admin listener's own connection budget, apart from the proxy's: probes, scrapes and
 * operators need a handful, so a flood on the proxy port never keeps them out, and a flood on
 * the admin port is refused before it takes the process's file descriptors.
 */
export const ADMIN_MAX_CONNECTIONS = 256;

/** How long `close()` lets in-flight admin calls finish before cutting them. */
const CLOSE_GRACE_MS = 2000;

export class AdminServer {
  readonly server: Server;
  private readonly router: AdminRouter;
  private readonly logger: Logger;
  private adminConfig: AdminConfig;
  private matcher: TokenMatcher;
  private allowedHosts: AllowedHosts;

  constructor(options: AdminServerOptions) {
    this.logger = options.logger;
    this.adminConfig = options.adminConfig;
    this.matcher = new TokenMatcher(options.adminConfig.tokens);
    this.allowedHosts = new AllowedHosts(options.adminConfig.allowedHosts);
    this.router = new AdminRouter([
      ...createAdminEndpoints(options),
      ...(options.extraEndpoints ?? []),
    ]);
    this.server = createServer({
      // A missing Host is answered by the cross-site guard, in JSON like every refusal.
      requireHostHeader: false,
      headersTimeout: 10_000,
      requestTimeout: 30_000,
      keepAliveTimeout: 5000,
    });
    this.server.on("request", (req: IncomingMessage, res: ServerResponse) => {
      void this.handle(req, res, false);
    });
    // Answer 100-continue only once the call is allowed and its body size is acceptable.
    this.server.on("checkContinue", (req: IncomingMessage, res: ServerResponse) => {
      void this.handle(req, res, true);
    });
    this.server.on("clientError", onClientError);
  }

  /** New tokens, publicMetrics and allowedHosts apply to the next call. */
  updateAdminConfig(adminConfig: AdminConfig): void {
    this.adminConfig = adminConfig;
    this.matcher = new TokenMatcher(adminConfig.tokens);
    this.allowedHosts = new AllowedHosts(adminConfig.allowedHosts);
  }

  listen(host: string, port: number): Promise<AdminAddress> {
    return new Promise((resolve, reject) => {
      const onError = (error: Error): void => {
        reject(error);
      };
      this.server.once("error", onError);
      this.server.listen(port, host, () => {
        this.server.off("error", onError);
        const address = this.server.address() as AddressInfo;
        resolve({ host: address.address, port: address.port });
      });
    });
  }

  address(): AdminAddress | undefined {
    const address = this.server.address();
    if (address === null || typeof address === "string") return undefined;
    return { host: address.address, port: address.port };
  }

  /** Stops listening, lets in-flight calls finish (up to 2 s), closes every connection. */
  close(): Promise<void> {
    if (!this.server.listening) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.server.closeAllConnections();
      }, CLOSE_GRACE_MS);
      timer.unref();
      this.server.close(() => {
        clearTimeout(timer);
        resolve();
      });
      this.server.closeIdleConnections();
    });
  }

  private async handle(
    req: IncomingMessage,
    res: ServerResponse,
    isContinueExpected: boolean,
  ): Promise<void> {
    let outcome: CallOutcome;
    try {
      outcome = await this.answer(req, res, isContinueExpected);
    } catch (error) {
      this.logger.error({ err: error, method: req.method, path: req.url }, "admin API call failed");
      outcome = { answer: errorAnswer(CODE.SWITCHYARD_INTERNAL), closeConnection: hasBody(req) };
    }
    writeAnswer(res, outcome.answer, {
      isHead: req.method === "HEAD",
      closeConnection: outcome.closeConnection,
    });
    const fields = {
      method: req.method,
      path: req.url,
      status: outcome.answer.status,
      actor: outcome.actor,
    };
    if (outcome.answer.status === 403) {
      const { host, origin } = req.headers;
      this.logger.warn({ ...fields, host, origin }, "admin API call refused");
    } else this.logger.debug(fields, "admin API call");
  }

  /** Cross-site guard, route, token, body, endpoint; a refusal at any step is the answer. */
  private async answer(
    req: IncomingMessage,
    res: ServerResponse,
    isContinueExpected: boolean,
  ): Promise<CallOutcome> {
    // A body left unread must not be drained for keep-alive: close the connection instead.
    const closeUnread = hasBody(req);
    const crossSite = this.refuseCrossSite(req, closeUnread);
    if (crossSite !== undefined) return crossSite;
    const url = new URL(req.url ?? "/", "http://admin.invalid");
    const match = this.router.match(req.method ?? "", url.pathname);
    if (match.kind === "notFound") {
      const message = `No admin API path ${url.pathname}.`;
      return {
        answer: errorAnswer(CODE.SWITCHYARD_NOT_FOUND, { message }),
        closeConnection: closeUnread,
      };
    }
    if (match.kind === "wrongMethod") {
      const allow = match.allow.join(", ");
      const answer = errorAnswer(CODE.SWITCHYARD_METHOD_NOT_ALLOWED, {
        message: `${String(req.method)} is not allowed on ${url.pathname}; use ${allow}.`,
        headers: { allow },
      });
      return { answer, closeConnection: closeUnread };
    }
    const { endpoint, params } = match;
    const scope =
      typeof endpoint.scope === "function" ? endpoint.scope(this.adminConfig) : endpoint.scope;
    const decision = authorize(this.matcher, req.headers.authorization, scope);
    if (!decision.ok) {
      const actor = decision.status === 403 ? decision.actor : undefined;
      return { answer: refusal(decision), closeConnection: closeUnread, actor };
    }
    const actor = decision.actor;
    const isWrite = endpoint.method !== "GET";
    const typeProblem = findContentTypeProblem(isWrite, closeUnread, req.headers["content-type"]);
    if (typeProblem !== undefined) {
      const answer = errorAnswer(CODE.SWITCHYARD_UNSUPPORTED_MEDIA_TYPE, { message: typeProblem });
      return { answer, closeConnection: closeUnread, actor };
    }
    let body: unknown;
    if (endpoint.takesBody || closeUnread) {
      if (isContinueExpected && !(Number(req.headers["content-length"]) > MAX_BODY_BYTES)) {
        res.writeContinue();
      }
      const read = await readJsonBody(req, MAX_BODY_BYTES);
      if (!read.ok) return { answer: read.answer, closeConnection: read.closeConnection, actor };
      body = read.value;
    }
    const answer = await endpoint.handle({ params, query: url.searchParams, body, actor });
    return { answer, closeConnection: false, actor };
  }

  /** A call a web page could have made (wrong Host, foreign Origin) is refused first. */
  private refuseCrossSite(req: IncomingMessage, closeUnread: boolean): CallOutcome | undefined {
    const refusal = findCrossSiteRefusal(crossSiteRequestOf(req), this.allowedHosts);
    if (refusal === undefined) return undefined;
    const answer = errorAnswer(refusal.code, { message: refusal.message });
    const isMalformed = refusal.code === CODE.SWITCHYARD_ADMIN_HOST_INVALID;
    return { answer, closeConnection: closeUnread || isMalformed };
  }
}

function refusal(decision: { status: 401 | 403; reason?: "missing" | "unknown" }): AdminAnswer {
  if (decision.status === 403) return errorAnswer(CODE.SWITCHYARD_FORBIDDEN);
  const isUnknown = decision.reason === "unknown";
  return errorAnswer(CODE.SWITCHYARD_UNAUTHORIZED, {
    message: isUnknown
      ? "The bearer token is not known to this switchyard."
      : "A bearer token is required (Authorization: Bearer TOKEN).",
    headers: {
      "www-authenticate": isUnknown
        ? `${WWW_AUTHENTICATE}, error="invalid_token"`
        : WWW_AUTHENTICATE,
    },
  });
}

/** Malformed requests get the proxy's answers (400, 408, 431, 505) in the admin API's JSON. */
const ADMIN_CLIENT_ERRORS: ClientErrorStyle = {
  contentType: JSON_CONTENT_TYPE,
  hasRequestId: false,
};

function onClientError(error: Error, socket: Duplex): void {
  answerClientError(error, socket, ADMIN_CLIENT_ERRORS);
}
