/** Markdown for bench/results/smuggling.md, and the summary `npm run bench:smuggling` prints. */
import type { Verdict } from "./classify.ts";
import type { SmugglingResults, Totals } from "./results.ts";

const VERDICT_LABELS: Record<Verdict, string> = {
  refused: "refused",
  "forwarded-one": "forwarded, one request",
  "forwarded-unnormalised": "forwarded, not normalised",
  "forwarded-ambiguous": "forwarded, ambiguous",
  "cut-off": "cut off",
  "no-answer": "no answer",
  "answered-locally": "answered without forwarding",
};

const SHORT_LABELS: Record<Verdict, string> = {
  refused: "refused",
  "forwarded-one": "one",
  "forwarded-unnormalised": "not normalised",
  "forwarded-ambiguous": "**AMBIGUOUS**",
  "cut-off": "cut off",
  "no-answer": "no answer",
  "answered-locally": "answered",
};

/** The tables and findings, without the per-case list. */
export function smugglingSummary(results: SmugglingResults): string {
  const verdicts = shownVerdicts(results);
  const names = results.targets.map((target) => target.name);
  const lines = [
    "# Request-smuggling corpus",
    "",
    `${results.settings.cases} ambiguous or malformed HTTP/1.1 requests, each on a fresh ` +
      "connection, through each proxy to a recording origin that reads framing leniently " +
      `(bench/README.md, "Request-smuggling corpus"). Run ${results.machine.startedAt} on ` +
      `${results.machine.os}, Node ${results.machine.node}; ` +
      `nginx ${results.machine.nginx ?? "not installed"}, ` +
      `HAProxy ${results.machine.haproxy ?? "not installed"}. ` +
      `Answer timeout ${results.settings.timeoutMs} ms.`,
    "",
    "Verdicts: **refused**, an error status and nothing reached the origin; **forwarded, one " +
      "request**, the origin read exactly one clean request; **forwarded, not normalised**, one " +
      "request with clear framing but something a careful proxy refuses or rewrites (Host, " +
      "control bytes, request line, h2c upgrade); **forwarded, ambiguous**, the origin read a " +
      "second request, or framing two readers can read differently; **cut off**, the proxy " +
      "began forwarding a body, found it malformed, answered an error and closed the origin " +
      "connection mid-request; **no answer**, nothing within the timeout" +
      (verdicts.includes("answered-locally")
        ? "; **answered without forwarding**, an answer other than an error and nothing forwarded."
        : "."),
    "",
  ];
  for (const skipped of results.skipped) lines.push(`- ${skipped.name} skipped: ${skipped.reason}`);
  if (results.skipped.length > 0) lines.push("");
  lines.push(
    "## Totals",
    "",
    `| target | cases | ${verdicts.map((verdict) => VERDICT_LABELS[verdict]).join(" | ")} |`,
    `|---|---:|${verdicts.map(() => "---:").join("|")}|`,
  );
  for (const target of results.targets) {
    lines.push(
      `| ${target.name} | ${results.settings.cases} | ${verdicts
        .map((verdict) => String(target.totals[verdict]))
        .join(" | ")} |`,
    );
  }
  lines.push(
    "",
    "## By class",
    "",
    `Each cell: ${verdicts.map((verdict) => VERDICT_LABELS[verdict]).join(" / ")}.`,
    "",
    `| class | cases | ${names.join(" | ")} |`,
    `|---|---:|${names.map(() => "---").join("|")}|`,
  );
  for (const row of results.byClass) {
    const cells = names.map((name) => compact(row.targets[name], verdicts));
    lines.push(`| ${row.class} | ${row.cases} | ${cells.join(" | ")} |`);
  }

  lines.push(
    "",
    "## Forwarded ambiguously",
    "",
    "The origin read a second request, or a request whose framing two readers can read " +
      "differently (a request smuggling risk):",
    "",
    ...verdictList(results, names, "forwarded-ambiguous"),
    "",
    "## Forwarded without normalising",
    "",
    "The origin read one request with clear framing that carries something a careful proxy " +
      "refuses or rewrites:",
    "",
    ...verdictList(results, names, "forwarded-unnormalised"),
    "",
  );

  if (names.includes("switchyard") && names.length > 1) {
    lines.push(
      "",
      "## Where switchyard and the others differ",
      "",
      "Cases one side refuses (or cuts off) and the other forwards.",
      "",
      `| case | ${names.join(" | ")} | what |`,
      `|---|${names.map(() => "---").join("|")}|---|`,
    );
    for (const c of results.cases) {
      const own = c.results.switchyard?.verdict;
      if (own === undefined) continue;
      const differs = names.some((name) => {
        const other = c.results[name]?.verdict;
        return (
          other !== undefined &&
          isStopped(own) !== isStopped(other) &&
          (isForwarded(own) || isForwarded(other))
        );
      });
      if (!differs) continue;
      const verdictCells = names.map((name) => {
        const result = c.results[name];
        return result === undefined ? "" : shortVerdict(result.verdict, result.client.statuses);
      });
      lines.push(`| \`${c.name}\` | ${verdictCells.join(" | ")} | ${cell(c.about)} |`);
    }
  }
  return `${lines.join("\n")}\n`;
}

/** The summary, then every case with its verdict per target and what the origin read. */
export function smugglingMarkdown(results: SmugglingResults): string {
  const names = results.targets.map((target) => target.name);
  const lines = [
    smugglingSummary(results),
    "## Every case",
    "",
    `| case | class | what | ${names.join(" | ")} |`,
    `|---|---|---|${names.map(() => "---").join("|")}|`,
  ];
  for (const c of results.cases) {
    const cells = names.map((name) => {
      const result = c.results[name];
      return result === undefined ? "" : shortVerdict(result.verdict, result.client.statuses);
    });
    lines.push(`| \`${c.name}\` | ${c.class} | ${cell(c.about)} | ${cells.join(" | ")} |`);
  }
  lines.push(
    "",
    "## What the origin read when a proxy forwarded ambiguously or without normalising",
    "",
  );
  for (const c of results.cases) {
    const ambiguous = names.filter((name) =>
      ["forwarded-ambiguous", "forwarded-unnormalised"].includes(c.results[name]?.verdict ?? ""),
    );
    if (ambiguous.length === 0) continue;
    lines.push(`### \`${c.name}\``, "", `Sent (${c.length} bytes):`, "", fence(c.bytes), "");
    for (const name of ambiguous) {
      const result = c.results[name]!;
      lines.push(
        `${name}: ${result.reasons.join("; ")}. The origin received:`,
        "",
        fence(result.origin.received),
        "",
      );
    }
  }
  return `${lines.join("\n")}\n`;
}

function verdictList(results: SmugglingResults, names: string[], verdict: Verdict): string[] {
  const lines: string[] = [];
  for (const name of names) {
    const found = results.cases.filter((c) => c.results[name]?.verdict === verdict);
    lines.push(`- ${name}: ${found.length === 0 ? "none" : String(found.length)}`);
    for (const c of found) {
      lines.push(`  - \`${c.name}\`: ${c.results[name]!.reasons.join("; ")}`);
    }
  }
  return lines;
}

function shownVerdicts(results: SmugglingResults): Verdict[] {
  const always: Verdict[] = [
    "refused",
    "forwarded-one",
    "forwarded-unnormalised",
    "forwarded-ambiguous",
    "no-answer",
  ];
  return (Object.keys(VERDICT_LABELS) as Verdict[]).filter(
    (verdict) =>
      always.includes(verdict) || results.targets.some((target) => target.totals[verdict] > 0),
  );
}

function compact(totals: Totals | undefined, verdicts: Verdict[]): string {
  if (totals === undefined) return "";
  return verdicts.map((verdict) => String(totals[verdict])).join(" / ");
}

function shortVerdict(verdict: Verdict, statuses: number[]): string {
  const status = statuses.length > 0 ? ` ${statuses.join(",")}` : "";
  return verdict === "refused" || verdict === "cut-off"
    ? `${SHORT_LABELS[verdict]}${status}`
    : SHORT_LABELS[verdict];
}

function isStopped(verdict: Verdict): boolean {
  return verdict === "refused" || verdict === "cut-off";
}

function isForwarded(verdict: Verdict): boolean {
  return verdict.startsWith("forwarded");
}

/** Text safe inside a markdown table cell. */
function cell(text: string): string {
  return text.replaceAll("|", "\\|");
}

function fence(text: string): string {
  return `\`\`\`text\n${text}\n\`\`\``;
}
