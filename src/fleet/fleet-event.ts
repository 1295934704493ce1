/**
 * Events of the fleet's shared log (SPEC 7 and 10): the same shape as the local EventLog's,
 * `{ id, at, type, ... }`, plus the state version the write that logged it produced. The id
 * comes from Redis (an INCR counter, so ids increase fleet-wide): a writer sends the event
 * without it and the write script splices `{"id":N,"version":V,` in front of the rest.
 */
import type { LoggedEvent } from "../events/event-log.ts";

/** What a writer logs with a write: a type and its fields (not id, at, type or version). */
export interface FleetEventInput {
  readonly type: string;
  readonly fields?: Readonly<Record<string, unknown>>;
}

export interface FleetEvent extends LoggedEvent {
  /**
   * The state version written together with this event; for an event a replica forwarded
   * from its own log (health, breakers, reloads), the version in force when it landed.
   */
  readonly version: number;
}

const RESERVED = new Set(["id", "at", "type", "version"]);

/** The event as the write script receives it: `type` first, no id or version. */
export function encodeEvent(event: FleetEventInput, atMs: number): string {
  const rest: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(event.fields ?? {})) {
    // A field named like the envelope would shadow it once the script adds id and version.
    if (!RESERVED.has(key)) rest[key] = value;
  }
  return JSON.stringify({ type: event.type, at: new Date(atMs).toISOString(), ...rest });
}

/** A stored event, or undefined when it is not one (skipped by readers, never thrown). */
export function decodeEvent(text: string): FleetEvent | undefined {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) return undefined;
  const record = raw as Record<string, unknown>;
  const { id, at, type, version } = record;
  // Version 0: an event forwarded before the fleet's first state write.
  if (!isCount(id) || !isVersion(version)) return undefined;
  if (typeof at !== "string" || typeof type !== "string") return undefined;
  return { ...record, id, at, type, version };
}

function isVersion(value: unknown): value is number {
  return typeof value === "number" && Number.isSafeInteger(value) && value >= 0;
}

function isCount(value: unknown): value is number {
  return typeof value === "number" && Number.isSafeInteger(value) && value >= 1;
}
