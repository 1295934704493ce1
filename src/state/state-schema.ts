/**
 * The state file's format: admin weight overrides and rollout progress per route, and the
 * endpoints operators drained or put in maintenance per upstream, so they survive restarts
 * (SPEC sections 5, 6 and 12). Weights are percentages, as an operator reads and types them;
 * the version lets a future format be recognised instead of misread. `upstreams` came later:
 * a file without it loads (no endpoint states), and it is written only when there are some.
 */
import { z } from "zod";

export const STATE_FORMAT_VERSION = 1;

const percent = z.number().min(0).max(100);
const weights = z.record(z.string().min(1), percent);

export const overrideSchema = z.object({
  /** The override's split, percentages by upstream name. */
  weights,
  /** Who set it: an operator through the admin API, or a rollout's step. */
  source: z.enum(["admin", "rollout"]).default("admin"),
  /** The admin token's name. */
  setBy: z.string(),
  /** ISO 8601. */
  setAt: z.iso.datetime({ offset: true }),
  /** The file's split when the override was set: a later edit of it replaces the override. */
  fileSplit: weights,
});

const routeStateSchema = z.object({
  override: overrideSchema.nullable(),
  /** Owned by the rollout controller; stored as given. */
  rollout: z.record(z.string(), z.unknown()).nullable(),
});

export const endpointStateSchema = z.object({
  /** `ready` is never written (it is the default) but read without complaint. */
  state: z.enum(["ready", "drain", "maintenance"]),
  /** The admin token's name. */
  setBy: z.string(),
  /** ISO 8601. */
  setAt: z.iso.datetime({ offset: true }),
});

const upstreamStateSchema = z.object({
  /** By endpoint URL: a state follows its URL, not its index in the list. */
  endpoints: z.record(z.string().min(1), endpointStateSchema),
});

export const persistedStateSchema = z.object({
  version: z.literal(STATE_FORMAT_VERSION),
  routes: z.record(z.string().min(1), routeStateSchema),
  upstreams: z.record(z.string().min(1), upstreamStateSchema).optional(),
});

export type PersistedState = z.infer<typeof persistedStateSchema>;
export type PersistedRouteState = z.infer<typeof routeStateSchema>;
export type PersistedOverride = z.infer<typeof overrideSchema>;
export type PersistedUpstreamState = z.infer<typeof upstreamStateSchema>;

export function emptyState(): PersistedState {
  return { version: STATE_FORMAT_VERSION, routes: {} };
}
