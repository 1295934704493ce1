/**
 * Every error the admin API answers on its own account, in one table: a stable code, the HTTP
 * status and the default sentence. Refusals of the control plane (unknown route, a running
 * rollout) carry their own codes and pass through unchanged.
 */
export const ADMIN_ERRORS = {
  SWITCHYARD_INVALID_JSON: { status: 400, message: "The request body is not valid JSON." },
  SWITCHYARD_INVALID_BODY: { status: 400, message: "The request body is invalid." },
  SWITCHYARD_INVALID_QUERY: { status: 400, message: "The query string is invalid." },
  SWITCHYARD_CONFIG_INVALID: {
    status: 400,
    message: "The config file was refused; the running config stays.",
  },
  SWITCHYARD_ADMIN_HOST_INVALID: {
    status: 400,
    message: "The request needs exactly one Host header naming the admin API.",
  },
  SWITCHYARD_UNAUTHORIZED: {
    status: 401,
    message: "A valid bearer token is required (Authorization: Bearer TOKEN).",
  },
  SWITCHYARD_FORBIDDEN: {
    status: 403,
    message: "This token has read scope; this call needs a token with write scope.",
  },
  SWITCHYARD_ADMIN_HOST_REFUSED: {
    status: 403,
    message:
      "The Host header does not name this admin API; call it by IP address or localhost, or list the name in admin.allowedHosts.",
  },
  SWITCHYARD_ADMIN_ORIGIN_REFUSED: {
    status: 403,
    message: "Web pages of other origins may not call the admin API.",
  },
  SWITCHYARD_NOT_FOUND: { status: 404, message: "No such admin API path." },
  SWITCHYARD_METHOD_NOT_ALLOWED: {
    status: 405,
    message: "This method is not allowed on this path.",
  },
  SWITCHYARD_BODY_TOO_LARGE: {
    status: 413,
    message: "The request body is larger than 64 KiB.",
  },
  SWITCHYARD_UNSUPPORTED_MEDIA_TYPE: {
    status: 415,
    message:
      "Write calls and request bodies must be declared JSON (Content-Type: application/json).",
  },
  SWITCHYARD_INTERNAL: {
    status: 500,
    message: "The admin API failed to answer; see the switchyard log.",
  },
} as const satisfies Record<string, { status: number; message: string }>;

export type AdminErrorCode = keyof typeof ADMIN_ERRORS;
