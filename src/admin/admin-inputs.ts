/**
 * Pure checks of what admin callers send: the `since` query of the event log, the shape of a
 * weights body, and an endpoint state call's index and body. What the weights mean (known
 * upstreams, range, decimals, sum of 100) and whether the endpoint exists are the control
 * plane's to judge; here only the shape, so each field's problem is named.
 */
import {
  ENDPOINT_ADMIN_STATES,
  isEndpointAdminState,
  type EndpointAdminState,
  type WriteScope,
} from "../control/control-api.ts";

export type InputResult<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly fields: Readonly<Record<string, string>> };

/** `?since=ID`: absent, or one non-negative integer written in decimal digits. */
export function parseSince(query: URLSearchParams): InputResult<number | undefined> {
  const values = query.getAll("since");
  if (values.length === 0) return { ok: true, value: undefined };
  const text = values[0] ?? "";
  const value = Number(text);
  if (values.length > 1 || !/^\d+$/.test(text) || !Number.isSafeInteger(value)) {
    return { ok: false, fields: { since: "must be a non-negative integer (an event id)" } };
  }
  return { ok: true, value };
}

/**
 * `?local=true` on a write: this replica only (fleet mode while Redis is away, SPEC 10).
 * Absent or `false`: the fleet.
 */
export function parseWriteScope(query: URLSearchParams): InputResult<WriteScope> {
  const values = query.getAll("local");
  if (values.length === 0) return { ok: true, value: "fleet" };
  const text = values[0];
  if (values.length > 1 || (text !== "true" && text !== "false")) {
    return { ok: false, fields: { local: "must be true or false, given once" } };
  }
  return { ok: true, value: text === "true" ? "local" : "fleet" };
}

const WEIGHTS_EXAMPLE = '{"weights": {"stable": 90, "canary": 10}}';

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** `{"weights": {UPSTREAM: PERCENT, ...}}` with numbers only and no other field. */
export function parseWeightsBody(body: unknown): InputResult<Record<string, number>> {
  if (!isPlainObject(body)) {
    return { ok: false, fields: { body: `must be a JSON object like ${WEIGHTS_EXAMPLE}` } };
  }
  const fields: Record<string, string> = {};
  for (const key of Object.keys(body)) {
    if (key !== "weights") fields[key] = "is not a known field (the body takes only weights)";
  }
  const weights = body.weights;
  if (weights === undefined) {
    fields.weights = `is required, e.g. ${WEIGHTS_EXAMPLE}`;
  } else if (!isPlainObject(weights)) {
    fields.weights = "must be an object of upstream name -> percent";
  } else if (Object.keys(weights).length === 0) {
    fields.weights = "must name at least one upstream";
  } else {
    for (const [upstream, percent] of Object.entries(weights)) {
      if (typeof percent !== "number" || !Number.isFinite(percent)) {
        fields[`weights.${upstream}`] = "must be a number";
      }
    }
  }
  if (Object.keys(fields).length > 0) return { ok: false, fields };
  return { ok: true, value: weights as Record<string, number> };
}

const STATE_EXAMPLE = '{"state": "drain"}';
const STATE_CHOICES = ENDPOINT_ADMIN_STATES.map((state) => `"${state}"`).join(", ");

/** `{"state": "ready" | "drain" | "maintenance"}` and no other field. */
export function parseEndpointStateBody(body: unknown): InputResult<EndpointAdminState> {
  if (!isPlainObject(body)) {
    return { ok: false, fields: { body: `must be a JSON object like ${STATE_EXAMPLE}` } };
  }
  const fields: Record<string, string> = {};
  for (const key of Object.keys(body)) {
    if (key !== "state") fields[key] = "is not a known field (the body takes only state)";
  }
  const state = body.state;
  if (state === undefined) fields.state = `is required: one of ${STATE_CHOICES}`;
  else if (!isEndpointAdminState(state)) fields.state = `must be one of ${STATE_CHOICES}`;
  if (Object.keys(fields).length > 0) return { ok: false, fields };
  return { ok: true, value: state as EndpointAdminState };
}

/** An endpoint's index in a path: decimal digits only (`0`, `1`, ...). */
export function parseEndpointIndex(text: string): number | undefined {
  return /^(0|[1-9]\d{0,8})$/.test(text) ? Number(text) : undefined;
}
