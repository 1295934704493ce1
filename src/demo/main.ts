/**
 * `npm run demo`: two versions of a demo service (v1 healthy, v2 with a configurable error
 * rate and latency), switchyard in front of them on config/demo.yaml, a short burst of
 * traffic, and a table of which version served what, by rule and by split.
 *
 *   npm run demo                      # burst, table, then keep serving until Ctrl-C
 *   npm run demo -- --once            # burst, table, exit
 *   npm run demo -- --requests 2000 --v2-error-rate 0.2 --v2-latency 50ms
 */
import { parseArgs } from "node:util";
import { startSwitchyard } from "../app.ts";
import { formatProblem, loadConfigFile } from "../config/load.ts";
import { parseDurationMs } from "../config/units.ts";
import { createLogger } from "../log/logger.ts";
import { startDemoBackend } from "./backend.ts";
import { runDemoTraffic, TRAFFIC_KINDS } from "./traffic.ts";
import { formatServedTable } from "./table.ts";

const DEMO_CONFIG = "config/demo.yaml";

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      once: { type: "boolean", default: false },
      requests: { type: "string", default: "1000" },
      "v2-error-rate": { type: "string", default: "0" },
      "v2-latency": { type: "string", default: "0ms" },
      "log-level": { type: "string", default: "warn" },
    },
  });
  const requests = Number(values.requests);
  const errorRate = Number(values["v2-error-rate"]);
  const latencyMs = parseDurationMs(values["v2-latency"]);
  if (
    !Number.isInteger(requests) ||
    requests <= 0 ||
    !(errorRate >= 0 && errorRate <= 1) ||
    latencyMs === undefined
  ) {
    process.stderr.write(
      "demo: --requests takes a positive integer, --v2-error-rate a number from 0 to 1, --v2-latency a duration like 50ms.\n",
    );
    return 2;
  }

  const v1 = await startDemoBackend({ name: "v1", version: "v1" });
  const v2 = await startDemoBackend({ name: "v2", version: "v2", errorRate, latencyMs });
  const env = { ...process.env, DEMO_V1_URL: v1.url, DEMO_V2_URL: v2.url };
  const loaded = await loadConfigFile(DEMO_CONFIG, env);
  if (!loaded.ok) {
    for (const problem of loaded.problems) process.stderr.write(`${formatProblem(problem)}\n`);
    await Promise.all([v1.close(), v2.close()]);
    return 1;
  }
  const logger = createLogger({ level: values["log-level"] });
  let proxy;
  try {
    proxy = await startSwitchyard({ config: loaded.config, configHash: loaded.hash, logger });
  } catch (error) {
    process.stderr.write(`demo: ${(error as Error).message}.\n`);
    await Promise.all([v1.close(), v2.close()]);
    return 1;
  }
  const proxyUrl = `http://127.0.0.1:${proxy.proxyPort}`;
  out(`switchyard demo: v1 at ${v1.url}, v2 at ${v2.url}, proxy at ${proxyUrl}`);
  out(`route "web": split stable(v1) 90% / canary(v2) 10%, plus three rules\n`);
  out(`sending ${requests} requests of each kind...`);
  const served = await runDemoTraffic(proxyUrl, requests);
  out("");
  out(formatServedTable(served, TRAFFIC_KINDS));

  if (values.once) {
    await proxy.close();
    await Promise.all([v1.close(), v2.close()]);
    return 0;
  }
  out(`\nswitchyard keeps serving on ${proxyUrl}. Try:`);
  out(`  curl -s ${proxyUrl}/hello`);
  out(`  curl -s -H 'x-canary: always' ${proxyUrl}/hello`);
  out("Ctrl-C to stop.");
  await new Promise<void>((resolve) => {
    process.once("SIGINT", resolve);
    process.once("SIGTERM", resolve);
  });
  await proxy.close();
  await Promise.all([v1.close(), v2.close()]);
  return 0;
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
