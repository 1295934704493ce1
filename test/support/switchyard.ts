/**
 * Starts a real switchyard in this process on 127.0.0.1:0 from a config object written as a
 * user would write the YAML (durations as strings, weights as percentages).
 */
import { startSwitchyard, type RunningSwitchyard } from "../../src/app.ts";
import { configSchema, type Config } from "../../src/config/schema.ts";
import { createSilentLogger, type Logger } from "../../src/log/logger.ts";
import type { ProxyRecorder } from "../../src/proxy/recorder.ts";

export interface TestSwitchyard extends RunningSwitchyard {
  readonly url: string;
  readonly config: Config;
}

export function parseTestConfig(raw: Record<string, unknown>): Config {
  const withListen = {
    ...raw,
    listen: { proxy: "127.0.0.1:0", admin: "127.0.0.1:0", ...(raw.listen as object | undefined) },
  };
  return configSchema.parse(withListen);
}

export async function startTestSwitchyard(
  raw: Record<string, unknown>,
  options: { logger?: Logger; recorder?: ProxyRecorder; random?: () => number } = {},
): Promise<TestSwitchyard> {
  const config = parseTestConfig(raw);
  const running = await startSwitchyard({
    config,
    configHash: "test",
    logger: options.logger ?? createSilentLogger(),
    ...(options.recorder === undefined ? {} : { recorder: options.recorder }),
    ...(options.random === undefined ? {} : { random: options.random }),
  });
  // Like a load balancer waiting for /readyz: endpoints with health checks serve after round one.
  await running.healthChecker.firstRoundDone;
  return Object.assign(running, { url: `http://127.0.0.1:${running.proxyPort}`, config });
}

/** The smallest config: one route, every request to the given upstream endpoints. */
export function singleUpstreamConfig(
  endpoints: string[],
  extra: {
    upstream?: Record<string, unknown>;
    route?: Record<string, unknown>;
    top?: Record<string, unknown>;
  } = {},
): Record<string, unknown> {
  return {
    upstreams: { stable: { endpoints, ...extra.upstream } },
    routes: [{ name: "web", split: { stable: 100 }, ...extra.route }],
    ...extra.top,
  };
}
