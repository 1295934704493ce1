/**
 * The fleet's Redis link against a real redis-server (SPEC 10): it connects, fails fast while
 * Redis is away and says so once, reconnects by itself, bounds every command when Redis is
 * frozen, and closes whatever Redis does. Tests wait for events and count; none times anything.
 */
import { describe, expect, it } from "vitest";
import { CommandTimeoutError } from "../../src/fleet/with-timeout.ts";
import { LINK_LOG, RedisLink, type LinkEvent } from "../../src/fleet/redis-link.ts";
import { captureLogs, type CapturedLogs } from "../support/captured-logs.ts";
import { cleanupAfterEach } from "../support/cleanups.ts";
import { within } from "../support/deadline.ts";
import { waitFor } from "../support/ports.ts";
import {
  startRedisServer,
  TEST_TLS,
  type RedisServer,
  type RedisServerOptions,
} from "../support/redis-server.ts";

const cleanups = cleanupAfterEach();

/** Generous: two cores shared with other suites. */
const EVENT_DEADLINE_MS = 20_000;

interface LinkTestOptions {
  readonly commandTimeoutMs?: number;
  readonly url?: string;
  readonly reasonLogIntervalMs?: number;
  readonly tlsCaFile?: string;
}

interface LinkSetup {
  readonly link: RedisLink;
  readonly logs: CapturedLogs;
}

async function openLink(redis: RedisServer, options: LinkTestOptions = {}): Promise<LinkSetup> {
  const logs = captureLogs("info");
  const link = await RedisLink.open({
    url: options.url ?? redis.url,
    logger: logs.logger,
    clientName: "switchyard:test:r1",
    commandTimeoutMs: options.commandTimeoutMs ?? 2000,
    closeTimeoutMs: 500,
    reasonLogIntervalMs: options.reasonLogIntervalMs ?? 60_000,
    ...(options.tlsCaFile === undefined ? {} : { tlsCaFile: options.tlsCaFile }),
    // Short delays so that a test sees several attempts while Redis is away.
    backoff: { baseMs: 20, maxMs: 200, jitter: 0.2 },
  });
  cleanups.defer(() => link.close());
  return { link, logs };
}

async function startRedis(options: RedisServerOptions = {}): Promise<RedisServer> {
  return cleanups.track(await startRedisServer(options));
}

/** Resolves on the link's next `event`. */
function nextEvent(link: RedisLink, event: LinkEvent): Promise<void> {
  return new Promise((resolve) => {
    const stop = link.on(event, () => {
      stop();
      resolve();
    });
  });
}

async function waitUntilConnected(link: RedisLink): Promise<void> {
  if (link.isConnected) return;
  await within(nextEvent(link, "up"), EVENT_DEADLINE_MS, "the link to come up");
}

/** Proof that the link went on trying: `count` more errors than it had. */
async function waitForMoreErrors(link: RedisLink, count: number): Promise<void> {
  const target = link.errorCount + count;
  await waitFor(() => link.errorCount >= target, {
    timeoutMs: EVENT_DEADLINE_MS,
    description: `${String(count)} more reconnect failures`,
  });
}

function ping(link: RedisLink): Promise<string> {
  return link.run("PING", (client) => client.ping());
}

describe("RedisLink against a real redis-server", () => {
  it("connects both connections, runs commands and carries pub/sub", async () => {
    const redis = await startRedis();
    const { link, logs } = await openLink(redis);
    await waitUntilConnected(link);

    await link.run("SET", (client) => client.set("switchyard:test:key", "v1"));
    expect(await link.run("GET", (client) => client.get("switchyard:test:key"))).toBe("v1");
    const clients = await link.run("CLIENT LIST", (client) => client.clientList());
    expect(clients.map((info) => info.name).sort()).toEqual([
      "switchyard:test:r1",
      "switchyard:test:r1:pubsub",
    ]);

    const received: string[] = [];
    await link.subscribe("switchyard:test:hints", (message) => received.push(message));
    await link.run("PUBLISH", (client) => client.publish("switchyard:test:hints", "version 7"));
    await waitFor(() => received.length > 0, { timeoutMs: EVENT_DEADLINE_MS });
    expect(received).toEqual(["version 7"]);
    expect(logs.withMessage(LINK_LOG.up)).toHaveLength(1);
  });

  it("fails fast once Redis is killed, says so once, and reconnects by itself", async () => {
    const redis = await startRedis();
    // A command timeout far above the deadline below: a rejection in time is not a timeout.
    const { link, logs } = await openLink(redis, { commandTimeoutMs: 60_000 });
    await waitUntilConnected(link);
    const received: string[] = [];
    await link.subscribe("switchyard:test:hints", (message) => received.push(message));

    const down = nextEvent(link, "down");
    await redis.kill();
    await within(down, EVENT_DEADLINE_MS, "the down event");
    expect(link.isConnected).toBe(false);
    const failed = await within(
      ping(link).then(
        () => undefined,
        (error: unknown) => error,
      ),
      EVENT_DEADLINE_MS,
      "a command while Redis is down",
    );
    expect(failed).toBeInstanceOf(Error);
    expect(failed).not.toBeInstanceOf(CommandTimeoutError);

    await waitForMoreErrors(link, 3);
    expect(logs.withMessage(LINK_LOG.down)).toHaveLength(1);
    expect(logs.withMessage(LINK_LOG.unreachable)).toHaveLength(0);

    const up = nextEvent(link, "up");
    await redis.restart();
    await within(up, EVENT_DEADLINE_MS, "the up event after a restart");
    expect(link.isConnected).toBe(true);
    expect(await ping(link)).toBe("PONG");
    const reconnected = logs.withMessage(LINK_LOG.up);
    expect(reconnected).toHaveLength(2);
    expect(reconnected[1]?.failedAttempts).toBeGreaterThan(0);

    // The subscription was renewed on the new connection.
    await waitFor(
      async () => {
        await link.run("PUBLISH", (client) => client.publish("switchyard:test:hints", "again"));
        return received.includes("again");
      },
      { timeoutMs: EVENT_DEADLINE_MS, intervalMs: 100 },
    );
  });

  it("starts while Redis is down: one warning, then connects when it comes", async () => {
    const redis = await startRedis();
    await redis.kill();
    const { link, logs } = await openLink(redis);
    await waitForMoreErrors(link, 3);
    expect(link.isConnected).toBe(false);
    await expect(ping(link)).rejects.toThrow();
    expect(logs.withMessage(LINK_LOG.unreachable)).toHaveLength(1);
    expect(logs.withMessage(LINK_LOG.down)).toHaveLength(0);

    const up = nextEvent(link, "up");
    await redis.restart();
    await within(up, EVENT_DEADLINE_MS, "the first up event");
    expect(await ping(link)).toBe("PONG");
    expect(logs.withMessage(LINK_LOG.up)).toHaveLength(1);
  });

  it("bounds a command on a frozen Redis, and answers again after thaw", async () => {
    const redis = await startRedis();
    const { link } = await openLink(redis, { commandTimeoutMs: 500 });
    await waitUntilConnected(link);

    redis.freeze();
    const down = nextEvent(link, "down");
    await expect(ping(link)).rejects.toBeInstanceOf(CommandTimeoutError);
    // The socket is still open, but a Redis that does not answer is away for the fleet.
    await within(down, EVENT_DEADLINE_MS, "the down event of a Redis that does not answer");
    expect(link.isConnected).toBe(false);
    redis.thaw();
    const up = nextEvent(link, "up");
    await waitFor(async () => (await ping(link)) === "PONG", {
      timeoutMs: EVENT_DEADLINE_MS,
      description: "PONG after thaw",
    });
    await within(up, EVENT_DEADLINE_MS, "the up event once Redis answers");
    expect(link.isConnected).toBe(true);
  });

  it("closes while Redis is frozen with a command in flight", async () => {
    const redis = await startRedis();
    const { link } = await openLink(redis, { commandTimeoutMs: 60_000 });
    await waitUntilConnected(link);

    redis.freeze();
    const inFlight = ping(link).then(
      () => undefined,
      (error: unknown) => error,
    );
    await within(link.close(), EVENT_DEADLINE_MS, "close() on a frozen Redis");
    const failed = await within(inFlight, EVENT_DEADLINE_MS, "the command cut by close()");
    expect(failed).toBeInstanceOf(Error);
    expect(failed).not.toBeInstanceOf(CommandTimeoutError);
  });

  it("authenticates with the URL's password, never logs it, and logs a refused one", async () => {
    const password = "s3cret-fleet-pass";
    const redis = await startRedis({ password });
    const { link, logs } = await openLink(redis);
    await waitUntilConnected(link);
    expect(await ping(link)).toBe("PONG");
    const down = nextEvent(link, "down");
    await redis.kill();
    await within(down, EVENT_DEADLINE_MS, "the down event");

    // Refused while Redis is down, then refused for the password: a line for each reason.
    const wrong = await openLink(redis, {
      url: redis.url.replace(password, "wrong-pass"),
      reasonLogIntervalMs: 0,
    });
    await waitForMoreErrors(wrong.link, 1);
    await redis.restart();
    await waitFor(() => wrong.logs.withMessage(LINK_LOG.stillDown).length > 0, {
      timeoutMs: EVENT_DEADLINE_MS,
      description: "a line with the new reason",
    });
    await waitForMoreErrors(wrong.link, 3);
    expect(wrong.link.isConnected).toBe(false);
    expect(wrong.logs.withMessage(LINK_LOG.unreachable)).toHaveLength(1);
    const reasons = wrong.logs.withMessage(LINK_LOG.stillDown).map((line) => line.reason);
    expect(reasons).toContainEqual(expect.stringMatching(/WRONGPASS/));

    const logged = JSON.stringify([...logs.entries, ...wrong.logs.entries]);
    expect(logged).toContain(":***@127.0.0.1");
    expect(logged).not.toContain(password);
    expect(logged).not.toContain("wrong-pass");
  });
});

describe("RedisLink over TLS (rediss://)", () => {
  it("connects to a server signed by the private CA of fleet.tls.ca", async () => {
    const redis = await startRedis({ tls: TEST_TLS });
    expect(redis.url.startsWith("rediss://")).toBe(true);
    const { link } = await openLink(redis, { tlsCaFile: TEST_TLS.caFile });
    await waitUntilConnected(link);
    expect(await ping(link)).toBe("PONG");
  });

  it("does not trust that server without the CA, and says why once", async () => {
    const redis = await startRedis({ tls: TEST_TLS });
    const { link, logs } = await openLink(redis);
    await waitForMoreErrors(link, 3);
    expect(link.isConnected).toBe(false);
    const lines = logs.withMessage(LINK_LOG.unreachable);
    expect(lines).toHaveLength(1);
    expect(lines[0]?.reason).toMatch(/certificate/i);
  });

  it("refuses to open with a CA file it cannot read", async () => {
    const opening = RedisLink.open({
      url: "rediss://127.0.0.1:1/0",
      tlsCaFile: "/nonexistent/redis-ca.pem",
      logger: captureLogs().logger,
    });
    await expect(opening).rejects.toThrow(/ENOENT/);
  });
});

describe("startRedisServer", () => {
  it("fails, with the line to run, where redis-server is not installed", async () => {
    const path = process.env.PATH;
    process.env.PATH = "/nonexistent";
    cleanups.defer(() => {
      process.env.PATH = path;
    });
    await expect(startRedisServer()).rejects.toMatchObject({
      message: "redis-server is not installed: run apt-get install -y redis-server",
    });
  });
});
