/** Renders the demo's "who served what" table as aligned text. */
import type { ServedCounts, TrafficKind } from "./traffic.ts";

export function formatServedTable(served: ServedCounts, kinds: readonly TrafficKind[]): string {
  const columns = new Set<string>(["v1", "v2"]);
  for (const counts of served.values()) for (const key of counts.keys()) columns.add(key);
  const header = ["traffic", ...columns, "total"];
  const rows = kinds.map((kind) => {
    const counts = served.get(kind.label) ?? new Map<string, number>();
    let total = 0;
    for (const n of counts.values()) total += n;
    const cells = [...columns].map((c) => {
      const n = counts.get(c) ?? 0;
      return total === 0 ? "0" : `${n} (${((100 * n) / total).toFixed(1)}%)`;
    });
    return [kind.label, ...cells, String(total)];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]): string =>
    cells
      .map((cell, i) => cell.padEnd(widths[i] ?? 0))
      .join("  ")
      .trimEnd();
  return [line(header), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n");
}
