import { describe, expect, it } from "vitest";
import type { AdminToken } from "../../../src/admin/auth.ts";
import { checkAdminExposure, isLoopbackHost } from "../../../src/config/admin-exposure.ts";

const READ: AdminToken = { name: "dashboards", scope: "read", token: "read-token-0123456789" };
const WRITE: AdminToken = { name: "ops", scope: "write", token: "write-token-0123456789" };

describe("isLoopbackHost", () => {
  it.each([
    ["127.0.0.1", true],
    ["127.1.2.3", true],
    ["127.255.255.255", true],
    ["::1", true],
    ["0:0:0:0:0:0:0:1", true],
    ["[::1]", true],
    ["::ffff:127.0.0.1", true],
    ["localhost", true],
    ["LocalHost", true],
    ["0.0.0.0", false],
    ["::", false],
    ["128.0.0.1", false],
    ["10.0.0.1", false],
    ["::ffff:10.0.0.1", false],
    ["192.168.1.10", false],
    ["admin.example.com", false],
    ["localhost.example.com", false],
  ])("%s -> %s", (host, expected) => {
    expect(isLoopbackHost(host)).toBe(expected);
  });
});

describe("checkAdminExposure", () => {
  it("allows a loopback admin address with or without tokens", () => {
    expect(checkAdminExposure({ host: "127.0.0.1", port: 9901 }, [])).toBeUndefined();
    expect(checkAdminExposure({ host: "::1", port: 9901 }, [READ])).toBeUndefined();
    expect(checkAdminExposure({ host: "localhost", port: 9901 }, [])).toBeUndefined();
  });

  it("allows a non-loopback admin address with a write token", () => {
    expect(checkAdminExposure({ host: "0.0.0.0", port: 9901 }, [READ, WRITE])).toBeUndefined();
  });

  it("refuses a non-loopback admin address without a write token, saying how to fix it", () => {
    for (const tokens of [[], [READ]]) {
      const refusal = checkAdminExposure({ host: "0.0.0.0", port: 9901 }, tokens);
      expect(refusal).toMatch(/^listen\.admin is 0\.0\.0\.0:9901, which is not a loopback address/);
      expect(refusal).toContain("scope: write");
      expect(refusal).toContain("127.0.0.1");
    }
    expect(checkAdminExposure({ host: "::", port: 9901 }, [])).toMatch(
      /^listen\.admin is \[::\]:9901/,
    );
  });
});
