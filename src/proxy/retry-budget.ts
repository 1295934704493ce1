/**
 * A route's retry budget: retries may be at most `budgetPercent` of the route's recent client
 * requests. "Recent" is a rolling window of fixed buckets (10 × 1 s by default): the current,
 * partly filled bucket and the full ones before it, so the window spans between 9 and 10 s.
 * Every call is O(1) (at most one pass over the buckets when time moves on) with fixed memory.
 *
 * Retries are not counted as requests. Record the client request before asking `canRetry`.
 */
export const RETRY_WINDOW_MS = 10_000;
export const RETRY_WINDOW_BUCKETS = 10;

export class RetryBudget {
  #budgetPercent: number;
  private readonly bucketMs: number;
  private readonly requestsByBucket: number[];
  private readonly retriesByBucket: number[];
  /** Number of the bucket that holds `now` (time / bucketMs), or -1 before the first call. */
  private currentBucket = -1;
  private requestTotal = 0;
  private retryTotal = 0;
  /** Retries allowed per window whatever the traffic, so a quiet route still retries. */
  private readonly minRetries: number;

  constructor(
    budgetPercent: number,
    windowMs = RETRY_WINDOW_MS,
    bucketCount = RETRY_WINDOW_BUCKETS,
    minRetries = 0,
  ) {
    this.#budgetPercent = budgetPercent;
    this.minRetries = minRetries;
    this.bucketMs = Math.max(1, Math.floor(windowMs / bucketCount));
    this.requestsByBucket = new Array<number>(bucketCount).fill(0);
    this.retriesByBucket = new Array<number>(bucketCount).fill(0);
  }

  /** A reload changed the percentage; the counts carry over. */
  get budgetPercent(): number {
    return this.#budgetPercent;
  }

  update(budgetPercent: number): void {
    this.#budgetPercent = budgetPercent;
  }

  recordRequest(nowMs: number): void {
    const index = this.advance(nowMs);
    this.requestsByBucket[index] = (this.requestsByBucket[index] ?? 0) + 1;
    this.requestTotal++;
  }

  recordRetry(nowMs: number): void {
    const index = this.advance(nowMs);
    this.retriesByBucket[index] = (this.retriesByBucket[index] ?? 0) + 1;
    this.retryTotal++;
  }

  /**
   * True while one more retry keeps retries within `budgetPercent` of the window's requests,
   * or within `minRetries` (when the budget is not 0).
   */
  canRetry(nowMs: number): boolean {
    this.advance(nowMs);
    if (this.#budgetPercent > 0 && this.retryTotal < this.minRetries) return true;
    // Multiplied out rather than divided: exact for whole percentages.
    return (this.retryTotal + 1) * 100 <= this.#budgetPercent * this.requestTotal;
  }

  /** Client requests in the window. */
  get requestCount(): number {
    return this.requestTotal;
  }

  /** Retries in the window. */
  get retryCount(): number {
    return this.retryTotal;
  }

  /** Moves the window to `nowMs`, emptying buckets that fell out; returns the current index. */
  private advance(nowMs: number): number {
    const bucketCount = this.requestsByBucket.length;
    const bucket = Math.max(0, Math.floor(nowMs / this.bucketMs));
    // Time that goes backwards (it should not) counts in the current bucket.
    if (bucket > this.currentBucket) {
      const firstStale = Math.max(this.currentBucket + 1, bucket - bucketCount + 1);
      for (let stale = firstStale; stale <= bucket; stale++) {
        const index = stale % bucketCount;
        this.requestTotal -= this.requestsByBucket[index] ?? 0;
        this.retryTotal -= this.retriesByBucket[index] ?? 0;
        this.requestsByBucket[index] = 0;
        this.retriesByBucket[index] = 0;
      }
      this.currentBucket = bucket;
    }
    return this.currentBucket % bucketCount;
  }
}
