/**
 * `npm run bench:smuggling`: the request-smuggling corpus (corpus.ts) against switchyard, nginx
 * and HAProxy, each proxying to the recording origin (origin.ts). Every case goes on a fresh
 * client connection, with no origin connection left from the case before; the verdict comes
 * from what the client got back and what the origin read (classify.ts). bench/README.md
 * describes it; results go to bench/results/smuggling.{md,json}.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { haproxyVersion } from "../baselines/haproxy.ts";
import { nginxVersion } from "../baselines/nginx.ts";
import { buildForBench } from "../build.ts";
import { ChildProcesses } from "../child-processes.ts";
import { detectCpuLayout } from "../cpu-layout.ts";
import { sleep } from "../loopback.ts";
import { describeMachine } from "../machine.ts";
import { writeSingleUpstreamConfig } from "../switchyard-config.ts";
import {
  startHaproxy,
  startNginxProxy,
  startSwitchyard,
  type BenchContext,
  type RunningServer,
  type SkippedTarget,
} from "../targets.ts";
import { escapeBytes } from "./bytes.ts";
import { classify, VERDICTS, type CaseResult } from "./classify.ts";
import { sendCase, type ClientTiming } from "./client.ts";
import { buildCorpus, CASE_CLASSES, type CaseClass, type SmugglingCase } from "./corpus.ts";
import { RecordingOrigin } from "./origin.ts";
import { smugglingMarkdown, smugglingSummary } from "./report.ts";
import { SMUGGLING_SCHEMA_VERSION, type SmugglingResults, type Totals } from "./results.ts";

const SMUGGLING_TARGETS = ["switchyard", "nginx", "haproxy"] as const;
type SmugglingTarget = (typeof SMUGGLING_TARGETS)[number];

/** After the origin closes its connections, before the next case: proxies notice the close. */
const RESET_SETTLE_MS = 50;
/** After the client is done, before reading the origin: late bytes arrive. */
const ORIGIN_SETTLE_MS = 100;
const EXIT_USAGE = 2;

const USAGE = `npm run bench:smuggling -- [flags]
  --only a,b        targets: ${SMUGGLING_TARGETS.join(", ")} (default all; missing binaries are skipped)
  --cases a,b       case names or class names (default every case)
  --timeout MS      how long to wait for an answer (default 2000)
  --quiet MS        how long to wait for another answer after a complete one (default 150)
  --out DIR         results directory (default bench/results)`;

interface SmugglingOptions {
  targets: SmugglingTarget[];
  cases: SmugglingCase[];
  timing: ClientTiming;
  outDir: string;
}

function log(line: string): void {
  process.stderr.write(`bench:smuggling: ${line}\n`);
}

function parseOptions(argv: string[]): SmugglingOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      only: { type: "string" },
      cases: { type: "string" },
      timeout: { type: "string", default: "2000" },
      quiet: { type: "string", default: "150" },
      out: { type: "string", default: "bench/results" },
      help: { type: "boolean", default: false },
    },
  });
  if (values.help) throw new Error(USAGE);
  const targets: SmugglingTarget[] = [];
  for (const name of list(values.only) ?? SMUGGLING_TARGETS) {
    if (!(SMUGGLING_TARGETS as readonly string[]).includes(name)) {
      throw new Error(`--only: unknown target "${name}"; known: ${SMUGGLING_TARGETS.join(", ")}`);
    }
    targets.push(name as SmugglingTarget);
  }
  const corpus = buildCorpus();
  const wanted = list(values.cases);
  let cases = corpus;
  if (wanted !== undefined) {
    for (const name of wanted) {
      if (!corpus.some((c) => c.name === name || c.class === name)) {
        throw new Error(`--cases: no case or class "${name}"`);
      }
    }
    cases = corpus.filter((c) => wanted.includes(c.name) || wanted.includes(c.class));
  }
  return {
    targets,
    cases,
    timing: {
      timeoutMs: positiveInteger("--timeout", values.timeout),
      quietMs: positiveInteger("--quiet", values.quiet),
    },
    outDir: values.out,
  };
}

async function main(argv: string[]): Promise<number> {
  let options: SmugglingOptions;
  try {
    options = parseOptions(argv);
  } catch (error) {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    return EXIT_USAGE;
  }
  const layout = detectCpuLayout();
  const dir = mkdtempSync(join(tmpdir(), "switchyard-smuggling-"));
  const origin = new RecordingOrigin();
  const children = new ChildProcesses();
  const cleanUp = async (): Promise<void> => {
    await children.stopAll();
    await origin.close();
    rmSync(dir, { recursive: true, force: true });
  };
  const stopOnSignal = (): void => {
    log("interrupted: stopping every process");
    void cleanUp().finally(() => process.exit(130));
  };
  process.once("SIGINT", stopOnSignal);
  process.once("SIGTERM", stopOnSignal);
  try {
    if (options.targets.includes("switchyard")) log("building switchyard (tsc)");
    const ctx: BenchContext = {
      children,
      layout,
      dir,
      build: options.targets.includes("switchyard")
        ? buildForBench(dir)
        : { switchyardMain: "", switchyardNodeFlags: [], script: (path) => path },
    };
    const originPort = await origin.listen();
    const machine = await describeMachine(layout.description);
    const results = new Map<string, Record<string, CaseResult>>();
    for (const c of options.cases) results.set(c.name, {});
    const ran: SmugglingResults["targets"] = [];
    const skipped: SmugglingResults["skipped"] = [];

    for (const name of options.targets) {
      const started = await startSmugglingTarget(name, originPort, ctx);
      if ("reason" in started) {
        log(`skipping ${name}: ${started.reason}`);
        skipped.push(started);
        continue;
      }
      log(`${name}: ${options.cases.length} cases`);
      const totals = emptyTotals();
      for (const c of options.cases) {
        origin.reset();
        await sleep(RESET_SETTLE_MS);
        const client = await sendCase(started.port, c.bytes, options.timing);
        await sleep(ORIGIN_SETTLE_MS);
        const result = classify(c.name, client, origin.snapshot());
        if (started.started.child.exitCode !== null || started.started.child.signalCode !== null) {
          throw new Error(`${name} exited during case ${c.name}: ${started.started.output()}`);
        }
        results.get(c.name)![name] = result;
        totals[result.verdict]++;
        if (result.verdict === "forwarded-ambiguous") {
          log(`${name} ${c.name}: forwarded ambiguously (${result.reasons.join("; ")})`);
        }
      }
      origin.reset();
      await started.started.stop();
      ran.push({ name, version: versionOf(name), totals });
    }

    const classes = [...new Set(options.cases.map((c) => c.class))];
    const output: SmugglingResults = {
      schemaVersion: SMUGGLING_SCHEMA_VERSION,
      kind: "smuggling",
      machine,
      settings: {
        args: argv,
        timeoutMs: options.timing.timeoutMs,
        quietMs: options.timing.quietMs,
        targets: [...options.targets],
        cases: options.cases.length,
      },
      classes: Object.fromEntries(classes.map((klass) => [klass, CASE_CLASSES[klass]])),
      targets: ran,
      skipped,
      byClass: classes.map((klass) => byClass(klass, options.cases, ran, results)),
      cases: options.cases.map((c) => ({
        name: c.name,
        class: c.class,
        about: c.about,
        bytes: escapeBytes(c.bytes, 2000),
        length: c.bytes.length,
        results: results.get(c.name)!,
      })),
    };
    process.stdout.write(`\n${smugglingSummary(output)}`);
    mkdirSync(options.outDir, { recursive: true });
    const jsonFile = join(options.outDir, "smuggling.json");
    const markdownFile = join(options.outDir, "smuggling.md");
    writeFileSync(jsonFile, `${JSON.stringify(output, null, 2)}\n`);
    writeFileSync(markdownFile, smugglingMarkdown(output));
    log(`wrote ${markdownFile} and ${jsonFile}`);
    return 0;
  } finally {
    await cleanUp();
  }
}

async function startSmugglingTarget(
  name: SmugglingTarget,
  originPort: number,
  ctx: BenchContext,
): Promise<RunningServer | SkippedTarget> {
  switch (name) {
    case "switchyard":
      return startSwitchyard(originPort, ctx, { writeConfig: writeSingleUpstreamConfig });
    case "nginx":
      return startNginxProxy(originPort, ctx);
    case "haproxy":
      return startHaproxy(originPort, ctx);
  }
}

function versionOf(name: SmugglingTarget): string | null {
  if (name === "nginx") return nginxVersion() ?? null;
  if (name === "haproxy") return haproxyVersion() ?? null;
  return null;
}

function byClass(
  klass: CaseClass,
  cases: SmugglingCase[],
  ran: SmugglingResults["targets"],
  results: Map<string, Record<string, CaseResult>>,
): SmugglingResults["byClass"][number] {
  const inClass = cases.filter((c) => c.class === klass);
  const targets: Record<string, Totals> = {};
  for (const { name } of ran) {
    const totals = emptyTotals();
    for (const c of inClass) {
      const verdict = results.get(c.name)?.[name]?.verdict;
      if (verdict !== undefined) totals[verdict]++;
    }
    targets[name] = totals;
  }
  return { class: klass, cases: inClass.length, targets };
}

function emptyTotals(): Totals {
  return Object.fromEntries(VERDICTS.map((verdict) => [verdict, 0])) as Totals;
}

function list(text: string | undefined): string[] | undefined {
  if (text === undefined) return undefined;
  const items = text
    .split(",")
    .map((item) => item.trim())
    .filter((item) => item !== "");
  return items.length === 0 ? undefined : items;
}

function positiveInteger(flag: string, text: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value <= 0) {
    throw new Error(`${flag} takes a positive whole number, got "${text}"`);
  }
  return value;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    log(`failed: ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = 1;
  },
);
