/**
 * Micro-benchmarks of the metrics hot path: one `requestFinished` (count + duration), against
 * prom-client's children cached per label set and its label-object calls.
 */
import { Counter, Histogram, Registry } from "prom-client";
import { test } from "vitest";
import { Metrics } from "../../src/metrics/metrics.ts";
import {
  REQUEST_DURATION_BUCKETS_SECONDS,
  REQUEST_DURATION_SECONDS,
  REQUESTS_TOTAL,
} from "../../src/metrics/metric-names.ts";

const metrics = new Metrics({ hasProcessMetrics: false });
const registers = [new Registry()];
const requests = new Counter({ ...REQUESTS_TOTAL, registers });
const duration = new Histogram({
  ...REQUEST_DURATION_SECONDS,
  buckets: [...REQUEST_DURATION_BUCKETS_SECONDS],
  registers,
});

const children = new Map<
  string,
  { count: ReturnType<typeof requests.labels>; duration: ReturnType<typeof duration.labels> }
>();
const routes = ["web", "api", "admin"];
const upstreams = ["stable", "canary"];
const statuses = [200, 200, 200, 204, 304, 404, 503];
let i = 0;

test("metrics hot path", async ({ bench }) => {
  await bench.compare(
    bench("Metrics.requestFinished", () => {
      i++;
      metrics.requestFinished({
        route: routes[i % 3] ?? "",
        upstream: upstreams[i % 2] ?? "",
        status: statuses[i % 7] ?? 200,
        durationMs: i % 400,
      });
    }),
    bench("prom-client inc(labels) + observe(labels)", () => {
      i++;
      const route = routes[i % 3] ?? "";
      const upstream = upstreams[i % 2] ?? "";
      requests.inc({ route, upstream, code: String(statuses[i % 7] ?? 200) });
      duration.observe({ route, upstream }, (i % 400) / 1000);
    }),
    bench("prom-client children, cached", () => {
      i++;
      const route = routes[i % 3] ?? "";
      const upstream = upstreams[i % 2] ?? "";
      const status = statuses[i % 7] ?? 200;
      const key = `${route}\0${upstream}\0${status}`;
      let child = children.get(key);
      if (child === undefined) {
        child = {
          count: requests.labels(route, upstream, String(status)),
          duration: duration.labels(route, upstream),
        };
        children.set(key, child);
      }
      child.count.inc();
      child.duration.observe((i % 400) / 1000);
    }),
    { time: 300 },
  );
});
