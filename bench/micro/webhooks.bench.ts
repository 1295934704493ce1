/**
 * Micro-benchmark of what a rollout decision costs its caller in webhooks: `notify` while the
 * one receiver hangs (it accepts connections and never answers), so the notifier's sockets to
 * it are full and its queue sits at its bound: each call also drops the oldest waiting
 * delivery; next to it, a call that queues nothing. notify only queues; deliveries run on later turns of the event loop. Deadlines
 * never fire here (a clock whose timers do not run), so the state stays the same throughout.
 */
import { once } from "node:events";
import { createServer, type Socket } from "node:net";
import { afterAll, test } from "vitest";
import { createSilentLogger } from "../../src/log/logger.ts";
import { WebhookNotifier, type WebhookPayload } from "../../src/rollout/webhooks.ts";
import { SYSTEM_CLOCK, type Clock } from "../../src/time/clock.ts";

const sockets = new Set<Socket>();
const receiver = createServer((socket) => {
  sockets.add(socket);
});
receiver.listen(0, "127.0.0.1");
await once(receiver, "listening");
const address = receiver.address();
const port = typeof address === "object" && address !== null ? address.port : 0;

const frozenTimers: Clock = { ...SYSTEM_CLOCK, setTimeout: () => ({ cancel: () => undefined }) };
const notifier = new WebhookNotifier({ logger: createSilentLogger(), clock: frozenTimers });
const webhooks = [{ url: `http://127.0.0.1:${String(port)}/hooks`, events: ["held"] as const }];
const payload: WebhookPayload = {
  event: "held",
  route: "web",
  phase: "progressing",
  stepPercent: 10,
  split: { stable: 90, canary: 10 },
  reason: "errorRate 0.02 > 0.01: hold",
  metrics: { requests: 500, failures: 10, errorRate: 0.02 },
  at: "2026-01-01T12:00:00.000Z",
  decisionId: "9f1c2e4a-0000-4000-8000-000000000001",
};

const advanced: WebhookPayload = { ...payload, event: "advanced" };

afterAll(async () => {
  await notifier.close();
  for (const socket of sockets) socket.destroy();
  receiver.close();
});

test("webhooks", async ({ bench }) => {
  await bench.compare(
    bench("notify with the receiver hanging and the queue full", () => {
      notifier.notify(webhooks, payload);
    }),
    bench("notify of an event no webhook subscribes to (the floor)", () => {
      notifier.notify(webhooks, advanced);
    }),
    { time: 300 },
  );
});
