/** One retry budget per route name, kept across reloads (its window is recent traffic). */
import type { CompiledRoute } from "../routing/route-table.ts";
import { RETRY_WINDOW_BUCKETS, RETRY_WINDOW_MS, RetryBudget } from "./retry-budget.ts";

/**
 * Retries every route may make per window whatever its traffic (as Envoy's retry budgets have
 * a minimum): at 20% a route needs 5 requests in the window before its first retry otherwise,
 * so the first failures after a quiet spell would reach clients.
 */
export const MIN_RETRIES_PER_WINDOW = 3;

export class RetryBudgets {
  private readonly byRoute = new Map<string, RetryBudget>();

  /** The route's budget, with this request counted. */
  countRequest(route: CompiledRoute, nowMs: number): RetryBudget {
    const percent = route.config.retries.budgetPercent;
    let budget = this.byRoute.get(route.name);
    if (budget === undefined) {
      budget = new RetryBudget(
        percent,
        RETRY_WINDOW_MS,
        RETRY_WINDOW_BUCKETS,
        MIN_RETRIES_PER_WINDOW,
      );
      this.byRoute.set(route.name, budget);
    } else if (budget.budgetPercent !== percent) {
      budget.update(percent);
    }
    budget.recordRequest(nowMs);
    return budget;
  }
}
