import { describe, expect, it } from "vitest";
import { RetryBudget } from "../../../src/proxy/retry-budget.ts";

function recordRequests(budget: RetryBudget, count: number, nowMs: number): void {
  for (let i = 0; i < count; i++) budget.recordRequest(nowMs);
}

/** Retries taken while the budget allows, up to `limit`. */
function takeRetries(budget: RetryBudget, nowMs: number, limit = 1000): number {
  let taken = 0;
  while (taken < limit && budget.canRetry(nowMs)) {
    budget.recordRetry(nowMs);
    taken++;
  }
  return taken;
}

describe("RetryBudget", () => {
  it("allows no retry before any request", () => {
    expect(new RetryBudget(20).canRetry(0)).toBe(false);
  });

  it.each([
    { budgetPercent: 20, requests: 10, retries: 2 },
    { budgetPercent: 20, requests: 14, retries: 2 },
    { budgetPercent: 20, requests: 15, retries: 3 },
    { budgetPercent: 20, requests: 4, retries: 0 },
    { budgetPercent: 20, requests: 5, retries: 1 },
    { budgetPercent: 0, requests: 100, retries: 0 },
    { budgetPercent: 100, requests: 7, retries: 7 },
    { budgetPercent: 12.5, requests: 16, retries: 2 },
  ])(
    "$budgetPercent% of $requests requests allows $retries retries",
    ({ budgetPercent, requests, retries }) => {
      const budget = new RetryBudget(budgetPercent);
      recordRequests(budget, requests, 1000);
      expect(takeRetries(budget, 1000)).toBe(retries);
      expect(budget.retryCount).toBe(retries);
    },
  );

  it("counts requests and retries over the last ten one-second buckets", () => {
    const budget = new RetryBudget(20);
    recordRequests(budget, 10, 0);
    expect(takeRetries(budget, 500)).toBe(2);
    // Bucket 0 (0..999 ms) is still in the window up to 9999 ms.
    recordRequests(budget, 5, 9999);
    expect(budget.requestCount).toBe(15);
    expect(takeRetries(budget, 9999)).toBe(1);
    // At 10000 ms bucket 0 drops out with its 10 requests and 2 retries.
    expect(budget.canRetry(10_000)).toBe(false);
    expect(budget.requestCount).toBe(5);
    expect(budget.retryCount).toBe(1);
    recordRequests(budget, 5, 10_000);
    expect(takeRetries(budget, 10_000)).toBe(1);
  });

  it("forgets everything after a gap longer than the window", () => {
    const budget = new RetryBudget(50);
    recordRequests(budget, 100, 3000);
    takeRetries(budget, 3000);
    expect(budget.retryCount).toBe(50);
    expect(budget.canRetry(3_600_000)).toBe(false);
    expect(budget.requestCount).toBe(0);
    expect(budget.retryCount).toBe(0);
  });

  it("drops buckets one at a time as time moves on", () => {
    const budget = new RetryBudget(100);
    for (let second = 0; second < 10; second++) budget.recordRequest(second * 1000);
    expect(budget.requestCount).toBe(10);
    for (let second = 10; second < 20; second++) {
      budget.canRetry(second * 1000);
      expect(budget.requestCount).toBe(19 - second);
    }
  });

  it("counts a time that goes backwards in the current bucket", () => {
    const budget = new RetryBudget(100);
    budget.recordRequest(5000);
    budget.recordRequest(1000);
    expect(budget.requestCount).toBe(2);
    expect(budget.canRetry(14_999)).toBe(true);
    expect(budget.canRetry(15_000)).toBe(false);
  });

  it("keeps the counts when a reload changes the percentage", () => {
    const budget = new RetryBudget(10);
    recordRequests(budget, 20, 0);
    expect(takeRetries(budget, 0)).toBe(2);
    budget.update(25);
    expect(takeRetries(budget, 0)).toBe(3);
    budget.update(5);
    expect(budget.canRetry(0)).toBe(false);
  });

  it("takes a custom window and bucket count", () => {
    const budget = new RetryBudget(100, 1000, 4);
    budget.recordRequest(0);
    expect(budget.canRetry(999)).toBe(true);
    expect(budget.canRetry(1000)).toBe(false);
  });
});

describe("a minimum number of retries per window", () => {
  it("lets a quiet route retry up to the minimum, then applies the percentage", () => {
    const budget = new RetryBudget(20, 10_000, 10, 3);
    budget.recordRequest(0);
    for (let i = 0; i < 3; i++) {
      expect(budget.canRetry(0)).toBe(true);
      budget.recordRetry(0);
    }
    // 20% of 1 request allows none beyond the minimum.
    expect(budget.canRetry(0)).toBe(false);
    // 20 more requests: 20% of 21 is 4.2, so one more retry.
    for (let i = 0; i < 20; i++) budget.recordRequest(0);
    expect(budget.canRetry(0)).toBe(true);
  });

  it("gives nothing to a budget of 0", () => {
    const budget = new RetryBudget(0, 10_000, 10, 3);
    budget.recordRequest(0);
    expect(budget.canRetry(0)).toBe(false);
  });
});
