/**
 * 95% confidence intervals for error rates, used by the fast rollback to act only on failures
 * that are already certain: the Wilson score interval for one proportion and Newcombe's hybrid
 * score interval (his method 10, built from two Wilson intervals) for a difference of two.
 * Both stay inside [0, 1] (or [-1, 1]) and behave at 0 and 100% where the textbook
 * normal approximation collapses to a zero-width interval.
 */

/** The two-sided 95% normal quantile: each bound is exceeded by chance in 2.5% of windows. */
export const Z_95 = 1.959963984540054;

export interface Interval {
  lower: number;
  upper: number;
}

/**
 * Wilson score interval of `successes / trials`. With no trials nothing is known, and the
 * interval is the whole range [0, 1].
 */
export function wilsonInterval(successes: number, trials: number, z: number = Z_95): Interval {
  if (!(trials > 0)) return { lower: 0, upper: 1 };
  const p = clamp(successes / trials, 0, 1);
  const z2 = z * z;
  const denominator = 1 + z2 / trials;
  const center = (p + z2 / (2 * trials)) / denominator;
  const halfWidth =
    (z / denominator) * Math.sqrt((p * (1 - p)) / trials + z2 / (4 * trials * trials));
  // At 0% and 100% the bound on that side is exactly 0 or 1; rounding would leave dust.
  return {
    lower: p === 0 ? 0 : clamp(center - halfWidth, 0, 1),
    upper: p === 1 ? 1 : clamp(center + halfWidth, 0, 1),
  };
}

/**
 * Interval of p1 - p2 (p1 = x1/n1, p2 = x2/n2) by Newcombe's hybrid score method: the distance
 * from each estimate to its own Wilson bound, combined in quadrature. Without trials on a side
 * that side's proportion is unknown, and the interval is the whole range [-1, 1].
 */
export function differenceInterval(
  x1: number,
  n1: number,
  x2: number,
  n2: number,
  z: number = Z_95,
): Interval {
  if (!(n1 > 0) || !(n2 > 0)) return { lower: -1, upper: 1 };
  const p1 = clamp(x1 / n1, 0, 1);
  const p2 = clamp(x2 / n2, 0, 1);
  const w1 = wilsonInterval(x1, n1, z);
  const w2 = wilsonInterval(x2, n2, z);
  const difference = p1 - p2;
  return {
    lower: clamp(difference - Math.hypot(p1 - w1.lower, w2.upper - p2), -1, 1),
    upper: clamp(difference + Math.hypot(w1.upper - p1, p2 - w2.lower), -1, 1),
  };
}

function clamp(value: number, low: number, high: number): number {
  return Math.min(high, Math.max(low, value));
}
