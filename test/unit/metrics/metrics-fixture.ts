/**
 * A Metrics instance wired to real upstreams built from a config (pools never connect), and
 * helpers to read its scrape. Call `closeOpenedUpstreams` after each test.
 */
import { configSchema, type Config } from "../../../src/config/schema.ts";
import { Metrics } from "../../../src/metrics/metrics.ts";
import { compileRouteTable } from "../../../src/routing/route-table.ts";
import { BucketRotations } from "../../../src/upstream/bucket-rotation.ts";
import type { Endpoint } from "../../../src/upstream/endpoint.ts";
import {
  buildUpstreams,
  closeUpstreams,
  type UpstreamMap,
} from "../../../src/upstream/upstream-set.ts";
import { ManualClock } from "../../support/manual-clock.ts";
import { parsePrometheusText, type MetricFamily } from "../../support/prometheus-text.ts";

export const S1 = "http://127.0.0.1:1";
export const S2 = "http://127.0.0.1:2";
export const C1 = "http://127.0.0.1:3";

export const BASE_CONFIG = {
  upstreams: {
    stable: { endpoints: [S1, S2] },
    canary: {
      endpoints: [C1],
      outlierDetection: { consecutiveFailures: 2 },
      breaker: { volumeThreshold: 2 },
    },
  },
  routes: [
    { name: "web", match: { hosts: ["shop.example.com"] }, split: { stable: 90, canary: 10 } },
    { name: "api", match: { pathPrefix: "/api" }, split: { canary: 100 } },
  ],
};

export const RELOADED_CONFIG = {
  upstreams: { stable: { endpoints: [S1] } },
  routes: [
    { name: "web", match: { hosts: ["shop.example.com"] }, split: { stable: 100 } },
    { name: "admin", match: { pathPrefix: "/admin" }, split: { stable: 100 } },
  ],
};

let opened: UpstreamMap[] = [];

export async function closeOpenedUpstreams(): Promise<void> {
  await Promise.all(opened.map((upstreams) => closeUpstreams(upstreams)));
  opened = [];
}

export function setup(options: { clock?: ManualClock } = {}) {
  const clock = options.clock ?? new ManualClock();
  const metrics = new Metrics({ clock, hasProcessMetrics: false });
  const deps = { clock, rotations: new BucketRotations(), listener: metrics };
  const load = (raw: unknown, previous?: UpstreamMap) => {
    const config: Config = configSchema.parse(raw);
    const { upstreams } = buildUpstreams(config, deps, previous);
    opened.push(upstreams);
    const snapshot = { upstreams, routes: compileRouteTable(config) };
    metrics.syncSnapshot(snapshot);
    return snapshot;
  };
  return { metrics, clock, load };
}

export async function scrape(metrics: Metrics): Promise<Map<string, MetricFamily>> {
  return parsePrometheusText(await metrics.render());
}

export function endpointOf(upstreams: UpstreamMap, name: string, url: string): Endpoint {
  const endpoint = upstreams.get(name)?.endpoints.find((e) => e.url === url);
  if (endpoint === undefined) throw new Error(`no endpoint ${name} ${url}`);
  return endpoint;
}

/** Every label set of every sample of a family (bucket `le` aside), as sorted key lists. */
export function labelKeys(family: MetricFamily | undefined): string[] {
  const keys = new Set<string>();
  for (const sample of family?.samples ?? []) {
    keys.add(
      Object.keys(sample.labels)
        .filter((key) => key !== "le")
        .sort()
        .join(","),
    );
  }
  return [...keys];
}

/** True when any sample anywhere carries `value` in any label. */
export function anyLabelHas(families: Map<string, MetricFamily>, value: string): boolean {
  for (const family of families.values()) {
    for (const sample of family.samples) {
      if (Object.values(sample.labels).includes(value)) return true;
    }
  }
  return false;
}

export function recordTraffic(metrics: Metrics): void {
  metrics.requestFinished({ route: "web", upstream: "stable", status: 200, durationMs: 3 });
  metrics.requestFinished({ route: "web", upstream: "stable", status: 200, durationMs: 40 });
  metrics.requestFinished({ route: "web", upstream: "canary", status: 503, durationMs: 1200 });
  metrics.requestFinished({ route: "api", upstream: "canary", status: 0, durationMs: 7 });
  metrics.fallback("web", "canary", "stable");
  metrics.retry("web", "stable");
  metrics.rolloutStep("web", "canary", 10);
  metrics.rolloutPhase("web", "progressing");
  metrics.rolloutDecision("web", "advance");
  metrics.configReloaded("success", 1_767_225_600);
}
