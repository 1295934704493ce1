import { randomUUID } from "node:crypto";

/** Visible ASCII, at most 200 characters: anything else is replaced by a fresh id. */
const ACCEPTABLE_ID = /^[\x21-\x7e]{1,200}$/;

/** The client's X-Request-Id when it is sane, else a new UUID. */
export function requestIdFor(incoming: string | string[] | undefined): string {
  if (typeof incoming === "string" && ACCEPTABLE_ID.test(incoming)) return incoming;
  return randomUUID();
}
