/** Numbers as they appear in a decision's reason: short, but never misleading. */

const UNITS: readonly (readonly [string, number])[] = [
  ["h", 3_600_000],
  ["m", 60_000],
  ["s", 1000],
];

/** 300000 -> "5m", 90000 -> "90s", 1500 -> "1500ms": the largest unit that divides exactly. */
export function formatDurationMs(ms: number): string {
  for (const [unit, unitMs] of UNITS) {
    if (ms > 0 && ms % unitMs === 0) return `${ms / unitMs}${unit}`;
  }
  return `${ms}ms`;
}

/** 1204 -> "1,204". Grouped by hand so the text does not depend on the host's locale data. */
export function formatCount(count: number): string {
  const [whole = "0", fraction] = String(Math.round(count * 100) / 100).split(".");
  const grouped = whole.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  return fraction === undefined ? grouped : `${grouped}.${fraction}`;
}

/**
 * Three significant digits (never fewer than the integer part has), and more when rounding
 * would hide which side of a threshold the value is on: 0.94996 against min 0.95 reads
 * "0.94996", not "0.95".
 */
export function formatNumber(
  value: number,
  thresholds: readonly (number | undefined)[] = [],
): string {
  if (!Number.isFinite(value)) return String(value);
  const integerDigits = value === 0 ? 1 : Math.floor(Math.log10(Math.abs(value))) + 1;
  for (let digits = Math.max(3, integerDigits); digits <= 17; digits++) {
    const shown = Number(value.toPrecision(Math.min(digits, 100)));
    const isFaithful = thresholds.every(
      (threshold) =>
        threshold === undefined || Math.sign(shown - threshold) === Math.sign(value - threshold),
    );
    if (isFaithful) return String(shown);
  }
  return String(value);
}
