/**
 * A small parser of the Prometheus text exposition format (version 0.0.4): enough to check
 * what a scrape holds, and strict enough to fail on a malformed line.
 */

export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

export interface MetricFamily {
  readonly name: string;
  readonly help: string;
  readonly type: string;
  readonly samples: Sample[];
}

const SAMPLE_LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/;
const LABEL_PAIR = /^([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(,|$)/;
const HISTOGRAM_SUFFIXES = ["_bucket", "_sum", "_count"];

export function parsePrometheusText(text: string): Map<string, MetricFamily> {
  const families = new Map<string, MetricFamily>();
  let current: MetricFamily | undefined;
  for (const line of text.split("\n")) {
    if (line === "") continue;
    const meta = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(line);
    if (meta !== null) {
      const [, kind, name = "", rest = ""] = meta;
      current = families.get(name) ?? { name, help: "", type: "untyped", samples: [] };
      families.set(name, kind === "HELP" ? { ...current, help: rest } : { ...current, type: rest });
      current = families.get(name);
      continue;
    }
    if (line.startsWith("#")) continue;
    const sample = parseSample(line);
    if (current === undefined || !belongsTo(sample.name, current)) {
      throw new Error(`sample outside its metric family: ${line}`);
    }
    current.samples.push(sample);
  }
  return families;
}

function belongsTo(sampleName: string, family: MetricFamily): boolean {
  if (sampleName === family.name) return true;
  const suffixes = family.type === "histogram" ? HISTOGRAM_SUFFIXES : [];
  return suffixes.some((suffix) => sampleName === family.name + suffix);
}

function parseSample(line: string): Sample {
  const found = SAMPLE_LINE.exec(line);
  if (found === null) throw new Error(`not a sample line: ${line}`);
  const [, name = "", labelText = "", valueText = ""] = found;
  const labels: Record<string, string> = {};
  let rest = labelText;
  while (rest !== "") {
    const pair = LABEL_PAIR.exec(rest);
    if (pair === null) throw new Error(`bad labels in: ${line}`);
    const [whole, key = "", escaped = ""] = pair;
    labels[key] = escaped.replace(/\\(.)/g, (_, c: string) => (c === "n" ? "\n" : c));
    rest = rest.slice(whole.length);
  }
  return { name, labels, value: parseValue(valueText, line) };
}

/** Go's ParseFloat, which Prometheus uses, reads NaN and Inf in any case. */
function parseValue(text: string, line: string): number {
  const lower = text.toLowerCase();
  if (lower === "nan") return NaN;
  if (lower === "+inf" || lower === "inf") return Infinity;
  if (lower === "-inf") return -Infinity;
  const value = Number(text);
  if (text === "" || Number.isNaN(value)) throw new Error(`bad value in: ${line}`);
  return value;
}

/** The value of the one sample named `name` with exactly these labels (undefined if none). */
export function sampleValue(
  families: Map<string, MetricFamily>,
  name: string,
  labels: Record<string, string>,
): number | undefined {
  for (const family of families.values()) {
    for (const sample of family.samples) {
      if (sample.name === name && sameLabels(sample.labels, labels)) return sample.value;
    }
  }
  return undefined;
}

function sameLabels(a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>) {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((key) => a[key] === b[key]);
}
