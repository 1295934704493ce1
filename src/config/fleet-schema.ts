/**
 * The optional `fleet` block (SPEC 10): replicas that share one Redis and one fleet name share
 * one truth. The fleet name and the replica id become parts of Redis keys
 * (`switchyard:NAME:...`), so both keep to characters that need no quoting there.
 */
import * as z from "zod";
import { duration } from "./duration-schema.ts";
import { isTlsRedisUrl, redisUrlProblem } from "./redis-url.ts";

const KEY_PART = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
const KEY_PART_MAX = 64;
const KEY_PART_MESSAGE =
  "must start with a letter or digit and hold only letters, digits, '_', '.', '-' (it becomes part of Redis keys)";

const MIN_LEASE_TTL_MS = 1000;

const redisUrl = z.string().superRefine((text, ctx) => {
  const problem = redisUrlProblem(text);
  if (problem !== undefined) ctx.addIssue({ code: "custom", message: problem });
});

const fleetName = z
  .string()
  .min(1, { abort: true })
  .max(KEY_PART_MAX)
  .regex(KEY_PART, KEY_PART_MESSAGE);

/**
 * This replica's id. Empty counts as absent, so `replica: ${HOSTNAME:-}` falls back to the
 * default, which is computed at startup (src/fleet/replica-id.ts) and not here: the config
 * stays a function of the file and the environment, the same on every replica.
 */
const replicaId = z
  .string()
  .max(KEY_PART_MAX)
  .refine((text) => text === "" || KEY_PART.test(text), KEY_PART_MESSAGE)
  .transform((text) => (text === "" ? undefined : text));

const leaseTtl = duration.pipe(
  z.number().min(MIN_LEASE_TTL_MS, "must be at least 1s (replicas heartbeat every second)"),
);

const tls = z.strictObject({
  /** A PEM file of the CA that signed the Redis server's certificate (a private CA). */
  ca: z.string().min(1),
});

export const fleet = z
  .strictObject({
    redis: redisUrl,
    name: fleetName,
    replica: replicaId.optional(),
    leaseTtl: leaseTtl.default(10_000),
    syncTimeout: duration.default(10_000),
    tls: tls.optional(),
  })
  .superRefine((value, ctx) => {
    // A CA for a connection that never speaks TLS would be silently ignored.
    if (value.tls !== undefined && !isTlsRedisUrl(value.redis)) {
      ctx.addIssue({
        code: "custom",
        message:
          "tls applies only to a rediss:// URL; write fleet.redis as rediss://... or remove tls",
        path: ["tls"],
      });
    }
  });
