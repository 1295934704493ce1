/**
 * The fleet's shared state in Redis (SPEC 10): one versioned document (overrides, rollout
 * records, endpoint states) and the fleet-wide event log. Every write is one script that
 * checks the version the writer read (and, for a leader's decision, its lease), so concurrent
 * writers never lose each other's changes: the loser sees "conflict" and `update` retries on
 * the newer state. Nothing here is on the request path and nothing waits on a Redis that is
 * away: every call resolves, "unavailable" when Redis did not answer.
 *
 * A write that timed out has an unknown outcome (a frozen Redis may still run it when it
 * wakes up). The caller resolves it by reading again once Redis answers: a version above the
 * expected one whose document holds the change means it landed; the expected version means it
 * did not. `update` never retries after "unavailable", so a change is never applied twice.
 *
 * The store remembers the highest version and event id it has seen and its last known
 * document: a Redis that came back empty is seeded from that document, above those numbers.
 */
import type { Logger } from "../log/logger.ts";
import { SYSTEM_CLOCK } from "../time/clock.ts";
import type { Clock } from "../time/clock.ts";
import { DEFAULT_EVENT_CAPACITY } from "../events/event-log.ts";
import type { FleetKeys } from "./fleet-keys.ts";
import type { RedisLink } from "./redis-link.ts";
import {
  bodyOf,
  decodeDocument,
  emptyDocumentBody,
  encodeDocumentBody,
  fleetDocumentBodySchema,
} from "./fleet-document.ts";
import type { FleetDocument, FleetDocumentBody } from "./fleet-document.ts";
import { decodeEvent, encodeEvent } from "./fleet-event.ts";
import type { FleetEvent, FleetEventInput } from "./fleet-event.ts";
import { APPEND_EVENTS_LUA } from "./event-append-script.ts";
import { runWriteScript } from "./state-write-script.ts";
import { StateFollower } from "./state-follower.ts";
import { CommandTimeoutError } from "./with-timeout.ts";

/** A leader's decision carries its lease: refused unless it still holds it at that epoch. */
export interface WriteFence {
  readonly replica: string;
  readonly epoch: number;
}

export type Unavailable = {
  readonly ok: false;
  readonly reason: "unavailable";
  readonly error: Error;
  /** A timeout: the write may still have happened (see the module comment). */
  readonly outcomeUnknown: boolean;
};

export type WriteResult =
  | { readonly ok: true; readonly version: number; readonly eventId: number }
  | { readonly ok: false; readonly reason: "conflict"; readonly version: number }
  | { readonly ok: false; readonly reason: "fenced" }
  | Unavailable;

export type StateRead =
  | { readonly kind: "found"; readonly version: number; readonly document: FleetDocument }
  /** No document: a new fleet, or a Redis that lost its data. */
  | { readonly kind: "empty"; readonly version: number }
  | { readonly kind: "corrupt"; readonly version: number; readonly reason: string }
  | { readonly kind: "unavailable"; readonly error: Error };

/** What a mutation makes of the state read: a new body, or a refusal (e.g. a 409 rule). */
export type Mutation<E> =
  | { readonly ok: true; readonly document: FleetDocumentBody }
  | { readonly ok: false; readonly error: E };

export type UpdateResult<E> =
  | WriteResult
  | { readonly ok: false; readonly reason: "refused"; readonly error: E }
  | { readonly ok: false; readonly reason: "corrupt"; readonly message: string };

/** The event of an update, fixed or made from the state before and after the mutation. */
export type UpdateEvent =
  FleetEventInput | ((before: FleetDocumentBody, after: FleetDocumentBody) => FleetEventInput);

export type EventsResult =
  { readonly ok: true; readonly events: readonly FleetEvent[] } | Unavailable;

export interface SharedStateStoreOptions {
  readonly link: RedisLink;
  readonly keys: FleetKeys;
  readonly logger: Logger;
  readonly clock?: Clock;
  /** The events kept in Redis (default: the local EventLog's capacity). */
  readonly eventCapacity?: number;
  /** Writes tried by one `update` before it gives up on conflicts (default 8). */
  readonly maxAttempts?: number;
  /** How often `watch` polls the version (default 1 s, SPEC 10's "within 1 s"). */
  readonly pollIntervalMs?: number;
  /** The last fleet state this replica knew (e.g. from the state file): seeds an empty Redis. */
  readonly lastKnown?: FleetDocument;
  /** The highest event id this replica has seen, so an empty Redis never reuses one. */
  readonly seenEventId?: number;
}

const DEFAULT_MAX_ATTEMPTS = 8;
const DEFAULT_POLL_INTERVAL_MS = 1000;

export class SharedStateStore {
  readonly #link: RedisLink;
  readonly #keys: FleetKeys;
  readonly #logger: Logger;
  readonly #clock: Clock;
  readonly #eventCapacity: number;
  readonly #maxAttempts: number;
  readonly #pollIntervalMs: number;
  #seenVersion: number;
  #seenEventId: number;
  #lastKnown: FleetDocument | undefined;

  constructor(options: SharedStateStoreOptions) {
    this.#link = options.link;
    this.#keys = options.keys;
    this.#logger = options.logger;
    this.#clock = options.clock ?? SYSTEM_CLOCK;
    this.#eventCapacity = options.eventCapacity ?? DEFAULT_EVENT_CAPACITY;
    this.#maxAttempts = options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
    this.#pollIntervalMs = options.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS;
    this.#lastKnown = options.lastKnown;
    this.#seenVersion = options.lastKnown?.version ?? 0;
    this.#seenEventId = options.seenEventId ?? 0;
  }

  /** The highest state version seen in Redis or written. */
  get seenVersion(): number {
    return this.#seenVersion;
  }

  /** The highest event id seen in Redis or written. */
  get seenEventId(): number {
    return this.#seenEventId;
  }

  /** The newest document read or written: what an empty Redis is seeded from. */
  get lastKnown(): FleetDocument | undefined {
    return this.#lastKnown;
  }

  /** The document and its version, read together (one MGET). */
  async read(): Promise<StateRead> {
    let reply: (string | null)[];
    try {
      const { state, stateVersion, eventSeq } = this.#keys;
      reply = await this.#link.run("read the fleet state", (c) =>
        c.mGet([state, stateVersion, eventSeq]),
      );
    } catch (error) {
      return { kind: "unavailable", error: asError(error) };
    }
    const [text, versionText, eventSeqText] = reply;
    const version = Number(versionText ?? "0");
    this.#see(version, Number(eventSeqText ?? "0"));
    if (text === null || text === undefined) return { kind: "empty", version };
    const decoded = decodeDocument(text);
    if (!decoded.ok) return { kind: "corrupt", version, reason: decoded.reason };
    if (decoded.document.version !== version) {
      const reason = `the document says version ${String(decoded.document.version)}`;
      return { kind: "corrupt", version, reason };
    }
    this.#know(decoded.document);
    return { kind: "found", version, document: decoded.document };
  }

  /**
   * The current version (0 when Redis has none), with the event counter noted as seen, so a
   * replica that only follows never hands out an event id already used; throws when Redis is
   * away. The follower's cheap poll.
   */
  async peekVersion(): Promise<number> {
    const { stateVersion, eventSeq } = this.#keys;
    const [versionText, eventSeqText] = await this.#link.run("poll the fleet state version", (c) =>
      c.mGet([stateVersion, eventSeq]),
    );
    const version = Number(versionText ?? "0");
    this.#see(version, Number(eventSeqText ?? "0"));
    return version;
  }

  /**
   * One write: refused unless the version is still `expectedVersion` (0: no document yet).
   * Rejects only for a body that is not a valid document (a bug); every other outcome resolves.
   */
  async write(
    expectedVersion: number,
    document: FleetDocumentBody,
    event: FleetEventInput,
    fence?: WriteFence,
  ): Promise<WriteResult> {
    // A body the document schema refuses is the caller's bug: thrown before anything is sent,
    // so that nothing every other replica would then report as corrupt ever reaches Redis.
    const body = fleetDocumentBodySchema.parse(document);
    const args = {
      expectedVersion,
      documentBody: encodeDocumentBody(body),
      event: encodeEvent(event, this.#clock.wallNow()),
      versionFloor: this.#seenVersion,
      eventIdFloor: this.#seenEventId,
      eventCap: this.#eventCapacity,
      channel: this.#keys.stateChannel,
      fence,
    };
    try {
      const reply = await this.#link.run("write the fleet state", (c) =>
        runWriteScript(c, this.#keys, args),
      );
      if (reply.kind === "fenced") return { ok: false, reason: "fenced" };
      if (reply.kind === "conflict") {
        this.#see(reply.version, 0);
        return { ok: false, reason: "conflict", version: reply.version };
      }
      this.#see(reply.version, reply.eventId);
      this.#know({ ...body, version: reply.version });
      return { ok: true, version: reply.version, eventId: reply.eventId };
    } catch (error) {
      return unavailable(error);
    }
  }

  /**
   * Reads, applies `mutate` to what was read, and writes it back at the version read, again
   * on the newer state when another writer came first (at most `maxAttempts` writes). An empty
   * Redis is treated as holding the last known document, so a change never wipes the rest.
   */
  async update<E>(
    mutate: (current: FleetDocumentBody) => Mutation<E>,
    event: UpdateEvent,
    fence?: WriteFence,
  ): Promise<UpdateResult<E>> {
    let last: UpdateResult<E> = { ok: false, reason: "conflict", version: this.#seenVersion };
    for (let attempt = 0; attempt < this.#maxAttempts; attempt++) {
      const read = await this.read();
      if (read.kind === "unavailable") return unavailable(read.error);
      if (read.kind === "corrupt") return { ok: false, reason: "corrupt", message: read.reason };
      const before =
        read.kind === "found" ? read.document : (this.#lastKnown ?? emptyDocumentBody());
      const mutation = mutate(bodyOf(before));
      if (!mutation.ok) return { ok: false, reason: "refused", error: mutation.error };
      const input = typeof event === "function" ? event(bodyOf(before), mutation.document) : event;
      last = await this.write(read.version, mutation.document, input, fence);
      if (last.ok || last.reason !== "conflict") return last;
    }
    return last;
  }

  /**
   * Puts the last known document back when Redis lost it: when there is no document, or one
   * older than ours or at our version with other content (another replica seeded it from an
   * older view). Resolves "notNeeded" when Redis holds our state or a newer one.
   */
  async seed(): Promise<WriteResult | { readonly ok: false; readonly reason: "notNeeded" }> {
    const read = await this.read();
    if (read.kind === "unavailable") return unavailable(read.error);
    const ours = this.#lastKnown;
    if (ours === undefined || !needsSeed(read, ours)) return { ok: false, reason: "notNeeded" };
    this.#logger.warn(
      { version: read.version, ourVersion: ours.version, found: read.kind },
      "fleet: Redis lost the shared state; putting back the last state this replica knew",
    );
    const fields = { fromVersion: ours.version, foundVersion: read.version };
    return this.write(read.version, bodyOf(ours), { type: "fleet.stateSeeded", fields });
  }

  /**
   * Appends events forwarded from this replica's own log, in order, each with its own time.
   * Resolves the last id given, or "unavailable" (the caller keeps them and tries again).
   */
  async appendEvents(
    events: readonly { readonly event: FleetEventInput; readonly atMs: number }[],
  ): Promise<{ readonly ok: true; readonly lastId: number } | Unavailable> {
    if (events.length === 0) return { ok: true, lastId: this.#seenEventId };
    const { eventSeq, events: list, stateVersion } = this.#keys;
    try {
      const lastId = await this.#link.run(`append ${String(events.length)} events`, (c) =>
        c.eval(APPEND_EVENTS_LUA, {
          keys: [eventSeq, list, stateVersion],
          arguments: [
            String(this.#seenEventId),
            String(this.#eventCapacity),
            ...events.map(({ event, atMs }) => encodeEvent(event, atMs)),
          ],
        }),
      );
      this.#see(0, Number(lastId));
      return { ok: true, lastId: Number(lastId) };
    } catch (error) {
      return unavailable(error);
    }
  }

  /** The kept events with an id above `sinceId`, oldest first (undecodable ones skipped). */
  async eventsSince(sinceId: number): Promise<EventsResult> {
    let texts: string[];
    try {
      texts = await this.#link.run("read the fleet events", (c) =>
        c.lRange(this.#keys.events, 0, -1),
      );
    } catch (error) {
      return unavailable(error);
    }
    const events: FleetEvent[] = [];
    for (const text of texts) {
      const event = decodeEvent(text);
      if (event === undefined) continue;
      this.#see(0, event.id);
      if (event.id > sinceId) events.push(event);
    }
    events.sort((a, b) => a.id - b.id);
    return { ok: true, events };
  }

  /**
   * Calls `onNewVersion` with each newer document: on the published hint, every poll interval
   * and whenever the link comes back up (hints are lost while disconnected). Returns the stop.
   */
  watch(onNewVersion: (document: FleetDocument) => void): () => void {
    const follower = new StateFollower({
      store: this,
      link: this.#link,
      keys: this.#keys,
      logger: this.#logger,
      clock: this.#clock,
      pollIntervalMs: this.#pollIntervalMs,
      onNewVersion,
    });
    follower.start();
    return () => {
      follower.stop();
    };
  }

  #see(version: number, eventId: number): void {
    // Anything not a count (a key overwritten by hand) is ignored rather than poisoning a floor.
    if (Number.isSafeInteger(version)) this.#seenVersion = Math.max(this.#seenVersion, version);
    if (Number.isSafeInteger(eventId)) this.#seenEventId = Math.max(this.#seenEventId, eventId);
  }

  #know(document: FleetDocument): void {
    // At an equal version, ours stays: other content there means Redis lost data (see seed).
    if (this.#lastKnown === undefined || document.version > this.#lastKnown.version) {
      this.#lastKnown = document;
    }
  }
}

function needsSeed(read: StateRead, ours: FleetDocument): boolean {
  if (read.kind === "empty") return true;
  if (read.kind !== "found") return false;
  if (read.version < ours.version) return true;
  return (
    read.version === ours.version && encodeDocumentBody(read.document) !== encodeDocumentBody(ours)
  );
}

function unavailable(error: unknown): Unavailable {
  const cause = asError(error);
  return {
    ok: false,
    reason: "unavailable",
    error: cause,
    outcomeUnknown: cause instanceof CommandTimeoutError,
  };
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}
