/**
 * The one schema of the config file (SPEC section 2). It gives the validation, the defaults
 * and, through z.output, the normalised type the rest of the program reads: durations become
 * milliseconds under the same key names, split weights become integer basis points (0..10000).
 */
import * as z from "zod";
import { duration } from "./duration-schema.ts";
import { fleet } from "./fleet-schema.ts";
import { findReferenceIssues, readBasisPointWeight } from "./references.ts";
import { percentToBp } from "./units.ts";
import { workers } from "./workers-schema.ts";

const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
const NAME_MESSAGE =
  "must start with a letter or digit and hold only letters, digits, '_', '.', '-'";

const name = z.string().regex(NAME_PATTERN, NAME_MESSAGE);

const positiveInt = z.number().int().positive();

// abort: a weight out of range must stop the root rules from summing its raw, unconverted value.
const percent = z
  .number()
  .min(0, { abort: true })
  .max(100, { abort: true })
  .transform((value, ctx) => {
    const bp = percentToBp(value);
    if (bp === undefined) {
      ctx.addIssue({ code: "custom", message: `${value} has more than two decimals` });
      return z.NEVER;
    }
    return bp;
  });

/** "host:port" or "[v6]:port" -> { host, port }. */
const listenAddress = z.string().transform((text, ctx) => {
  const found = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(text);
  const port = found ? Number(found[3]) : NaN;
  if (!found || port > 65535) {
    ctx.addIssue({
      code: "custom",
      message: `"${text}" is not HOST:PORT (e.g. 0.0.0.0:8080 or [::1]:9901)`,
    });
    return z.NEVER;
  }
  return { host: found[1] ?? found[2] ?? "", port };
});

const endpointUrl = z.string().transform((text, ctx) => {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    ctx.addIssue({ code: "custom", message: `"${text}" is not a URL` });
    return z.NEVER;
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    ctx.addIssue({ code: "custom", message: `"${text}" must use http:// or https://` });
    return z.NEVER;
  }
  if ((url.pathname !== "/" && url.pathname !== "") || url.search !== "" || url.hash !== "") {
    ctx.addIssue({
      code: "custom",
      message: `"${text}" must be an origin (scheme, host, port) without a path or query`,
    });
    return z.NEVER;
  }
  return url.origin;
});

/** "200", 200 or "200-299" -> an inclusive status range. */
const statusRange = z
  .union([z.number().int(), z.string()], {
    error: "expected a status or range like 200 or 200-299",
  })
  .transform((value, ctx) => {
    const text = String(value);
    const found = /^([1-5]\d\d)(?:-([1-5]\d\d))?$/.exec(text);
    const from = found ? Number(found[1]) : NaN;
    const to = found?.[2] !== undefined ? Number(found[2]) : from;
    if (!found || to < from) {
      ctx.addIssue({ code: "custom", message: `"${text}" is not a status or range like 200-299` });
      return z.NEVER;
    }
    return { from, to };
  });

/** A rule value: exact text, or `~regex`. Compiled here once so a bad regex is a config error. */
const matchValue = z.string().superRefine((text, ctx) => {
  if (!text.startsWith("~")) return;
  try {
    new RegExp(text.slice(1));
  } catch (error) {
    // V8 says "Invalid regular expression: /(/: Unterminated group"; keep only the reason.
    const reason = (error as Error).message.split(": ").pop();
    ctx.addIssue({
      code: "custom",
      message: `${JSON.stringify(text.slice(1))} is not a valid regular expression: ${reason ?? "syntax error"}`,
    });
  }
});

const healthCheck = z.strictObject({
  path: z.string().startsWith("/").default("/health"),
  interval: duration.default(5000),
  timeout: duration.default(1000),
  healthyThreshold: positiveInt.default(2),
  unhealthyThreshold: positiveInt.default(3),
  expectStatus: z
    .array(statusRange)
    .min(1)
    .default([{ from: 200, to: 299 }]),
});

const outlierDetection = z.strictObject({
  consecutiveFailures: positiveInt.default(5),
  baseEjectionTime: duration.default(30_000),
  maxEjectionPercent: z.number().min(0).max(100).default(50),
});

const breaker = z.strictObject({
  errorThresholdPercentage: z.number().gt(0).max(100).default(50),
  volumeThreshold: z.number().int().min(0).default(20),
  window: duration.default(10_000),
  resetTimeout: duration.default(30_000),
});

const timeouts = z.strictObject({
  connect: duration.default(2000),
  response: duration.default(30_000),
  idle: duration.default(60_000),
});

const upstream = z.strictObject({
  endpoints: z.array(endpointUrl).min(1, "an upstream needs at least one endpoint"),
  healthCheck: healthCheck.optional(),
  outlierDetection: outlierDetection.prefault({}),
  breaker: breaker.prefault({}),
  timeouts: timeouts.prefault({}),
  maxConnections: positiveInt.default(256),
});

const ruleMatch = z
  .strictObject({
    headers: z.record(z.string().min(1), matchValue).optional(),
    cookies: z.record(z.string().min(1), matchValue).optional(),
    query: z.record(z.string().min(1), matchValue).optional(),
  })
  .refine(
    (m) =>
      Object.keys(m.headers ?? {}).length +
        Object.keys(m.cookies ?? {}).length +
        Object.keys(m.query ?? {}).length >
      0,
    "a rule must match on at least one header, cookie or query parameter",
  );

const rule = z.strictObject({ match: ruleMatch, to: name });

const httpToken = z
  .string()
  .regex(
    /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/,
    "must be a cookie or header name (no spaces, no separators)",
  );

/** One object with both keys rather than a union: a typo or a bad name gets a precise error. */
const sticky = z
  .strictObject({ cookie: httpToken.optional(), header: httpToken.optional() })
  .transform((value, ctx): { cookie: string } | { header: string } => {
    if (value.cookie !== undefined && value.header === undefined) return { cookie: value.cookie };
    if (value.header !== undefined && value.cookie === undefined) return { header: value.header };
    ctx.addIssue({ code: "custom", message: "sticky needs exactly one of cookie or header" });
    return z.NEVER;
  });

const retries = z.strictObject({
  attempts: z.number().int().min(0).max(10).default(1),
  methods: z
    .array(z.string().regex(/^[A-Z]+$/, "methods are upper-case, like GET"))
    .default(["GET", "HEAD", "OPTIONS"]),
  budgetPercent: z.number().min(0).max(100).default(20),
});

export const CHECK_METRICS = [
  "errorRate",
  "availability",
  "latencyP50",
  "latencyP95",
  "latencyP99",
  "latencyP95Ratio",
  "errorRateDelta",
] as const;
export const CHECK_ACTIONS = ["rollback", "hold", "alert"] as const;
export const WEBHOOK_EVENTS = ["advanced", "held", "paused", "rolledBack", "promoted"] as const;

const check = z
  .strictObject({
    metric: z.enum(CHECK_METRICS),
    max: z.number().optional(),
    min: z.number().optional(),
    window: duration.optional(),
    action: z.enum(CHECK_ACTIONS).default("rollback"),
  })
  .refine((c) => c.max !== undefined || c.min !== undefined, "a check needs max or min");

const webhook = z.strictObject({
  url: endpointUrlWithPath(),
  events: z
    .array(z.enum(WEBHOOK_EVENTS))
    .min(1)
    .default([...WEBHOOK_EVENTS]),
});

function endpointUrlWithPath() {
  return z.string().refine((text) => {
    try {
      const url = new URL(text);
      return url.protocol === "http:" || url.protocol === "https:";
    } catch {
      return false;
    }
  }, "must be an http:// or https:// URL");
}

const rolloutStep = z
  .number()
  .gt(0)
  .max(100)
  .refine((value) => percentToBp(value) !== undefined, "has more than two decimals");

const rollout = z
  .strictObject({
    target: name,
    baseline: name,
    steps: z
      .array(rolloutStep)
      .min(1)
      .default([5, 10, 25, 50, 100])
      .superRefine((steps, ctx) => {
        for (let i = 1; i < steps.length; i++) {
          if ((steps[i] ?? 0) <= (steps[i - 1] ?? 0)) {
            ctx.addIssue({ code: "custom", message: "steps must increase", path: [i] });
          }
        }
        if (steps[steps.length - 1] !== 100) {
          ctx.addIssue({ code: "custom", message: "the last step must be 100" });
        }
      }),
    interval: duration.default(300_000),
    minRequests: z.number().int().min(1).default(200),
    failureLimit: positiveInt.default(2),
    checks: z.array(check).default([
      { metric: "errorRate", max: 0.05, action: "rollback" },
      { metric: "latencyP95Ratio", max: 2.0, action: "hold" },
      { metric: "availability", min: 0.95, window: 120_000, action: "rollback" },
    ]),
    approvalBefore: z.array(rolloutStep).default([100]),
    /** A step held longer than this pauses the rollout (optional). */
    progressDeadline: duration.optional(),
    webhooks: z.array(webhook).default([]),
  })
  .superRefine((value, ctx) => {
    // An approval gate on a step that never comes would silently never stop the rollout.
    value.approvalBefore.forEach((step, i) => {
      if (!value.steps.includes(step)) {
        ctx.addIssue({
          code: "custom",
          message: `${step} is not one of the steps (${value.steps.join(", ")})`,
          path: ["approvalBefore", i],
        });
      }
    });
  });

const routeMatch = z.strictObject({
  hosts: z.array(z.string().min(1)).min(1).optional(),
  pathPrefix: z.string().startsWith("/").default("/"),
});

const route = z.strictObject({
  name,
  match: routeMatch.prefault({}),
  split: z.record(name, percent).refine((split) => Object.keys(split).length > 0, {
    message: "a split needs at least one upstream",
  }),
  rules: z.array(rule).default([]),
  sticky: sticky.optional(),
  fallback: z.boolean().default(true),
  retries: retries.prefault({}),
  rollout: rollout.optional(),
});

const adminToken = z.strictObject({
  name: z.string().min(1),
  scope: z.enum(["read", "write"]),
  token: z.string().min(16, "a token needs at least 16 characters"),
});

/** A host name the admin API answers to besides IP literals and localhost; `*.` for any below. */
const ALLOWED_HOST_PATTERN =
  /^(?:\*\.)?[a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?(?:\.[a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?)*$/i;

const allowedHost = z.string().refine((text) => ALLOWED_HOST_PATTERN.test(text), {
  error: (issue) =>
    `${JSON.stringify(issue.input)} is not a host name; write a name without scheme or port ` +
    '(e.g. switchyard-admin.shop.svc), or "*." and a name for every name below it',
});

const server = z.strictObject({
  headersTimeout: duration.default(10_000),
  requestTimeout: duration.default(300_000),
  keepAliveTimeout: duration.default(65_000),
  maxHeaderSize: z.number().int().min(1024).max(1_048_576).default(16_384),
  drainDelay: duration.default(5000),
  drainTimeout: duration.default(30_000),
  /** Open client connections on the proxy listener; more are closed at once. */
  maxConnections: positiveInt.default(10_000),
});

const configObject = z.strictObject({
  listen: z
    .strictObject({
      proxy: listenAddress.default({ host: "0.0.0.0", port: 8080 }),
      admin: listenAddress.default({ host: "127.0.0.1", port: 9901 }),
    })
    .prefault({}),
  admin: z
    .strictObject({
      tokens: z.array(adminToken).default([]),
      publicMetrics: z.boolean().default(true),
      allowedHosts: z.array(allowedHost).default([]),
    })
    .prefault({}),
  state: z.strictObject({ file: z.string().min(1) }).optional(),
  upstreams: z.record(name, upstream).refine((u) => Object.keys(u).length > 0, {
    message: "at least one upstream is needed",
  }),
  routes: z.array(route).min(1, "at least one route is needed"),
  forwarded: z.strictObject({ trust: z.boolean().default(false) }).prefault({}),
  server: server.prefault({}),
  fleet: fleet.optional(),
  workers,
});

/**
 * The fields alone, without the cross-reference rules. The loader runs those rules itself
 * (findReferenceIssues) so they are reported even when a field is also wrong.
 */
export const configFieldsSchema = configObject;

export const configSchema = configObject.superRefine(checkReferences);

/** Cross-field rules that one field's schema cannot see (see references.ts). */
function checkReferences(config: z.output<typeof configObject>, ctx: z.RefinementCtx): void {
  for (const issue of findReferenceIssues(config, readBasisPointWeight)) {
    ctx.addIssue({ code: "custom", message: issue.message, path: [...issue.path] });
  }
}

export type Config = z.output<typeof configSchema>;
export type UpstreamConfig = Config["upstreams"][string];
export type RouteConfig = Config["routes"][number];
export type RuleConfig = RouteConfig["rules"][number];
export type RolloutConfig = NonNullable<RouteConfig["rollout"]>;
export type HealthCheckConfig = NonNullable<UpstreamConfig["healthCheck"]>;
export type ListenAddress = Config["listen"]["proxy"];
export type FleetConfig = NonNullable<Config["fleet"]>;
