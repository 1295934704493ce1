/**
 * The one way to Redis in fleet mode: a connection for commands and one for pub/sub (a
 * subscribed connection can run nothing else). Nothing waits on a Redis that is away: commands
 * fail at once while disconnected (no offline queue), every command is bounded by a timeout
 * (a frozen Redis keeps the socket open and answers nothing), the connections reconnect by
 * themselves with a capped backoff, and `close()` returns within a bound whatever Redis does.
 * Up and down are events and log lines on transitions only.
 */
import { readFile } from "node:fs/promises";
import { createClient } from "@redis/client";
import type { RedisClientType } from "@redis/client";
import { isTlsRedisUrl, redactRedisUrl } from "../config/redis-url.ts";
import type { Logger } from "../log/logger.ts";
import { SYSTEM_CLOCK } from "../time/clock.ts";
import type { Clock } from "../time/clock.ts";
import { backoffDelayMs, RECONNECT_BACKOFF } from "./backoff.ts";
import type { BackoffPolicy } from "./backoff.ts";
import { LinkStatus } from "./link-status.ts";
import type { LinkTransition } from "./link-status.ts";
import { CommandTimeoutError, withTimeout } from "./with-timeout.ts";

export type RedisCommandClient = RedisClientType;

export type LinkEvent = "up" | "down";

export interface RedisLinkOptions {
  /** `redis[s]://[[user]:password@]host[:port][/db]`; only ever logged redacted. */
  readonly url: string;
  /** A PEM file with the CA of a `rediss://` server (fleet.tls.ca, resolved by the caller). */
  readonly tlsCaFile?: string;
  /** Shown by `CLIENT LIST` (e.g. `switchyard:shop:pod-1`); the pub/sub one ends in `:pubsub`. */
  readonly clientName?: string;
  readonly logger: Logger;
  /** Longest a caller waits for one command (default 2 s). */
  readonly commandTimeoutMs?: number;
  /** Longest a TCP (and TLS) connect may take (default 5 s). */
  readonly connectTimeoutMs?: number;
  /** Longest `close()` waits for a graceful close before cutting the sockets (default 1 s). */
  readonly closeTimeoutMs?: number;
  /** Least time between two log lines about a new reason while down (default 1 min). */
  readonly reasonLogIntervalMs?: number;
  readonly backoff?: BackoffPolicy;
  readonly clock?: Clock;
  /** [0, 1), for the backoff's jitter. */
  readonly random?: () => number;
}

/** The log lines of the link, one per transition. */
export const LINK_LOG = {
  up: "fleet: connected to Redis",
  down: "fleet: lost the connection to Redis; reconnecting",
  notAnswering:
    "fleet: Redis does not answer (frozen or overloaded); treated as away until it does",
  answering: "fleet: Redis answers again",
  unreachable: "fleet: cannot reach Redis; retrying",
  stillDown: "fleet: still cannot reach Redis, for another reason; retrying",
} as const;

const DEFAULT_COMMAND_TIMEOUT_MS = 2000;
const DEFAULT_CONNECT_TIMEOUT_MS = 5000;
const DEFAULT_CLOSE_TIMEOUT_MS = 1000;
const DEFAULT_REASON_LOG_INTERVAL_MS = 60_000;

export class RedisLink {
  readonly #commands: RedisCommandClient;
  readonly #subscriber: RedisCommandClient;
  readonly #logger: Logger;
  readonly #shownUrl: string;
  readonly #clock: Clock;
  readonly #commandTimeoutMs: number;
  readonly #closeTimeoutMs: number;
  readonly #status: LinkStatus;
  readonly #listeners = new Map<LinkEvent, Set<() => void>>();
  #errorCount = 0;
  /** False from a command that timed out until one succeeds: the socket may look fine. */
  #isAnswering = true;
  #closing: Promise<void> | undefined;

  /** Reads the CA file (a missing one is an error now, not a retry loop) and starts connecting. */
  static async open(options: RedisLinkOptions): Promise<RedisLink> {
    const ca =
      options.tlsCaFile === undefined ? undefined : await readFile(options.tlsCaFile, "utf8");
    const link = new RedisLink(options, ca);
    link.#connect();
    return link;
  }

  private constructor(options: RedisLinkOptions, ca: string | undefined) {
    this.#logger = options.logger;
    this.#shownUrl = redactRedisUrl(options.url);
    this.#clock = options.clock ?? SYSTEM_CLOCK;
    this.#commandTimeoutMs = options.commandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS;
    this.#closeTimeoutMs = options.closeTimeoutMs ?? DEFAULT_CLOSE_TIMEOUT_MS;
    this.#status = new LinkStatus(options.reasonLogIntervalMs ?? DEFAULT_REASON_LOG_INTERVAL_MS);
    this.#commands = createClient(clientOptions(options, ca));
    this.#subscriber = this.#commands.duplicate(
      options.clientName === undefined ? {} : { name: `${options.clientName}:pubsub` },
    );
    for (const client of [this.#commands, this.#subscriber]) {
      // node-redis emits "error" on every failed attempt: it must always have a listener.
      client.on("error", (error: unknown) => {
        this.#errorCount += 1;
        this.#observe(error);
      });
      for (const event of ["ready", "reconnecting", "end"]) {
        client.on(event, () => {
          this.#observe(undefined);
        });
      }
    }
  }

  /** Both connections are ready and Redis answers: commands can run, hints arrive. */
  get isConnected(): boolean {
    return this.#status.isUp && this.#isAnswering;
  }

  /** Errors so far: failed connection attempts, dropped connections, failed or timed-out commands. */
  get errorCount(): number {
    return this.#errorCount;
  }

  /** Calls `listener` on each transition to `event`; returns a function that stops it. */
  on(event: LinkEvent, listener: () => void): () => void {
    const listeners = this.#listeners.get(event) ?? new Set();
    this.#listeners.set(event, listeners);
    listeners.add(listener);
    return () => {
      listeners.delete(listener);
    };
  }

  /**
   * Runs `command` on the command connection, bounded by the command timeout. Rejects at once
   * while disconnected, and with a CommandTimeoutError when Redis does not answer in time (a
   * write may still happen then: Redis may run what it already received).
   */
  async run<T>(what: string, command: (client: RedisCommandClient) => Promise<T>): Promise<T> {
    try {
      const result = await withTimeout(
        command(this.#commands),
        this.#commandTimeoutMs,
        what,
        this.#clock,
      );
      this.#answered(true);
      return result;
    } catch (error) {
      this.#errorCount += 1;
      if (error instanceof CommandTimeoutError) this.#answered(false);
      throw error;
    }
  }

  /**
   * Calls `listener` with each message published on `channel`. The subscription is registered
   * at once and renewed by the connection after every reconnect; the promise says whether
   * Redis confirmed it within the command timeout. Messages published while disconnected are
   * lost: pub/sub can only be a hint.
   */
  async subscribe(channel: string, listener: (message: string) => void): Promise<void> {
    try {
      await withTimeout(
        this.#subscriber.subscribe(channel, listener),
        this.#commandTimeoutMs,
        `SUBSCRIBE ${channel}`,
        this.#clock,
      );
    } catch (error) {
      this.#errorCount += 1;
      throw error;
    }
  }

  /**
   * Closes both connections: gracefully when Redis answers, cut after the close timeout when it
   * does not (a frozen Redis never answers). Never rejects; later calls return the same promise.
   */
  close(): Promise<void> {
    this.#closing ??= Promise.all([
      closeWithin(this.#commands, this.#closeTimeoutMs, this.#clock),
      closeWithin(this.#subscriber, this.#closeTimeoutMs, this.#clock),
    ]).then(() => undefined);
    return this.#closing;
  }

  #connect(): void {
    // Each resolves once its connection is first ready, however many attempts that takes; a
    // close() before then rejects it. Failures are reported through the "error" events.
    for (const client of [this.#commands, this.#subscriber]) {
      client.connect().catch(() => undefined);
    }
  }

  #observe(cause: unknown): void {
    if (this.#closing !== undefined) return;
    const isReady = this.#commands.isReady && this.#subscriber.isReady;
    const reason = cause === undefined ? undefined : describeCause(cause);
    const transition = this.#status.observe(isReady, reason, this.#clock.now());
    if (transition !== undefined) this.#report(transition);
  }

  /**
   * A frozen Redis keeps its socket open and answers nothing: the link is down for its users
   * from a command that timed out until one is answered (events and a log line each way).
   */
  #answered(isAnswering: boolean): void {
    if (isAnswering === this.#isAnswering || this.#closing !== undefined) return;
    this.#isAnswering = isAnswering;
    if (!this.#status.isUp) return;
    const redis = this.#shownUrl;
    if (isAnswering) this.#logger.info({ redis }, LINK_LOG.answering);
    else this.#logger.warn({ redis, timeoutMs: this.#commandTimeoutMs }, LINK_LOG.notAnswering);
    this.#emit(isAnswering ? "up" : "down");
  }

  #report(transition: LinkTransition): void {
    const redis = this.#shownUrl;
    switch (transition.kind) {
      case "up":
        // A new connection: whatever did not answer on the old one is behind us.
        this.#isAnswering = true;
        this.#logger.info({ redis, failedAttempts: transition.failuresWhileDown }, LINK_LOG.up);
        this.#emit("up");
        break;
      case "down":
        this.#logger.warn({ redis, reason: transition.reason }, LINK_LOG.down);
        this.#emit("down");
        break;
      case "unreachable":
        this.#logger.warn({ redis, reason: transition.reason }, LINK_LOG.unreachable);
        break;
      case "stillDown":
        this.#logger.warn(
          { redis, reason: transition.reason, failedAttempts: transition.failuresWhileDown },
          LINK_LOG.stillDown,
        );
        break;
    }
  }

  #emit(event: LinkEvent): void {
    for (const listener of this.#listeners.get(event) ?? []) {
      try {
        listener();
      } catch (error) {
        // A listener's bug must not break the connection's own event handling.
        this.#logger.error({ err: error, event }, "fleet: a Redis link listener failed");
      }
    }
  }
}

function clientOptions(options: RedisLinkOptions, ca: string | undefined) {
  const policy = options.backoff ?? RECONNECT_BACKOFF;
  const random = options.random ?? Math.random;
  const socket = {
    connectTimeout: options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
    // Never gives up: a fleet replica keeps serving and keeps trying (SPEC 10).
    reconnectStrategy: (retries: number) => backoffDelayMs(retries, policy, random()),
  };
  return {
    url: options.url,
    socket: isTlsRedisUrl(options.url)
      ? { ...socket, tls: true as const, ...(ca === undefined ? {} : { ca }) }
      : socket,
    ...(options.clientName === undefined ? {} : { name: options.clientName }),
    // Commands sent while disconnected fail at once instead of waiting for a reconnect.
    disableOfflineQueue: true,
    // Redis Enterprise maintenance notices: not for a standalone or managed single Redis.
    maintNotifications: "disabled" as const,
  };
}

/** `client.close()`, or `destroy()` when it fails or has not finished within `boundMs`. */
async function closeWithin(
  client: RedisCommandClient,
  boundMs: number,
  clock: Clock,
): Promise<void> {
  let timer: { cancel(): void } | undefined;
  const late = new Promise<"late">((resolve) => {
    timer = clock.setTimeout(() => {
      resolve("late");
    }, boundMs);
  });
  // close() waits for every reply still due; it throws when the socket is not open.
  const closed = client.close().then(
    () => "closed" as const,
    () => "failed" as const,
  );
  const outcome = await Promise.race([closed, late]);
  timer?.cancel();
  if (outcome !== "closed") client.destroy();
}

/** An error as one line for the log, with any Redis URL in it redacted. */
function describeCause(cause: unknown): string {
  const text = cause instanceof Error ? cause.message : String(cause);
  return redactRedisUrl(text);
}
