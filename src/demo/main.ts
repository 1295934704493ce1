/**
 * `npm run demo`: two versions of a demo service (v1 healthy, v2 with a configurable error
 * rate and latency), switchyard in front of them on config/demo.yaml, a short burst of
 * traffic with a table of which version served what, by rule and by split, and then the
 * rollout of v2 under light traffic, each decision printed as it happens.
 *
 *   npm run demo                      # table, rollout until promoted, then keep serving
 *   npm run demo -- --bad             # v2 fails 20% of requests: the fast rollback
 *   npm run demo -- --once            # exit after the rollout
 *   npm run demo -- --no-rollout      # the table only
 *   npm run demo -- --requests 2000 --v2-error-rate 0.2 --v2-latency 50ms
 */
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { ListenError, startSwitchyard } from "../app.ts";
import { formatProblem, loadConfigFile } from "../config/load.ts";
import type { Config } from "../config/schema.ts";
import { bpToPercent, parseDurationMs } from "../config/units.ts";
import { createLogger } from "../log/logger.ts";
import { startDemoBackend, type DemoBackend } from "./backend.ts";
import { NETWORK_ERROR, runDemoTraffic, TRAFFIC_KINDS } from "./traffic.ts";
import { runRolloutStory } from "./rollout-story.ts";
import { formatServedTable } from "./table.ts";

// Next to the sources rather than the working directory, so the demo runs from anywhere.
const DEMO_CONFIG = fileURLToPath(new URL("../../config/demo.yaml", import.meta.url));
const LOG_LEVELS = ["trace", "debug", "info", "warn", "error", "fatal", "silent"];
const EXIT_USAGE = 2;
const USAGE =
  "usage: npm run demo -- [--once] [--bad] [--no-rollout] [--requests N] [--v2-error-rate 0..1] " +
  "[--v2-latency DURATION] [--log-level LEVEL]";

/** `--bad`: v2's error rate, enough for the fast rollback to act on. */
const BAD_ERROR_RATE = 0.2;

interface DemoOptions {
  isOnce: boolean;
  hasRollout: boolean;
  requestsPerKind: number;
  v2ErrorRate: number;
  v2LatencyMs: number;
  logLevel: string;
}

/** The options, or a one-sentence reason they are wrong. */
function parseOptions(args: string[]): DemoOptions | string {
  let values;
  try {
    ({ values } = parseArgs({
      args,
      options: {
        once: { type: "boolean", default: false },
        bad: { type: "boolean", default: false },
        "no-rollout": { type: "boolean", default: false },
        requests: { type: "string", default: "1000" },
        "v2-error-rate": { type: "string", default: "0" },
        "v2-latency": { type: "string", default: "0ms" },
        "log-level": { type: "string", default: "error" },
      },
    }));
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
  const requestsPerKind = Number(values.requests);
  const v2ErrorRate =
    values.bad && values["v2-error-rate"] === "0"
      ? BAD_ERROR_RATE
      : Number(values["v2-error-rate"]);
  const v2LatencyMs = parseDurationMs(values["v2-latency"]);
  const logLevel = values["log-level"];
  if (!Number.isInteger(requestsPerKind) || requestsPerKind <= 0) {
    return `--requests takes a positive integer, got "${values.requests}"`;
  }
  if (values["v2-error-rate"].trim() === "" || !(v2ErrorRate >= 0 && v2ErrorRate <= 1)) {
    return `--v2-error-rate takes a number from 0 to 1, got "${values["v2-error-rate"]}"`;
  }
  if (v2LatencyMs === undefined) {
    return `--v2-latency takes a duration like 50ms, got "${values["v2-latency"]}"`;
  }
  if (!LOG_LEVELS.includes(logLevel)) {
    return `--log-level takes one of ${LOG_LEVELS.join(", ")}, got "${logLevel}"`;
  }
  return {
    isOnce: values.once,
    hasRollout: !values["no-rollout"],
    requestsPerKind,
    v2ErrorRate,
    v2LatencyMs,
    logLevel,
  };
}

async function main(): Promise<number> {
  const options = parseOptions(process.argv.slice(2));
  if (typeof options === "string") {
    process.stderr.write(`demo: ${options}.\n${USAGE}\n`);
    return EXIT_USAGE;
  }
  const v1 = await startDemoBackend({ name: "v1", version: "v1" });
  const v2 = await startDemoBackend({
    name: "v2",
    version: "v2",
    errorRate: options.v2ErrorRate,
    latencyMs: options.v2LatencyMs,
  });
  try {
    return await runDemo(options, v1, v2);
  } finally {
    await Promise.all([v1.close(), v2.close()]);
  }
}

async function runDemo(options: DemoOptions, v1: DemoBackend, v2: DemoBackend): Promise<number> {
  const env = { ...process.env, DEMO_V1_URL: v1.url, DEMO_V2_URL: v2.url };
  const loaded = await loadConfigFile(DEMO_CONFIG, env);
  if (!loaded.ok) {
    for (const problem of loaded.problems) process.stderr.write(`${formatProblem(problem)}\n`);
    return 1;
  }
  const logger = createLogger({ level: options.logLevel });
  let proxy;
  try {
    proxy = await startSwitchyard({ config: loaded.config, configHash: loaded.hash, logger });
  } catch (error) {
    if (!(error instanceof ListenError)) throw error;
    const hint =
      error.code === "EADDRINUSE"
        ? " (in config/demo.yaml, listen.proxy is $DEMO_PROXY_LISTEN, e.g. DEMO_PROXY_LISTEN=127.0.0.1:0 for any free port)"
        : "";
    process.stderr.write(`demo: ${error.message}${hint}.\n`);
    return 1;
  }
  try {
    // As a load balancer would wait for /readyz: the first round of health checks decides.
    await proxy.healthChecker.firstRoundDone;
    // The rollout waits for the burst, so the table shows its first step's split.
    await proxy.control.rolloutAction("web", "pause", "demo");
    const proxyUrl = clientUrl(loaded.config.listen.proxy.host, proxy.proxyPort);
    const versions = new Map([
      [v1.url, "v1"],
      [v2.url, "v2"],
    ]);
    out(`switchyard demo: v1 at ${v1.url}, v2 at ${v2.url}, proxy at ${proxyUrl}`);
    for (const line of describeRoutes(loaded.config, versions)) out(line);
    out(`\nsending ${options.requestsPerKind} requests of each kind...\n`);
    const served = await runDemoTraffic(proxyUrl, options.requestsPerKind);
    out(formatServedTable(served, TRAFFIC_KINDS));

    let failed = 0;
    for (const counts of served.values()) failed += counts.get(NETWORK_ERROR) ?? 0;
    if (failed > 0) {
      process.stderr.write(
        `demo: ${failed} requests got no answer from the proxy at ${proxyUrl}; rerun with --log-level info to see why.\n`,
      );
      return 1;
    }
    if (options.hasRollout) {
      out("");
      const end = await runRolloutStory(proxy, proxyUrl, out);
      if (end === "timedOut") return 1;
    }
    if (options.isOnce) return 0;

    out(`\nswitchyard keeps serving on ${proxyUrl}. Try:`);
    out(`  curl -s ${proxyUrl}/hello`);
    out(`  curl -s -H 'x-canary: always' ${proxyUrl}/hello`);
    out(`  npm run -s cli -- status --admin http://127.0.0.1:${proxy.adminPort}`);
    out("Ctrl-C to stop.");
    await new Promise<void>((resolve) => {
      process.once("SIGINT", resolve);
      process.once("SIGTERM", resolve);
    });
    return 0;
  } finally {
    await proxy.close();
  }
}

/** Where a local client reaches a listener: wildcard addresses mean loopback. */
function clientUrl(host: string, port: number): string {
  const target = host === "0.0.0.0" || host === "" ? "127.0.0.1" : host === "::" ? "::1" : host;
  return target.includes(":") ? `http://[${target}]:${port}` : `http://${target}:${port}`;
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
