/** The `fleet` block (SPEC 10): defaults, `${ENV}`, and each problem at its line and column. */
import { describe, expect, it } from "vitest";
import type { ConfigProblem } from "../../../src/config/load.ts";
import { loadProblems, loadValidConfig, yamlLines } from "../../support/config-fixtures.ts";

/** Lines 1-4 of every case: a valid config without `fleet`; the fleet block starts at line 5. */
const BASE = [
  "upstreams:",
  "  stable: { endpoints: [http://127.0.0.1:9001] }",
  "routes:",
  "  - { name: web, split: { stable: 100 } }",
];

function fleetOf(lines: string[], env: NodeJS.ProcessEnv = {}) {
  return loadValidConfig(yamlLines(...BASE, ...lines), env).fleet;
}

function problemsOf(lines: string[], env: NodeJS.ProcessEnv = {}): string[] {
  return loadProblems(yamlLines(...BASE, ...lines), env).map(
    (p: ConfigProblem) => `${p.line}:${p.column}: ${p.path}: ${p.message}`,
  );
}

describe("the fleet block", () => {
  it("is off when absent", () => {
    expect(loadValidConfig(yamlLines(...BASE)).fleet).toBeUndefined();
  });

  it("takes redis and name, and defaults leaseTtl and syncTimeout to 10s", () => {
    expect(fleetOf(["fleet:", "  redis: redis://127.0.0.1:6379/0", "  name: shop"])).toEqual({
      redis: "redis://127.0.0.1:6379/0",
      name: "shop",
      leaseTtl: 10_000,
      syncTimeout: 10_000,
    });
  });

  it("reads every key, durations in milliseconds", () => {
    expect(
      fleetOf([
        "fleet:",
        "  redis: rediss://ops:s3cret@redis.internal:6380/2",
        "  name: shop.eu-1_a",
        "  replica: pod-7",
        "  leaseTtl: 1500ms",
        "  syncTimeout: 0s",
        "  tls: { ca: /etc/ssl/redis-ca.pem }",
      ]),
    ).toEqual({
      redis: "rediss://ops:s3cret@redis.internal:6380/2",
      name: "shop.eu-1_a",
      replica: "pod-7",
      leaseTtl: 1500,
      syncTimeout: 0,
      tls: { ca: "/etc/ssl/redis-ca.pem" },
    });
  });

  it.each([
    ["a password without a user", "redis://:pw@127.0.0.1"],
    ["no port and no database", "redis://localhost"],
    ["a trailing slash", "redis://localhost:6379/"],
    ["an IPv6 host", "redis://[::1]:6379/1"],
    ["upper-case scheme", "REDIS://localhost"],
  ])("accepts a URL with %s", (_case, url) => {
    expect(fleetOf(["fleet:", `  redis: "${url}"`, "  name: shop"])?.redis).toBe(url);
  });

  it("takes the URL from ${ENV}", () => {
    const env = { REDIS_URL: "redis://:pw@10.0.0.5:6379/3" };
    expect(fleetOf(["fleet:", "  redis: ${REDIS_URL}", "  name: shop"], env)?.redis).toBe(
      env.REDIS_URL,
    );
  });

  it("says which variable is missing, once", () => {
    expect(problemsOf(["fleet:", "  redis: ${REDIS_URL}", "  name: shop"])).toEqual([
      "6:10: fleet.redis: environment variable REDIS_URL is not set (set it, or write ${REDIS_URL:-default} for a fallback)",
    ]);
  });

  it.each([
    ["absent", []],
    ["empty from ${HOSTNAME:-}", ["  replica: ${HOSTNAME:-}"]],
  ])("leaves replica unset when it is %s (the default is computed at startup)", (_case, lines) => {
    const fleet = fleetOf(["fleet:", "  redis: redis://127.0.0.1", "  name: shop", ...lines]);
    expect(fleet?.replica).toBeUndefined();
  });

  it("takes replica from ${HOSTNAME}", () => {
    const lines = [
      "fleet:",
      "  redis: redis://127.0.0.1",
      "  name: shop",
      "  replica: ${HOSTNAME}",
    ];
    expect(fleetOf(lines, { HOSTNAME: "web-5d8f-x2" })?.replica).toBe("web-5d8f-x2");
  });
});

describe("fleet problems", () => {
  it.each<[string, string[], string[]]>([
    [
      "a missing redis and name",
      ["fleet: { leaseTtl: 5s }"],
      [
        '5:1: fleet.name: required key "name" is missing',
        '5:1: fleet.redis: required key "redis" is missing',
      ],
    ],
    [
      "another scheme, with its password hidden",
      ["fleet:", "  redis: http://ops:s3cret@127.0.0.1:6379", "  name: shop"],
      [
        '6:10: fleet.redis: "http://ops:***@127.0.0.1:6379" must start with redis:// or rediss:// (TLS)',
      ],
    ],
    [
      "text without a scheme, with its password hidden",
      ["fleet:", "  redis: ops:s3cret@127.0.0.1", "  name: shop"],
      ['6:10: fleet.redis: "ops:***@127.0.0.1" must start with redis:// or rediss:// (TLS)'],
    ],
    [
      "a path that is not a database",
      ["fleet:", "  redis: redis://127.0.0.1:6379/shop", "  name: shop"],
      [
        '6:10: fleet.redis: "redis://127.0.0.1:6379/shop" has a path that is not a database number; write /0, /1, ... or nothing',
      ],
    ],
    [
      "a query",
      ["fleet:", "  redis: redis://127.0.0.1:6379/0?timeout=5", "  name: shop"],
      [
        '6:10: fleet.redis: "redis://127.0.0.1:6379/0?timeout=5" must not have a query or a fragment (nothing after ? or #)',
      ],
    ],
    [
      "a user without a password",
      ["fleet:", "  redis: redis://s3cret@127.0.0.1", "  name: shop"],
      [
        '6:10: fleet.redis: "redis://***@127.0.0.1" names a user without a password; write redis://USER:PASSWORD@HOST:PORT, or redis://:PASSWORD@HOST:PORT for the default user',
      ],
    ],
    [
      "no host",
      ["fleet:", "  redis: 'redis://:6379'", "  name: shop"],
      [
        '6:10: fleet.redis: "redis://:6379" is not a URL; write it like redis://HOST:6379/0 (or rediss:// for TLS)',
      ],
    ],
    [
      "an empty name",
      ["fleet:", "  redis: redis://127.0.0.1", "  name: ''"],
      ["7:9: fleet.name: must not be empty"],
    ],
    [
      "a name that would break a Redis key, and a replica too",
      ["fleet:", "  redis: redis://127.0.0.1", "  name: 'shop:eu'", "  replica: 'pod 7'"],
      [
        "7:9: fleet.name: must start with a letter or digit and hold only letters, digits, '_', '.', '-' (it becomes part of Redis keys)",
        "8:12: fleet.replica: must start with a letter or digit and hold only letters, digits, '_', '.', '-' (it becomes part of Redis keys)",
      ],
    ],
    [
      "a lease under 1s and a duration without a unit",
      [
        "fleet:",
        "  redis: redis://127.0.0.1",
        "  name: shop",
        "  leaseTtl: 999ms",
        "  syncTimeout: 5",
      ],
      [
        "8:13: fleet.leaseTtl: must be at least 1s (replicas heartbeat every second)",
        "9:16: fleet.syncTimeout: 5 has no unit; write a duration like 5ms or 5s",
      ],
    ],
    [
      "tls on a plain redis:// URL",
      ["fleet:", "  redis: redis://127.0.0.1", "  name: shop", "  tls: { ca: ca.pem }"],
      [
        "8:3: fleet.tls: tls applies only to a rediss:// URL; write fleet.redis as rediss://... or remove tls",
      ],
    ],
    [
      "tls without its ca, and an unknown key",
      ["fleet:", "  redis: rediss://127.0.0.1", "  name: shop", "  tls: {}", "  leaseTTL: 5s"],
      [
        '8:3: fleet.tls.ca: required key "ca" is missing',
        '9:3: fleet.leaseTTL: unknown key "leaseTTL"; did you mean "leaseTtl"?',
      ],
    ],
  ])("%s", (_case, lines, expected) => {
    expect(problemsOf(lines)).toEqual(expected);
  });

  it("never shows the password of a URL from ${ENV} in a problem", () => {
    const env = { REDIS_URL: "redis://ops:s3cret@127.0.0.1:6379/db" };
    const problems = problemsOf(["fleet:", "  redis: ${REDIS_URL}", "  name: shop"], env);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain("ops:***@");
    expect(problems.join("\n")).not.toContain("s3cret");
  });
});
