/** Builds a validated Config from a few routes, the way the loader would. */
import { configSchema, type Config } from "../../../src/config/schema.ts";

export function configWithRoutes(routes: readonly Record<string, unknown>[]): Config {
  return configSchema.parse({
    upstreams: {
      stable: { endpoints: ["http://127.0.0.1:1"] },
      canary: { endpoints: ["http://127.0.0.1:2"] },
      old: { endpoints: ["http://127.0.0.1:3"] },
    },
    routes,
  });
}
