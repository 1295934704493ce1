/**
 * Every `SWITCHYARD_*` code in one table: the HTTP status it is answered with, who answers it,
 * and what it means, in the sentence an answer carries when its writer has nothing more
 * precise to say. docs/errors.md lists the same codes (test/unit/errors holds the two
 * together), and no other source file spells a code out: they name one as
 * `CODE.SWITCHYARD_...`, so a code that is not in this table does not compile.
 */

/**
 * Who answers a code: the proxy listener, the admin API on its own account, the control plane
 * through the admin API, or nobody (a marker that never leaves the process).
 */
export type ErrorSource = "proxy" | "admin" | "control" | "internal";

export interface ErrorCodeEntry {
  /** null: never answered. */
  readonly status: number | null;
  readonly where: readonly ErrorSource[];
  readonly message: string;
}

export const ERROR_CODES = {
  // ---- the proxy's own answers (the admin listener answers the parser's refusals alike) ----
  SWITCHYARD_BAD_REQUEST: {
    status: 400,
    where: ["proxy", "admin"],
    message: "The request is malformed or ambiguous.",
  },
  SWITCHYARD_UPGRADE_REFUSED: {
    status: 400,
    where: ["proxy"],
    message: "This upgrade is not supported.",
  },
  SWITCHYARD_NO_ROUTE: { status: 404, where: ["proxy"], message: "No route matches this request." },
  SWITCHYARD_REQUEST_TIMEOUT: {
    status: 408,
    where: ["proxy", "admin"],
    message: "The request did not arrive within the server's time limits.",
  },
  SWITCHYARD_HEADERS_TOO_LARGE: {
    status: 431,
    where: ["proxy", "admin"],
    message: "The request headers are larger than the server accepts.",
  },
  SWITCHYARD_UPSTREAM_CONNECT_FAILED: {
    status: 502,
    where: ["proxy"],
    message: "The upstream could not be reached.",
  },
  SWITCHYARD_UPSTREAM_RESET: {
    status: 502,
    where: ["proxy"],
    message: "The upstream closed the connection before answering.",
  },
  SWITCHYARD_UPSTREAM_MALFORMED: {
    status: 502,
    where: ["proxy"],
    message: "The upstream sent a malformed response.",
  },
  SWITCHYARD_UPSTREAM_UNAVAILABLE: {
    status: 503,
    where: ["proxy"],
    message: "No upstream is available for this route.",
  },
  SWITCHYARD_UPSTREAM_TIMEOUT: {
    status: 504,
    where: ["proxy"],
    message: "The upstream did not answer in time.",
  },
  SWITCHYARD_HTTP_VERSION_NOT_SUPPORTED: {
    status: 505,
    where: ["proxy", "admin"],
    message: "Only HTTP/1.0 and HTTP/1.1 are spoken on this connection.",
  },
  SWITCHYARD_LOOP_DETECTED: {
    status: 508,
    where: ["proxy"],
    message: "The request has already passed through switchyard (Via loop).",
  },

  // ---- the admin API's own answers ----
  SWITCHYARD_INVALID_JSON: {
    status: 400,
    where: ["admin"],
    message: "The request body is not valid JSON.",
  },
  SWITCHYARD_INVALID_BODY: {
    status: 400,
    where: ["admin"],
    message: "The request body is invalid.",
  },
  SWITCHYARD_INVALID_QUERY: {
    status: 400,
    where: ["admin"],
    message: "The query string is invalid.",
  },
  SWITCHYARD_CONFIG_INVALID: {
    status: 400,
    where: ["admin"],
    message: "The config file was refused; the running config stays.",
  },
  SWITCHYARD_ADMIN_HOST_INVALID: {
    status: 400,
    where: ["admin"],
    message: "The request needs exactly one Host header naming the admin API.",
  },
  SWITCHYARD_UNAUTHORIZED: {
    status: 401,
    where: ["admin"],
    message: "A valid bearer token is required (Authorization: Bearer TOKEN).",
  },
  SWITCHYARD_FORBIDDEN: {
    status: 403,
    where: ["admin"],
    message: "This token has read scope; this call needs a token with write scope.",
  },
  SWITCHYARD_ADMIN_HOST_REFUSED: {
    status: 403,
    where: ["admin"],
    message:
      "The Host header does not name this admin API; call it by IP address or localhost, or list the name in admin.allowedHosts.",
  },
  SWITCHYARD_ADMIN_ORIGIN_REFUSED: {
    status: 403,
    where: ["admin"],
    message: "Web pages of other origins may not call the admin API.",
  },
  SWITCHYARD_NOT_FOUND: { status: 404, where: ["admin"], message: "No such admin API path." },
  SWITCHYARD_METHOD_NOT_ALLOWED: {
    status: 405,
    where: ["admin"],
    message: "This method is not allowed on this path.",
  },
  SWITCHYARD_BODY_TOO_LARGE: {
    status: 413,
    where: ["admin"],
    message: "The request body is larger than 64 KiB.",
  },
  SWITCHYARD_UNSUPPORTED_MEDIA_TYPE: {
    status: 415,
    where: ["admin"],
    message:
      "Write calls and request bodies must be declared JSON (Content-Type: application/json).",
  },
  SWITCHYARD_INTERNAL: {
    status: 500,
    where: ["admin"],
    message: "The admin API failed to answer; see the switchyard log.",
  },

  // ---- refusals of the control plane, answered through the admin API (and the CLI) ----
  SWITCHYARD_INVALID_WEIGHTS: {
    status: 400,
    where: ["control"],
    message:
      "The weights are refused: an unknown upstream, a weight outside 0 to 100, or a sum other than 100.",
  },
  SWITCHYARD_UNKNOWN_ROUTE: {
    status: 404,
    where: ["control"],
    message: "No route of that name.",
  },
  SWITCHYARD_UNKNOWN_UPSTREAM: {
    status: 404,
    where: ["control"],
    message: "No upstream of that name.",
  },
  SWITCHYARD_UNKNOWN_ENDPOINT: {
    status: 404,
    where: ["control"],
    message: "The upstream has no endpoint at that index (indexes follow its endpoints list).",
  },
  SWITCHYARD_UNKNOWN_ACTION: {
    status: 404,
    where: ["control"],
    message: "No rollout action of that name (start, pause, resume, approve, promote, abort).",
  },
  SWITCHYARD_ROLLOUT_RUNNING: {
    status: 409,
    where: ["control"],
    message: "A rollout owns this route's split; pause it before changing the weights.",
  },
  SWITCHYARD_NO_ROLLOUT: {
    status: 409,
    where: ["control"],
    message: "The route has no rollout block, or rollouts do not run in this process.",
  },
  SWITCHYARD_ROLLOUT_IDLE: {
    status: 409,
    where: ["control"],
    message: "No rollout is under way on this route; start one first.",
  },
  SWITCHYARD_ROLLOUT_PHASE: {
    status: 409,
    where: ["control"],
    message: "The rollout's phase does not allow this action (or a start while one is under way).",
  },

  SWITCHYARD_FLEET_CONFLICT: {
    status: 409,
    where: ["control"],
    message:
      "The fleet's shared state changed on another replica while this change was made; read it again and retry.",
  },
  SWITCHYARD_FLEET_FENCED: {
    status: 409,
    where: ["control"],
    message:
      "Fleet mode: a rollout decision of a replica that no longer leads the fleet was refused by Redis.",
  },
  SWITCHYARD_LOCAL_WRITE_REFUSED: {
    status: 409,
    where: ["control"],
    message:
      "?local=true is an emergency lever for fleet mode while Redis cannot be reached; Redis answers, so write to the fleet.",
  },
  SWITCHYARD_FLEET_UNAVAILABLE: {
    status: 503,
    where: ["control"],
    message:
      "Fleet mode: Redis cannot be reached, so the shared state cannot change; the split in force stays (?local=true applies to this replica only).",
  },

  // ---- markers inside the proxy, never answered ----
  SWITCHYARD_CLIENT_GONE: {
    status: null,
    where: ["internal"],
    message: "The client went away; its upstream attempt is aborted.",
  },
  SWITCHYARD_RETRYING: {
    status: null,
    where: ["internal"],
    message: "An upstream 5xx answer is discarded because the request is retried.",
  },
} as const satisfies Readonly<Record<`SWITCHYARD_${string}`, ErrorCodeEntry>>;

export type ErrorCode = keyof typeof ERROR_CODES;

/** The codes `source` answers. */
export type ErrorCodeOf<S extends ErrorSource> = {
  [K in ErrorCode]: S extends (typeof ERROR_CODES)[K]["where"][number] ? K : never;
}[ErrorCode];

/** Each code by its own name, so that no caller spells one out: `CODE.SWITCHYARD_NO_ROUTE`. */
export const CODE: { readonly [K in ErrorCode]: K } = Object.freeze(
  Object.fromEntries(Object.keys(ERROR_CODES).map((code) => [code, code])) as {
    [K in ErrorCode]: K;
  },
);
