/**
 * WebhookNotifier against real HTTP receivers on 127.0.0.1. Deadline and retry timers run on a
 * manual clock wherever the test needs to know exactly when an attempt may start: what is
 * asserted is what happened and in which order, counted, never how long it took.
 */
import {
  createServer,
  type IncomingHttpHeaders,
  type Server,
  type ServerResponse,
} from "node:http";
import type { Socket } from "node:net";
import { describe, expect, it } from "vitest";
import { cleanupAfterEach } from "../../support/cleanups.ts";
import {
  WebhookNotifier,
  type WebhookNotifierOptions,
  type WebhookPayload,
  type WebhookTarget,
} from "../../../src/rollout/webhooks.ts";
import { captureLogs, LOG_LEVEL } from "../../support/captured-logs.ts";
import { ManualClock } from "../../support/manual-clock.ts";
import { closeServer, listenOnFreePort, originOf, waitFor } from "../../support/ports.ts";

/** What the receiver does with the n-th request (0-based): answer a status, or never answer. */
type Behaviour = (index: number) => number | "hang" | { status: number; headers: object };

interface Arrival {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

interface Receiver {
  readonly url: string;
  readonly arrivals: Arrival[];
  /** TCP connections accepted so far, and open now. */
  readonly connections: { accepted: number; open: number };
  close(): Promise<void>;
}

const { track } = cleanupAfterEach();

async function startReceiver(behaviour: Behaviour, responseBody = "ok"): Promise<Receiver> {
  const arrivals: Arrival[] = [];
  const connections = { accepted: 0, open: 0 };
  const sockets = new Set<Socket>();
  const server: Server = createServer((req, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const index = arrivals.length;
      arrivals.push({
        method: req.method ?? "",
        url: req.url ?? "",
        headers: req.headers,
        body: Buffer.concat(chunks).toString(),
      });
      const answer = behaviour(index);
      if (answer === "hang") return;
      const { status, headers } =
        typeof answer === "number" ? { status: answer, headers: {} } : answer;
      res.writeHead(status, { "content-type": "text/plain", ...headers });
      res.end(responseBody);
    });
  });
  server.on("connection", (socket: Socket) => {
    connections.accepted++;
    connections.open++;
    sockets.add(socket);
    socket.once("close", () => {
      connections.open--;
      sockets.delete(socket);
    });
  });
  const port = await listenOnFreePort(server);
  const receiver: Receiver = {
    url: `${originOf(port)}/hooks/deploys`,
    arrivals,
    connections,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await closeServer(server);
    },
  };
  return track(receiver);
}

function notifierWith(options: Partial<WebhookNotifierOptions> = {}) {
  const logs = captureLogs("debug");
  const warnings = () => logs.atLevel(LOG_LEVEL.warn);
  const notifier = new WebhookNotifier({ logger: logs.logger, random: () => 0, ...options });
  return { notifier: track(notifier), warnings };
}

function payload(overrides: Partial<WebhookPayload> = {}): WebhookPayload {
  return {
    event: "advanced",
    route: "web",
    phase: "progressing",
    stepPercent: 25,
    split: { stable: 75, canary: 25 },
    reason: "every check passed: errorRate 0.001 <= 0.01",
    metrics: { requests: 1200, failures: 1, errorRate: 0.000_833, latencyP95: 41.5 },
    at: "2026-01-01T12:00:00.000Z",
    decisionId: "d-1",
    ...overrides,
  };
}

const ALL_EVENTS: WebhookTarget["events"] = [
  "advanced",
  "held",
  "paused",
  "rolledBack",
  "promoted",
];

function routeOf(body: string): unknown {
  return (JSON.parse(body) as { route?: unknown }).route;
}

function hook(url: string, events: WebhookTarget["events"] = ALL_EVENTS): WebhookTarget {
  return { url, events };
}

describe("WebhookNotifier deliveries", () => {
  it("POSTs the payload as JSON with the content type and user agent", async () => {
    const receiver = await startReceiver(() => 200);
    const { notifier } = notifierWith();
    const withCredentials = receiver.url.replace("http://", "http://deploy:s3cret@") + "?team=a";

    notifier.notify([hook(withCredentials)], payload());

    await waitFor(() => notifier.stats().delivered === 1, { description: "delivered" });
    expect(receiver.arrivals).toHaveLength(1);
    const [arrival] = receiver.arrivals;
    expect(arrival?.method).toBe("POST");
    expect(arrival?.url).toBe("/hooks/deploys?team=a");
    expect(arrival?.headers["content-type"]).toBe("application/json");
    expect(arrival?.headers["user-agent"]).toBe("switchyard");
    expect(arrival?.headers.authorization).toBe(
      `Basic ${Buffer.from("deploy:s3cret").toString("base64")}`,
    );
    expect(Number(arrival?.headers["content-length"])).toBe(Buffer.byteLength(arrival?.body ?? ""));
    expect(JSON.parse(arrival?.body ?? "")).toEqual({
      event: "advanced",
      route: "web",
      phase: "progressing",
      stepPercent: 25,
      split: { stable: 75, canary: 25 },
      reason: "every check passed: errorRate 0.001 <= 0.01",
      metrics: { requests: 1200, failures: 1, errorRate: 0.000_833, latencyP95: 41.5 },
      at: "2026-01-01T12:00:00.000Z",
      decisionId: "d-1",
    });
    expect(notifier.stats()).toMatchObject({ pending: 0, inFlight: 0, failed: 0 });
  });

  it("sends each event only to the webhooks subscribed to it", async () => {
    const receiver = await startReceiver(() => 200);
    const { notifier } = notifierWith();
    const webhooks = [
      hook(`${receiver.url}/progress`, ["advanced", "promoted"]),
      hook(`${receiver.url}/alarms`, ["rolledBack"]),
    ];

    notifier.notify(webhooks, payload({ event: "held" }));
    notifier.notify(webhooks, payload({ event: "advanced" }));
    notifier.notify(webhooks, payload({ event: "paused" }));
    notifier.notify(webhooks, payload({ event: "rolledBack", phase: "rolledBack" }));
    notifier.notify(webhooks, payload({ event: "promoted", phase: "promoted" }));

    await waitFor(() => notifier.stats().delivered === 3 && notifier.stats().pending === 0);
    const seen = receiver.arrivals
      .map((arrival) => `${arrival.url} ${(JSON.parse(arrival.body) as WebhookPayload).event}`)
      .sort();
    expect(seen).toEqual([
      "/hooks/deploys/alarms rolledBack",
      "/hooks/deploys/progress advanced",
      "/hooks/deploys/progress promoted",
    ]);
  });

  it("keeps connections alive between deliveries: answers are read to the end", async () => {
    const receiver = await startReceiver(() => 200, "x".repeat(200_000));
    const { notifier } = notifierWith();
    for (let i = 1; i <= 3; i++) {
      notifier.notify([hook(receiver.url)], payload({ reason: `decision ${i}` }));
      await waitFor(() => notifier.stats().delivered === i);
    }
    expect(receiver.arrivals).toHaveLength(3);
    expect(receiver.connections.accepted).toBe(1);
  });
});

describe("WebhookNotifier retries", () => {
  it("retries a 500 after the backoff and delivers once", async () => {
    const receiver = await startReceiver((index) => (index === 0 ? 500 : 200));
    const clock = new ManualClock();
    const { notifier, warnings } = notifierWith({ clock, baseBackoffMs: 400 });

    notifier.notify([hook(receiver.url)], payload());
    await waitFor(() => receiver.arrivals.length === 1 && notifier.stats().inFlight === 0);
    expect(notifier.stats().pending).toBe(1);
    // The retry waits on a timer: the one timer the notifier holds now.
    expect(clock.pendingCount).toBe(1);

    // random() = 0: the first retry waits half the base, 200 ms, and not a moment less.
    clock.advance(199);
    expect(notifier.stats().inFlight).toBe(0);
    clock.advance(1);
    expect(notifier.stats().inFlight).toBe(1);

    await waitFor(() => notifier.stats().delivered === 1);
    expect(receiver.arrivals).toHaveLength(2);
    expect(receiver.arrivals[1]?.body).toBe(receiver.arrivals[0]?.body);
    expect(notifier.stats()).toMatchObject({ pending: 0, attempts: 2, failed: 0 });
    expect(warnings()).toEqual([]);
  });

  it("does not retry a 400, and logs the failure once", async () => {
    const receiver = await startReceiver(() => 400);
    const clock = new ManualClock();
    const { notifier, warnings } = notifierWith({ clock });

    notifier.notify([hook(receiver.url)], payload({ event: "held" }));

    await waitFor(() => notifier.stats().failed === 1);
    // No retry is scheduled: a retry would be a timer on the clock (as in the 500 case).
    expect(clock.pendingCount).toBe(0);
    expect(receiver.arrivals).toHaveLength(1);
    expect(notifier.stats()).toMatchObject({ pending: 0, attempts: 1, delivered: 0, failed: 1 });
    await waitFor(() => warnings().length === 1);
    expect(warnings()[0]).toMatchObject({
      msg: "webhook delivery failed",
      url: receiver.url,
      event: "held",
      attempts: 1,
      lastError: "status 400",
    });
  });

  it("waits as long as a 429's Retry-After asks", async () => {
    const receiver = await startReceiver((index) =>
      index === 0 ? { status: 429, headers: { "retry-after": "3" } } : 204,
    );
    const clock = new ManualClock();
    const { notifier } = notifierWith({ clock });

    notifier.notify([hook(receiver.url)], payload());
    await waitFor(() => receiver.arrivals.length === 1 && notifier.stats().inFlight === 0);
    clock.advance(2999);
    expect(notifier.stats().inFlight).toBe(0);
    clock.advance(1);
    expect(notifier.stats().inFlight).toBe(1);
    await waitFor(() => notifier.stats().delivered === 1);
  });

  it("gives up after maxAttempts, logging the last error with the secrets masked", async () => {
    const receiver = await startReceiver(() => 503);
    const clock = new ManualClock();
    const { notifier, warnings } = notifierWith({ clock, maxAttempts: 3, baseBackoffMs: 100 });
    const secretUrl = receiver.url.replace("http://", "http://bot:hunter2@") + "?sig=abc123";

    notifier.notify([hook(secretUrl)], payload({ event: "rolledBack", phase: "rolledBack" }));
    for (let attempt = 1; attempt <= 3; attempt++) {
      await waitFor(() => receiver.arrivals.length === attempt && notifier.stats().inFlight === 0);
      clock.advance(1000);
    }

    await waitFor(() => notifier.stats().failed === 1 && warnings().length === 1);
    expect(receiver.arrivals).toHaveLength(3);
    const warning = warnings()[0];
    expect(warning).toMatchObject({ attempts: 3, lastError: "status 503", event: "rolledBack" });
    expect(warning?.url).toBe(receiver.url.replace("http://", "http://***@") + "?***");
    expect(JSON.stringify(warning)).not.toMatch(/hunter2|abc123/);
  });

  it("times out a receiver that never answers and retries it with backoff", async () => {
    const receiver = await startReceiver(() => "hang");
    const clock = new ManualClock();
    const { notifier, warnings } = notifierWith({
      clock,
      timeoutMs: 200,
      baseBackoffMs: 100,
      maxAttempts: 3,
    });

    notifier.notify([hook(receiver.url)], payload());
    // Each attempt: a 200 ms deadline, then a backoff of 50 ms, then 100 ms (random() = 0).
    for (const backoffMs of [50, 100]) {
      const attempts = receiver.arrivals.length + 1;
      await waitFor(() => receiver.arrivals.length === attempts);
      clock.advance(199);
      expect(notifier.stats().inFlight).toBe(1);
      clock.advance(1);
      await waitFor(() => notifier.stats().inFlight === 0, { description: "the attempt aborted" });
      clock.advance(backoffMs - 1);
      expect(notifier.stats().inFlight).toBe(0);
      clock.advance(1);
      expect(notifier.stats().inFlight).toBe(1);
    }
    await waitFor(() => receiver.arrivals.length === 3);
    clock.advance(200);

    await waitFor(() => notifier.stats().failed === 1);
    expect(receiver.arrivals).toHaveLength(3);
    expect(notifier.stats()).toMatchObject({ pending: 0, attempts: 3, delivered: 0 });
    expect(warnings()[0]).toMatchObject({ attempts: 3, lastError: "timed out after 200 ms" });
    // Timed-out attempts do not leave their sockets behind.
    await waitFor(() => receiver.connections.open === 0);
  });
});

describe("WebhookNotifier bounds", () => {
  it("only queues in notify, and keeps four in flight while a receiver hangs", async () => {
    const receiver = await startReceiver(() => "hang");
    const { notifier } = notifierWith({ clock: new ManualClock() });
    const webhooks = [hook(receiver.url)];
    notifier.notify(webhooks, payload());
    await waitFor(() => receiver.arrivals.length === 1);

    for (let i = 0; i < 200; i++) {
      notifier.notify(webhooks, payload({ reason: `decision ${String(i)}` }));
    }
    // Nothing started in the caller's turn: notify does no I/O, it only queues.
    expect(notifier.stats()).toMatchObject({ pending: 201, inFlight: 1, attempts: 1 });

    await waitFor(() => receiver.arrivals.length === 4);
    // The deliveries start together on a later turn; counted as they start, the fifth would be
    // here already if the limit did not hold it back.
    expect(notifier.stats()).toMatchObject({ pending: 201, inFlight: 4, attempts: 4 });
    expect(receiver.connections.open).toBe(4);
  });

  it("keeps at most maxQueue pending, dropping the oldest waiting delivery", async () => {
    const receiver = await startReceiver(() => "hang");
    const { notifier, warnings } = notifierWith({
      clock: new ManualClock(),
      maxQueue: 5,
      maxConcurrentPerReceiver: 1,
    });

    for (let i = 1; i <= 10; i++)
      notifier.notify([hook(receiver.url)], payload({ reason: `#${i}` }));

    expect(notifier.stats()).toMatchObject({ pending: 5, dropped: 5 });
    await waitFor(() => receiver.arrivals.length === 1);
    expect((JSON.parse(receiver.arrivals[0]?.body ?? "") as WebhookPayload).reason).toBe("#6");
    await waitFor(() => warnings().length === 5);
    expect(warnings().every((w) => w.msg.includes("queue full"))).toBe(true);
  });

  it("drops the newcomer when every pending delivery is in flight", async () => {
    const receiver = await startReceiver(() => "hang");
    const { notifier } = notifierWith({ clock: new ManualClock(), maxQueue: 1 });

    notifier.notify([hook(receiver.url)], payload({ reason: "first" }));
    await waitFor(() => receiver.arrivals.length === 1);
    notifier.notify([hook(receiver.url)], payload({ reason: "second" }));

    expect(notifier.stats()).toMatchObject({ pending: 1, inFlight: 1, dropped: 1 });
  });

  it("never throws from notify, whatever it is given", async () => {
    const { notifier, warnings } = notifierWith();
    const unserialisable = payload({ metrics: { requests: 10n } });

    expect(() => {
      notifier.notify([hook("not a url")], payload());
      notifier.notify([hook("http://127.0.0.1:9/x")], unserialisable);
    }).not.toThrow();
    await waitFor(() => warnings().length === 2);
    expect(notifier.stats().pending).toBe(0);
  });
});

describe("WebhookNotifier close", () => {
  it("cancels pending retries: nothing is sent after close", async () => {
    const receiver = await startReceiver(() => 500);
    const clock = new ManualClock();
    const { notifier } = notifierWith({ clock });

    notifier.notify([hook(receiver.url)], payload());
    await waitFor(() => receiver.arrivals.length === 1 && notifier.stats().inFlight === 0);
    expect(clock.pendingCount).toBe(1);
    await notifier.close();
    // The retry's timer is gone, and a notify after close queues nothing.
    expect(clock.pendingCount).toBe(0);
    // Deliveries start on a later turn: an open notifier, told at the same moment, is the
    // control that shows that turn has come and gone.
    const open = notifierWith({ clock: new ManualClock() }).notifier;
    notifier.notify([hook(receiver.url)], payload());
    open.notify([hook(receiver.url)], payload({ route: "control" }));
    expect(notifier.stats()).toMatchObject({ pending: 0, attempts: 1 });
    await waitFor(() => open.stats().attempts === 1 && open.stats().inFlight === 0, {
      description: "the open notifier's delivery",
    });
    expect(notifier.stats().attempts).toBe(1);
    expect(receiver.arrivals.map((arrival) => routeOf(arrival.body))).toEqual(["web", "control"]);
  });

  it("aborts requests in flight and closes their sockets", async () => {
    const receiver = await startReceiver(() => "hang");
    const { notifier, warnings } = notifierWith({ clock: new ManualClock() });

    notifier.notify([hook(receiver.url)], payload());
    await waitFor(() => receiver.arrivals.length === 1);
    await notifier.close();

    await waitFor(() => receiver.connections.open === 0);
    expect(notifier.stats()).toMatchObject({ pending: 0, inFlight: 0, failed: 0 });
    expect(warnings()).toEqual([]);
  });
});
