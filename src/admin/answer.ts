/** What an admin endpoint answers, and how it is written: JSON everywhere but /metrics. */
import type { ServerResponse } from "node:http";
import type { ControlError } from "../control/control-api.ts";
import { CODE, ERROR_CODES, type ErrorCodeOf } from "../errors/error-codes.ts";

/** The codes the admin API answers on its own account (control refusals pass through). */
export type AdminErrorCode = ErrorCodeOf<"admin">;

export const JSON_CONTENT_TYPE = "application/json; charset=utf-8";

export interface JsonAnswer {
  readonly kind: "json";
  readonly status: number;
  readonly body: unknown;
  readonly headers?: Readonly<Record<string, string>>;
}

export interface TextAnswer {
  readonly kind: "text";
  readonly status: number;
  readonly contentType: string;
  readonly text: string;
}

export type AdminAnswer = JsonAnswer | TextAnswer;

export function jsonAnswer(
  status: number,
  body: unknown,
  headers?: Readonly<Record<string, string>>,
): JsonAnswer {
  return headers === undefined
    ? { kind: "json", status, body }
    : { kind: "json", status, body, headers };
}

/** `{"error": {"code", "message", ...extra}}` with the code's status. */
export function errorAnswer(
  code: AdminErrorCode,
  options: {
    message?: string;
    extra?: Readonly<Record<string, unknown>>;
    headers?: Readonly<Record<string, string>>;
  } = {},
): JsonAnswer {
  const { status, message } = ERROR_CODES[code];
  const error = { code, message: options.message ?? message, ...options.extra };
  return jsonAnswer(status, { error }, options.headers);
}

/** A field-by-field 400: `fields` maps a path (`weights.canary`) to what is wrong with it. */
export function invalidFieldsAnswer(
  code: typeof CODE.SWITCHYARD_INVALID_BODY | typeof CODE.SWITCHYARD_INVALID_QUERY,
  fields: Readonly<Record<string, string>>,
): JsonAnswer {
  const summary = Object.entries(fields)
    .map(([path, problem]) => `${path} ${problem}`)
    .join("; ");
  return errorAnswer(code, {
    message: `${ERROR_CODES[code].message} ${summary}.`,
    extra: { fields },
  });
}

export function controlErrorAnswer(error: ControlError): JsonAnswer {
  const body = {
    error: {
      code: error.code,
      message: error.message,
      ...(error.fields === undefined ? {} : { fields: error.fields }),
    },
  };
  return jsonAnswer(error.status, body);
}

export interface WriteOptions {
  /** HEAD: the headers of the GET answer, no body. */
  readonly isHead: boolean;
  /** Ends the connection after the answer (a request body was left unread). */
  readonly closeConnection: boolean;
}

export function writeAnswer(res: ServerResponse, answer: AdminAnswer, options: WriteOptions): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const payload =
    answer.kind === "json" ? `${JSON.stringify(answer.body, null, 2)}\n` : answer.text;
  const headers: Record<string, string | number> = {
    "content-type": answer.kind === "json" ? JSON_CONTENT_TYPE : answer.contentType,
    "content-length": Buffer.byteLength(payload),
    "cache-control": "no-store",
    "x-content-type-options": "nosniff",
    ...(answer.kind === "json" ? answer.headers : undefined),
  };
  if (options.closeConnection) {
    headers.connection = "close";
    res.shouldKeepAlive = false;
  }
  res.writeHead(answer.status, headers);
  res.end(options.isHead ? undefined : payload);
}
