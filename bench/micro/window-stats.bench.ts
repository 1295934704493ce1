/**
 * Micro-benchmarks of window statistics: one record on the hot path (time moving so seconds
 * roll over and get packed), the recorder entry point with the system clock, and a 5-minute
 * summary as the rollout evaluator asks for it.
 */
import { test } from "vitest";
import { WindowStats } from "../../src/rollout/window-stats.ts";
import { SYSTEM_CLOCK } from "../../src/time/clock.ts";
import type { Endpoint } from "../../src/upstream/endpoint.ts";

const routes = ["web", "api"];
const upstreams = ["stable", "canary"];
// Log-normal-ish latencies around 40 ms, precomputed so the benchmark measures recording only.
const latenciesMs = Float64Array.from({ length: 4096 }, (_, i) => {
  const u = ((i * 2654435761) % 4096) / 4096 + 1 / 8192;
  return 40 * Math.exp(0.8 * Math.sqrt(-2 * Math.log(u)) * Math.cos(i));
});
const endpoint = { url: "http://127.0.0.1:1" } as unknown as Endpoint;

const stats = new WindowStats({ clock: SYSTEM_CLOCK, longestWindowMs: 600_000 });
let nowMs = 0;
let i = 0;

const filled = new WindowStats({ clock: SYSTEM_CLOCK, longestWindowMs: 600_000 });
for (let second = 0; second < 600; second++) {
  for (let k = 0; k < 200; k++) {
    const latencyMs = latenciesMs[(second * 200 + k) % 4096] ?? 1;
    filled.record("web", "canary", latencyMs, k % 50 === 0, second * 1000 + k * 5);
  }
}
let sink = 0;

test("window stats", async ({ bench }) => {
  await bench.compare(
    bench("record (4 series, 5,000 records/s each)", () => {
      i++;
      // 20,000 records per simulated second in all: every second rolls over and is packed.
      nowMs += 0.05;
      stats.record(
        routes[i & 1] ?? "",
        upstreams[(i >> 1) & 1] ?? "",
        latenciesMs[i & 4095] ?? 1,
        (i & 63) === 0,
        nowMs,
      );
    }),
    bench("attemptFinished (clock read included)", () => {
      i++;
      stats.attemptFinished({
        route: "web",
        upstream: "canary",
        endpoint,
        status: 200,
        durationMs: latenciesMs[i & 4095] ?? 1,
        isFailure: false,
      });
    }),
    bench("summarize 5-minute window (200 records/s)", () => {
      sink += filled.summarize("web", "canary", 300_000, 599_999).requests;
    }),
    { time: 300 },
  );
  if (sink === -1) throw new Error("unreachable");
});
