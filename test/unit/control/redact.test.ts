/** `GET /api/v1/config` shows the effective config with every admin token redacted (SPEC 7). */
import { describe, expect, it } from "vitest";
import { configSchema } from "../../../src/config/schema.ts";
import { REDACTED, redactConfig } from "../../../src/control/redact.ts";

const SECRET_READ = "read-secret-0123456789abcdef";
const SECRET_WRITE = "write-secret-0123456789abcdef";

function config(tokens: { name: string; scope: "read" | "write"; token: string }[]) {
  return configSchema.parse({
    admin: { tokens },
    upstreams: { stable: { endpoints: ["http://127.0.0.1:1"] } },
    routes: [{ name: "web", split: { stable: 100 } }],
  });
}

describe("redactConfig", () => {
  it.each([
    ["no tokens", []],
    ["one token", [{ name: "ops", scope: "write", token: SECRET_WRITE }]],
    [
      "several tokens",
      [
        { name: "dashboards", scope: "read", token: SECRET_READ },
        { name: "ops", scope: "write", token: SECRET_WRITE },
      ],
    ],
  ] as const)("redacts every token with %s, and keeps names and scopes", (_case, tokens) => {
    const original = config([...tokens]);
    const shown = redactConfig(original) as typeof original;
    expect(shown.admin.tokens).toEqual(
      tokens.map(({ name, scope }) => ({ name, scope, token: REDACTED })),
    );
    expect(JSON.stringify(shown)).not.toMatch(/secret/);
    // The rest of the config is shown as it is.
    expect({ ...shown, admin: undefined }).toEqual({ ...original, admin: undefined });
    expect(shown.admin.publicMetrics).toBe(original.admin.publicMetrics);
  });

  it("leaves the running config's tokens untouched", () => {
    const original = config([{ name: "ops", scope: "write", token: SECRET_WRITE }]);
    redactConfig(original);
    expect(original.admin.tokens[0]?.token).toBe(SECRET_WRITE);
  });
});

describe("redactConfig with a fleet", () => {
  function fleetConfig(redis: string) {
    return configSchema.parse({
      upstreams: { stable: { endpoints: ["http://127.0.0.1:1"] } },
      routes: [{ name: "web", split: { stable: 100 } }],
      fleet: { redis, name: "shop" },
    });
  }

  it.each([
    ["redis://ops:s3cret-pw@10.0.0.5:6379/0", "redis://ops:***@10.0.0.5:6379/0"],
    ["rediss://:s3cret-pw@redis.example.com:6380", "rediss://:***@redis.example.com:6380"],
    ["redis://127.0.0.1:6379/0", "redis://127.0.0.1:6379/0"],
  ])("shows %s as %s and the rest of the block as it is", (url, shown) => {
    const original = fleetConfig(url);
    const redacted = redactConfig(original) as typeof original;
    expect(redacted.fleet).toEqual({ ...original.fleet, redis: shown });
    expect(JSON.stringify(redacted)).not.toContain("s3cret");
    expect(original.fleet?.redis).toBe(url);
  });

  it("adds no fleet key to a config without one", () => {
    const original = config([]);
    expect(Object.keys(redactConfig(original) as object)).not.toContain("fleet");
  });
});
