/** How `fleet.redis` is shown wherever it appears: never with its password (SPEC 10). */
import { describe, expect, it } from "vitest";
import { isTlsRedisUrl, redactRedisUrl } from "../../../src/config/redis-url.ts";

describe("redactRedisUrl", () => {
  it.each([
    ["user and password", "redis://ops:s3cret@10.0.0.5:6379/0", "redis://ops:***@10.0.0.5:6379/0"],
    ["password only", "redis://:s3cret@10.0.0.5:6379", "redis://:***@10.0.0.5:6379"],
    [
      "TLS",
      "rediss://default:s3cret@redis.example.com:6380/1",
      "rediss://default:***@redis.example.com:6380/1",
    ],
    ["no credentials", "redis://127.0.0.1:6379/0", "redis://127.0.0.1:6379/0"],
    [
      "a lone userinfo, which may be a password",
      "redis://s3cret@127.0.0.1",
      "redis://***@127.0.0.1",
    ],
    [
      "a password with '@' and '/' left unencoded",
      "redis://ops:s3/c@ret@host:6379",
      "redis://ops:***@host:6379",
    ],
    ["a password with ':'", "redis://ops:s3:cret@host", "redis://ops:***@host"],
    ["a percent-encoded password", "redis://ops:s3%40cret@host", "redis://ops:***@host"],
    ["text without a scheme", "ops:s3cret@host:6379", "ops:***@host:6379"],
    ["text that is no URL at all", "not a url", "not a url"],
    ["an empty text", "", ""],
  ])("%s", (_case, url, shown) => {
    expect(redactRedisUrl(url)).toBe(shown);
    expect(redactRedisUrl(url)).not.toContain("s3");
  });

  it("keeps a user name, which is not a secret", () => {
    expect(redactRedisUrl("redis://ops:pw@h")).toContain("ops");
  });
});

describe("isTlsRedisUrl", () => {
  it.each([
    ["rediss://h:6380", true],
    ["REDISS://h", true],
    ["redis://h", false],
    ["redis://rediss.example.com", false],
  ])("%s -> %s", (url, isTls) => {
    expect(isTlsRedisUrl(url)).toBe(isTls);
  });
});
