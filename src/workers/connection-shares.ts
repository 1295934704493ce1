/**
 * Connection budgets shared out between workers (SPEC 11): each worker keeps its own undici
 * pools and its own listener, so an upstream's per-endpoint `maxConnections` and
 * `server.maxConnections` are split between them, and the workers together never open more
 * than the file allows. The remainder goes to the lowest slots; every worker keeps at least
 * one (a budget smaller than the worker count is exceeded by that much, not starved).
 */
import type { Config } from "../config/schema.ts";

/** Slot `slot` (1..count)'s part of `total`. */
export function shareOf(total: number, slot: number, count: number): number {
  const base = Math.floor(total / count);
  const extra = slot <= total % count ? 1 : 0;
  return Math.max(1, base + extra);
}

/** The config a worker serves with: the same, with its part of each connection budget. */
export function workerConfig(config: Config, slot: number, count: number): Config {
  if (count === 1) return config;
  const upstreams: Config["upstreams"] = {};
  for (const [name, upstream] of Object.entries(config.upstreams)) {
    upstreams[name] = {
      ...upstream,
      maxConnections: shareOf(upstream.maxConnections, slot, count),
    };
  }
  return {
    ...config,
    upstreams,
    server: {
      ...config.server,
      maxConnections: shareOf(config.server.maxConnections, slot, count),
    },
  };
}
