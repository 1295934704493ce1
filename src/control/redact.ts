/**
 * The effective config as `GET /api/v1/config` shows it: admin tokens and the fleet's Redis
 * password never leave the process.
 */
import { redactRedisUrl } from "../config/redis-url.ts";
import type { Config } from "../config/schema.ts";

export const REDACTED = "[redacted]";

export function redactConfig(config: Config): unknown {
  return {
    ...config,
    admin: {
      ...config.admin,
      tokens: config.admin.tokens.map((token) => ({ ...token, token: REDACTED })),
    },
    ...(config.fleet === undefined
      ? {}
      : { fleet: { ...config.fleet, redis: redactRedisUrl(config.fleet.redis) } }),
  };
}
