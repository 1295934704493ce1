/**
 * Connection floods (SPEC 8): over `server.maxConnections`, new client connections to the
 * proxy listener are closed at once without a byte, counted and logged; the connections
 * already open are still served, the admin listener answers probes and scrapes meanwhile
 * (it has its own budget, refused the same way when flooded), the limit follows a reload,
 * and service resumes once connections close.
 */
import { afterEach, describe, expect, it } from "vitest";
import { cleanupAfterEach } from "../../support/cleanups.ts";
import { ADMIN_MAX_CONNECTIONS } from "../../../src/admin/admin-server.ts";
import { createCapturedLogger } from "../../support/captured-logger.ts";
import { startEchoBackend, type EchoBackend } from "../../support/echo-backend.ts";
import {
  configText,
  startFileSwitchyard,
  writeConfigInPlace,
  type FileSwitchyard,
} from "../../support/file-switchyard.ts";
import { closeDefaultAgent, get } from "../../support/http-client.ts";
import { waitFor } from "../../support/ports.ts";
import { parsePrometheusText, sampleValue } from "../../support/prometheus-text.ts";
import { connectRaw, sendRaw, type RawConnection } from "../../support/raw-client.ts";
import type { LogLine } from "../../support/switchyard-process.ts";

const LIMIT = 200;
const FLOOD = 300;
/** Connections opened at once: enough to be a flood, few enough for the accept backlog. */
const BATCH = 50;
const DEADLINE_MS = 10_000;
const REFUSED_LOG =
  "connections refused: the listener already holds its maximum of open connections";

const { track, defer } = cleanupAfterEach();
afterEach(async () => {
  await closeDefaultAgent();
});

async function startBackend(): Promise<EchoBackend> {
  return track(await startEchoBackend({ name: "stable" }));
}

function limitConfig(backend: EchoBackend, maxConnections?: number): Record<string, unknown> {
  return {
    upstreams: { stable: { endpoints: [backend.url] } },
    routes: [{ name: "web", split: { stable: 100 } }],
    // Idle connections must outlast the test: headersTimeout would close them with a 408.
    server: { headersTimeout: "60s", ...(maxConnections === undefined ? {} : { maxConnections }) },
  };
}

async function startLimited(config: Record<string, unknown>): Promise<{
  switchyard: FileSwitchyard;
  logs: LogLine[];
}> {
  const { logger, lines } = createCapturedLogger();
  const switchyard = track(await startFileSwitchyard(config, { logger, isWatchingConfig: false }));
  return { switchyard, logs: lines };
}

/** Opens `count` connections that send nothing, BATCH at a time; all are closed at cleanup. */
async function openIdle(port: number, count: number): Promise<RawConnection[]> {
  const opened: RawConnection[] = [];
  defer(() => {
    for (const connection of opened) connection.destroy();
  });
  while (opened.length < count) {
    const size = Math.min(BATCH, count - opened.length);
    const batch = await Promise.all(Array.from({ length: size }, () => connectRaw(port)));
    opened.push(...batch);
  }
  return opened;
}

/** Closed by the server without a byte: how a refused connection looks to its client. */
function isRefused(connection: RawConnection): boolean {
  return connection.isClosed && connection.data === "";
}

function countRefused(connections: readonly RawConnection[]): number {
  return connections.filter(isRefused).length;
}

/** Waits until exactly `expected` of `connections` have been refused. */
async function waitRefused(connections: readonly RawConnection[], expected: number): Promise<void> {
  await waitFor(() => countRefused(connections) === expected, {
    timeoutMs: DEADLINE_MS,
    description: `${expected} refused connections (now ${countRefused(connections)})`,
  });
}

interface ConnectionMetrics {
  readonly open: number | undefined;
  readonly refused: number | undefined;
}

async function connectionMetrics(adminUrl: string): Promise<ConnectionMetrics> {
  const answer = await get(`${adminUrl}/metrics`);
  expect(answer.status).toBe(200);
  const families = parsePrometheusText(answer.body);
  return {
    open: sampleValue(families, "switchyard_connections_open", {}),
    refused: sampleValue(families, "switchyard_connections_refused_total", {}),
  };
}

/** How many refusals the warn lines of `listener` add up to. */
function loggedRefusals(logs: readonly LogLine[], listener: string): number {
  return refusalLines(logs, listener).reduce((sum, line) => sum + Number(line["refused"]), 0);
}

function refusalLines(logs: readonly LogLine[], listener: string): LogLine[] {
  return logs.filter((line) => line.msg === REFUSED_LOG && line["listener"] === listener);
}

/** One GET on a new connection, answered and closed. */
async function servedOnNewConnection(port: number, path: string): Promise<number | undefined> {
  const request = `GET ${path} HTTP/1.1\r\nHost: app.test\r\nConnection: close\r\n\r\n`;
  const answer = await sendRaw(port, request, { timeoutMs: DEADLINE_MS });
  return answer.statusCode;
}

describe("server.maxConnections", () => {
  it("refuses a flood over the limit, keeps serving the open connections and the probes, and serves again once they close", async () => {
    const backend = await startBackend();
    const { switchyard, logs } = await startLimited(limitConfig(backend, LIMIT));
    const { proxyPort, adminUrl } = switchyard;

    const flood = await openIdle(proxyPort, FLOOD);
    await waitRefused(flood, FLOOD - LIMIT);

    // The probes and the scrape get in while the proxy listener is full.
    expect((await get(`${adminUrl}/healthz`)).status).toBe(200);
    expect((await get(`${adminUrl}/readyz`)).status).toBe(200);
    expect(await connectionMetrics(adminUrl)).toEqual({ open: LIMIT, refused: FLOOD - LIMIT });
    await waitFor(() => loggedRefusals(logs, "proxy") === FLOOD - LIMIT, {
      timeoutMs: DEADLINE_MS,
      description: "every refusal logged",
    });
    const lines = refusalLines(logs, "proxy");
    expect(lines.length).toBeLessThan(FLOOD - LIMIT);
    expect(lines.every((line) => line.level === "warn" && line["maxConnections"] === LIMIT)).toBe(
      true,
    );
    // The limit held: nothing else was closed meanwhile.
    expect(flood.filter((connection) => connection.isClosed)).toHaveLength(FLOOD - LIMIT);

    // A connection the proxy kept is served.
    const kept = flood.find((connection) => !connection.isClosed);
    await kept?.write("GET /kept HTTP/1.1\r\nHost: app.test\r\nConnection: close\r\n\r\n");
    expect(await kept?.waitClosed(DEADLINE_MS)).toBe(true);
    expect(kept?.data).toMatch(/^HTTP\/1\.1 200 /);
    expect(backend.received.map((request) => request.url)).toEqual(["/kept"]);

    for (const connection of flood) connection.destroy();
    await waitFor(async () => (await connectionMetrics(adminUrl)).open === 0, {
      timeoutMs: DEADLINE_MS,
      description: "no connection open on the proxy listener",
    });
    expect(await servedOnNewConnection(proxyPort, "/after")).toBe(200);
    expect((await connectionMetrics(adminUrl)).refused).toBe(FLOOD - LIMIT);
  });

  it("follows a reload at once, keeping the connections already open over a lowered limit", async () => {
    const backend = await startBackend();
    const { switchyard } = await startLimited(limitConfig(backend, 20));
    const { proxyPort, adminUrl, configFile, control } = switchyard;
    const reloadWith = async (maxConnections: number): Promise<void> => {
      await writeConfigInPlace(configFile, configText(limitConfig(backend, maxConnections)));
      expect((await control.reload("test")).applied).toBe(true);
    };

    const first = await openIdle(proxyPort, 25);
    await waitRefused(first, 5);
    await reloadWith(30);
    const second = await openIdle(proxyPort, 10);
    // Accepted first: the proxy port's sockets each keep their own accept queue, so a later
    // connection may be accepted before an earlier one on another socket.
    await waitFor(async () => (await connectionMetrics(adminUrl)).open === 30, {
      timeoutMs: DEADLINE_MS,
      description: "30 connections open",
    });
    const extra = await openIdle(proxyPort, 1);
    await waitRefused(extra, 1);
    expect(countRefused(second)).toBe(0);
    expect(await connectionMetrics(adminUrl)).toEqual({ open: 30, refused: 6 });

    await reloadWith(10);
    const overLowered = await openIdle(proxyPort, 1);
    await waitRefused(overLowered, 1);
    expect(await connectionMetrics(adminUrl)).toEqual({ open: 30, refused: 7 });

    // Below the lowered limit again, new connections are served.
    const open = [...first, ...second].filter((connection) => !connection.isClosed);
    expect(open).toHaveLength(30);
    for (const connection of open.slice(0, 25)) connection.destroy();
    await waitFor(async () => (await connectionMetrics(adminUrl)).open === 5, {
      timeoutMs: DEADLINE_MS,
      description: "5 connections left open",
    });
    expect(await servedOnNewConnection(proxyPort, "/after-reload")).toBe(200);
  });

  it("counts an upgraded connection for as long as its tunnel is open", async () => {
    const backend = await startBackend();
    const { switchyard } = await startLimited(limitConfig(backend, 3));
    const { proxyPort, adminUrl } = switchyard;

    const tunnel = await connectRaw(proxyPort);
    defer(() => {
      tunnel.destroy();
    });
    await tunnel.write(
      "GET /tunnel HTTP/1.1\r\nHost: app.test\r\nConnection: Upgrade\r\nUpgrade: echo-protocol/1\r\n\r\n",
    );
    const head = await tunnel.waitForData("\r\n\r\n", DEADLINE_MS);
    expect(head).toMatch(/^HTTP\/1\.1 101 /);
    const idle = await openIdle(proxyPort, 3);
    await waitRefused(idle, 1);
    expect(await connectionMetrics(adminUrl)).toEqual({ open: 3, refused: 1 });
    await tunnel.write("still tunnelled");
    await tunnel.waitForData("still tunnelled", DEADLINE_MS);

    tunnel.destroy();
    await waitFor(async () => (await connectionMetrics(adminUrl)).open === 2, {
      timeoutMs: DEADLINE_MS,
      description: "the tunnel's connection closed",
    });
    expect(await servedOnNewConnection(proxyPort, "/after-tunnel")).toBe(200);
  });

  it("gives the admin listener its own budget, refused and logged the same way, apart from the proxy's", async () => {
    const backend = await startBackend();
    const { switchyard, logs } = await startLimited(limitConfig(backend));
    const { proxyPort, adminPort, adminUrl } = switchyard;
    const over = 20;

    const flood = await openIdle(adminPort, ADMIN_MAX_CONNECTIONS + over);
    await waitRefused(flood, over);
    // The proxy listener is not touched by a flood on the admin port.
    expect(await servedOnNewConnection(proxyPort, "/during-admin-flood")).toBe(200);
    await waitFor(() => loggedRefusals(logs, "admin") === over, {
      timeoutMs: DEADLINE_MS,
      description: "the admin refusals logged",
    });
    expect(
      refusalLines(logs, "admin").every((line) => line["maxConnections"] === ADMIN_MAX_CONNECTIONS),
    ).toBe(true);

    for (const connection of flood) connection.destroy();
    await waitFor(async () => (await get(`${adminUrl}/healthz`)).status === 200, {
      timeoutMs: DEADLINE_MS,
      description: "the admin listener answering again",
    });
    // The proxy's metrics are the proxy listener's alone.
    await waitFor(async () => (await connectionMetrics(adminUrl)).open === 0, {
      timeoutMs: DEADLINE_MS,
      description: "no connection open on the proxy listener",
    });
    expect((await connectionMetrics(adminUrl)).refused).toBe(0);
  });
});
