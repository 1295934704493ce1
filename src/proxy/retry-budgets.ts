/** One retry budget per route name, kept across reloads (its window is recent traffic). */
import type { CompiledRoute } from "../routing/route-table.ts";
import { RetryBudget } from "./retry-budget.ts";

export class RetryBudgets {
  private readonly byRoute = new Map<string, RetryBudget>();

  /** The route's budget, with this request counted. */
  countRequest(route: CompiledRoute, nowMs: number): RetryBudget {
    const percent = route.config.retries.budgetPercent;
    let budget = this.byRoute.get(route.name);
    if (budget === undefined) {
      budget = new RetryBudget(percent);
      this.byRoute.set(route.name, budget);
    } else if (budget.budgetPercent !== percent) {
      budget.update(percent);
    }
    budget.recordRequest(nowMs);
    return budget;
  }
}
