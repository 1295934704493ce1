/** The effective config as `GET /api/v1/config` shows it: admin tokens never leave the process. */
import type { Config } from "../config/schema.ts";

export const REDACTED = "[redacted]";

export function redactConfig(config: Config): unknown {
  return {
    ...config,
    admin: {
      ...config.admin,
      tokens: config.admin.tokens.map((token) => ({ ...token, token: REDACTED })),
    },
  };
}
