import { describe, expect, it } from "vitest";
import {
  backoffDelayMs,
  describeDeliveryError,
  isRetryableStatus,
  retryAfterMs,
} from "../../../src/rollout/webhook-retry.ts";

describe("isRetryableStatus", () => {
  it("retries 5xx and 429, nothing else", () => {
    for (const status of [429, 500, 502, 503, 504, 599])
      expect(isRetryableStatus(status)).toBe(true);
    for (const status of [200, 204, 301, 400, 401, 403, 404, 409, 413, 422]) {
      expect(isRetryableStatus(status)).toBe(false);
    }
  });
});

describe("backoffDelayMs", () => {
  it("doubles from the base, half fixed and half jitter", () => {
    expect([1, 2, 3, 4].map((n) => backoffDelayMs(n, 500, 30_000, 0))).toEqual([
      250, 500, 1000, 2000,
    ]);
    expect([1, 2, 3, 4].map((n) => backoffDelayMs(n, 500, 30_000, 0.999_999))).toEqual([
      500, 1000, 2000, 4000,
    ]);
    expect(backoffDelayMs(2, 500, 30_000, 0.5)).toBe(750);
  });

  it("never exceeds the cap, even after many attempts", () => {
    expect(backoffDelayMs(7, 500, 30_000, 0.999_999)).toBe(30_000);
    expect(backoffDelayMs(1000, 500, 30_000, 0.999_999)).toBe(30_000);
    expect(backoffDelayMs(1000, 500, 30_000, 0)).toBe(15_000);
  });
});

describe("retryAfterMs", () => {
  const now = Date.UTC(2026, 0, 1, 12, 0, 0);

  it("reads seconds and HTTP dates", () => {
    expect(retryAfterMs("3", now)).toBe(3000);
    expect(retryAfterMs(["7"], now)).toBe(7000);
    expect(retryAfterMs(new Date(now + 10_000).toUTCString(), now)).toBe(10_000);
    expect(retryAfterMs(new Date(now - 10_000).toUTCString(), now)).toBe(0);
  });

  it("ignores an absent or unreadable header", () => {
    expect(retryAfterMs(undefined, now)).toBeUndefined();
    expect(retryAfterMs("", now)).toBeUndefined();
    expect(retryAfterMs("soon", now)).toBeUndefined();
    expect(retryAfterMs("-5", now)).toBeUndefined();
  });
});

describe("describeDeliveryError", () => {
  it("names common network failures shortly", () => {
    const refused = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:1"), {
      code: "ECONNREFUSED",
    });
    expect(describeDeliveryError(refused)).toBe("connection refused");
    const other = Object.assign(new Error("odd"), { code: "UND_ERR_ODD" });
    expect(describeDeliveryError(other)).toBe("UND_ERR_ODD: odd");
    expect(describeDeliveryError("nope")).toBe("request failed");
  });
});
