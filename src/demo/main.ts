/**
 * `npm run demo`: two versions of a demo service (v1 healthy, v2 with a configurable error
 * rate and latency), switchyard in front of them on config/demo.yaml, a short burst of
 * traffic with a table of which version served what, by rule and by split, and then the
 * rollout of v2 under light traffic, each decision printed as it happens.
 *
 *   npm run demo                      # table, rollout until promoted, then keep serving
 *   npm run demo -- --bad             # v2 fails 20% of requests: the fast rollback
 *   npm run demo -- --fleet           # two replicas sharing a Redis: one judge, summed traffic
 *   npm run demo -- --once            # exit after the rollout
 *   npm run demo -- --no-rollout      # the table only
 *   npm run demo -- --requests 2000 --v2-error-rate 0.2 --v2-latency 50ms
 */
import type { Config } from "../config/schema.ts";
import { bpToPercent } from "../config/units.ts";
import { startDemoBackend, type DemoBackend } from "./backend.ts";
import { waitForLeader } from "./fleet-watch.ts";
import { EXIT_USAGE, parseOptions, USAGE, type DemoOptions } from "./options.ts";
import { isRedisServerInstalled, REDIS_NOT_INSTALLED, startDemoRedis } from "./redis-server.ts";
import { runRolloutStory } from "./rollout-story.ts";
import { handleDemoSignals, type DemoSignals } from "./signals.ts";
import { closeSwitchyards, startDemoSwitchyards, type DemoSwitchyard } from "./switchyards.ts";
import { formatServedTable } from "./table.ts";
import { NETWORK_ERROR, runDemoTraffic, TRAFFIC_KINDS } from "./traffic.ts";

async function main(): Promise<number> {
  const options = parseOptions(process.argv.slice(2));
  if (typeof options === "string") {
    process.stderr.write(`demo: ${options}.\n${USAGE}\n`);
    return EXIT_USAGE;
  }
  if (options.isFleet && !isRedisServerInstalled()) {
    process.stderr.write(`demo: ${REDIS_NOT_INSTALLED}\n`);
    return 1;
  }
  const signals = handleDemoSignals();
  const redis = options.isFleet ? await startDemoRedis() : undefined;
  try {
    return await withBackends(options, redis?.url, signals);
  } finally {
    await redis?.stop();
  }
}

async function withBackends(
  options: DemoOptions,
  redisUrl: string | undefined,
  signals: DemoSignals,
): Promise<number> {
  const v1 = await startDemoBackend({ name: "v1", version: "v1" });
  const v2 = await startDemoBackend({
    name: "v2",
    version: "v2",
    errorRate: options.v2ErrorRate,
    latencyMs: options.v2LatencyMs,
  });
  try {
    const started = await startDemoSwitchyards({
      v1Url: v1.url,
      v2Url: v2.url,
      logLevel: options.logLevel,
      ...(redisUrl === undefined ? {} : { redisUrl }),
    });
    if (!started.ok) {
      process.stderr.write(`demo: ${started.message}\n`);
      return 1;
    }
    try {
      return await runDemo(options, started.switchyards, { v1, v2, redisUrl, signals });
    } finally {
      await closeSwitchyards(started.switchyards);
    }
  } finally {
    await Promise.all([v1.close(), v2.close()]);
  }
}

/** What the switchyards run with, started by main. */
interface DemoSurroundings {
  readonly v1: DemoBackend;
  readonly v2: DemoBackend;
  readonly redisUrl: string | undefined;
  readonly signals: DemoSignals;
}

async function runDemo(
  options: DemoOptions,
  switchyards: readonly DemoSwitchyard[],
  { v1, v2, redisUrl, signals }: DemoSurroundings,
): Promise<number> {
  const [first] = switchyards;
  if (first === undefined) return 1;
  // As a load balancer would wait for /readyz: the first round of health checks decides.
  await Promise.all(switchyards.map((s) => s.proxy.healthChecker.firstRoundDone));
  // The rollout waits for the burst, so the table shows its first step's split.
  await first.proxy.control.rolloutAction("web", "pause", "demo");
  const versions = new Map([
    [v1.url, "v1"],
    [v2.url, "v2"],
  ]);
  out(`switchyard demo: v1 at ${v1.url}, v2 at ${v2.url}, ${proxiesText(switchyards)}`);
  if (redisUrl !== undefined && !(await introduceFleet(switchyards, redisUrl))) return 1;
  for (const line of describeRoutes(first.config, versions)) out(line);
  if (!(await showServedTable(options, switchyards))) return 1;
  if (options.hasRollout) {
    out("");
    const end = await runRolloutStory(switchyards, out);
    if (end === "timedOut") return 1;
  }
  if (options.isOnce) return 0;
  await keepServing(switchyards, signals);
  return 0;
}

/** "proxy at URL", or with --fleet "r1 at URL and r2 at URL". */
function proxiesText(switchyards: readonly DemoSwitchyard[]): string {
  const [first] = switchyards;
  if (switchyards.length === 1 && first?.replica === undefined) {
    return `proxy at ${first?.proxyUrl ?? ""}`;
  }
  const each = switchyards.map((s) => `${s.replica ?? "?"} at ${s.proxyUrl}`);
  return `replicas ${each.join(" and ")}`;
}

/** Which replica leads: false when none did in time. */
async function introduceFleet(
  switchyards: readonly DemoSwitchyard[],
  redisUrl: string,
): Promise<boolean> {
  const leader = await waitForLeader(switchyards);
  if (leader === undefined) {
    process.stderr.write(`demo: no replica took the fleet's lease in Redis at ${redisUrl}.\n`);
    return false;
  }
  const fleetName = switchyards[0]?.config.fleet?.name ?? "";
  const followers = switchyards.map((s) => s.replica).filter((replica) => replica !== leader);
  out(
    `fleet "${fleetName}" in Redis at ${redisUrl}: ${leader} leads, ${followers.join(", ")} follows; ` +
      `only the leader judges the rollout, on the sum of both replicas' traffic`,
  );
  return true;
}

/** The burst of each kind of traffic, spread over the proxies, and who served it. */
async function showServedTable(
  options: DemoOptions,
  switchyards: readonly DemoSwitchyard[],
): Promise<boolean> {
  out(`\nsending ${options.requestsPerKind} requests of each kind...\n`);
  const proxyUrls = switchyards.map((s) => s.proxyUrl);
  const served = await runDemoTraffic(proxyUrls, options.requestsPerKind);
  out(formatServedTable(served, TRAFFIC_KINDS));
  let failed = 0;
  for (const counts of served.values()) failed += counts.get(NETWORK_ERROR) ?? 0;
  if (failed > 0) {
    process.stderr.write(
      `demo: ${failed} requests got no answer from the proxy at ${proxyUrls.join(" or ")}; rerun with --log-level info to see why.\n`,
    );
    return false;
  }
  return true;
}

async function keepServing(
  switchyards: readonly DemoSwitchyard[],
  signals: DemoSignals,
): Promise<void> {
  for (const switchyard of switchyards) {
    const { proxyUrl, adminUrl } = switchyard;
    const who = switchyard.replica === undefined ? "switchyard" : `replica ${switchyard.replica}`;
    out(`\n${who} keeps serving on ${proxyUrl}. Try:`);
    out(`  curl -s ${proxyUrl}/hello`);
    out(`  curl -s -H 'x-canary: always' ${proxyUrl}/hello`);
    out(`  npm run -s cli -- status --admin ${adminUrl}`);
  }
  out("Ctrl-C to stop.");
  await signals.next();
}

/** One line per route: its split as configured, with the demo version behind each upstream. */
function describeRoutes(config: Config, versions: ReadonlyMap<string, string>): string[] {
  return config.routes.map((route) => {
    const weights = Object.entries(route.split).map(([upstream, weightBp]) => {
      const endpoints = config.upstreams[upstream]?.endpoints ?? [];
      const names = endpoints.map((url) => versions.get(url) ?? url).join(", ");
      return `${upstream} (${names}) ${bpToPercent(weightBp)}%`;
    });
    const ruleCount = route.rules.length;
    return `route "${route.name}": split ${weights.join(" / ")}, plus ${ruleCount} ${ruleCount === 1 ? "rule" : "rules"}`;
  });
}

function out(line: string): void {
  process.stdout.write(`${line}\n`);
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`demo: ${String(error)}\n`);
    process.exitCode = 1;
  },
);
