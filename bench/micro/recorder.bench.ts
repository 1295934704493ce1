/**
 * Micro-benchmark of what every proxied request reports once it is done: the recorder as
 * startSwitchyard wires it (metrics and rollout window statistics behind one fan-out), one
 * attempt plus the request, with the system clock.
 */
import { test } from "vitest";
import { Metrics } from "../../src/metrics/metrics.ts";
import { FanOutRecorder } from "../../src/proxy/fan-out-recorder.ts";
import { WindowStats } from "../../src/rollout/window-stats.ts";
import { SYSTEM_CLOCK } from "../../src/time/clock.ts";
import type { Endpoint } from "../../src/upstream/endpoint.ts";

const metrics = new Metrics({ clock: SYSTEM_CLOCK, hasProcessMetrics: false });
const windowStats = new WindowStats({ clock: SYSTEM_CLOCK, longestWindowMs: 600_000 });
const recorder = new FanOutRecorder([metrics, windowStats]);
const endpoints = [
  { url: "http://127.0.0.1:9001" },
  { url: "http://127.0.0.1:9003" },
] as unknown as Endpoint[];
const upstreams = ["stable", "canary"];
const statuses = [200, 200, 200, 200, 304, 404, 200, 503];
let i = 0;

test("recorder per request", async ({ bench }) => {
  await bench.compare(
    bench("attemptFinished + requestFinished (metrics + window stats)", () => {
      i++;
      // 90/10 like the end-to-end bench config.
      const which = i % 10 === 0 ? 1 : 0;
      const upstream = upstreams[which] ?? "stable";
      const status = statuses[i & 7] ?? 200;
      const durationMs = 1 + (i % 37) * 0.25;
      recorder.attemptFinished({
        route: "web",
        upstream,
        endpoint: endpoints[which]!,
        status,
        durationMs,
        isFailure: status >= 500,
      });
      recorder.requestFinished({ route: "web", upstream, status, durationMs });
    }),
    bench("metrics alone: requestFinished", () => {
      i++;
      metrics.requestFinished({
        route: "web",
        upstream: upstreams[i % 10 === 0 ? 1 : 0] ?? "stable",
        status: statuses[i & 7] ?? 200,
        durationMs: 1 + (i % 37) * 0.25,
      });
    }),
    { time: 300 },
  );
});
