import { describe, expect, it } from "vitest";
import { fnv1a32, hashKey, mix32 } from "../../../src/routing/hash.ts";

describe("fnv1a32", () => {
  it.each([
    ["", 0x811c9dc5],
    ["a", 0xe40c292c],
    ["foobar", 0xbf9cf968],
  ])("matches the published FNV-1a test vector for %j", (text, expected) => {
    expect(fnv1a32(text)).toBe(expected);
  });

  it("hashes a range of a larger string like the substring", () => {
    const header = "a=1; sy_id=foobar; b=2";
    expect(fnv1a32(header, 11, 17)).toBe(fnv1a32("foobar"));
  });
});

describe("mix32 and hashKey", () => {
  it("returns unsigned 32-bit integers", () => {
    for (const value of [0, 1, -1, 0x7fffffff, 0xffffffff]) {
      const mixed = mix32(value);
      expect(Number.isInteger(mixed)).toBe(true);
      expect(mixed).toBeGreaterThanOrEqual(0);
      expect(mixed).toBeLessThan(2 ** 32);
    }
  });

  it("is pinned: changing it would move every sticky client", () => {
    expect(mix32(0)).toBe(0);
    expect(mix32(1)).toBe(0x514e28b7);
    expect(hashKey("foobar")).toBe(mix32(0xbf9cf968));
  });
});
