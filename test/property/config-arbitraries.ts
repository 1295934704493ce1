/**
 * Generators of config text for the loader's properties: raw text, YAML-token soup, and
 * valid configs broken on purpose (in their data, then in their text).
 */
import { readFileSync } from "node:fs";
import fc from "fast-check";
import { parse, stringify } from "yaml";
import { applyTextMutation, type TextMutation } from "./text-mutations.ts";
import { applyTreeMutation, type TreeMutation } from "./tree-mutations.ts";

/** Valid configs to start from: the commented example (every key) and two small ones. */
export const VALID_CONFIG_TEXTS: readonly string[] = [
  readFileSync(new URL("../../config/switchyard.yaml", import.meta.url), "utf8"),
  readFileSync(new URL("../fixtures/config/minimal.yaml", import.meta.url), "utf8"),
  [
    "upstreams:",
    "  stable: { endpoints: [http://127.0.0.1:9001] }",
    "  canary:",
    "    endpoints: [http://127.0.0.1:9002]",
    "    healthCheck: { interval: 1s, expectStatus: [200-299, 404] }",
    "routes:",
    "  - name: web",
    "    split: { stable: 90.5, canary: 9.5 }",
    "    sticky: { header: x-user }",
    "    rollout:",
    "      target: canary",
    "      baseline: stable",
    "      steps: [10, 50, 100]",
    "      checks: [{ metric: errorRate, max: 0.05, window: 30s }]",
    "",
  ].join("\n"),
];

/** Characters that trouble parsers: controls, odd line breaks, BOM, lone surrogates. */
const ODD_CHARACTERS = [
  "\t",
  "\r",
  "\r\n",
  "\n",
  "\0",
  "\x1b",
  "\x7f",
  "\x85",
  "\xa0",
  "\ufeff",
  "\u2028",
  "\u2029",
  "\ud800",
  "\udfff",
  "\ufffd",
  "\uffff",
  "é",
  "漢",
  "🚀",
];

/** Pieces of YAML syntax, so generated text reaches the parser's deeper paths. */
const YAML_TOKENS = [
  ":",
  ": ",
  "- ",
  "? ",
  "{",
  "}",
  "[",
  "]",
  ", ",
  "&a ",
  "*a",
  "&b [*a, *a]",
  "<<: *a",
  "!!str ",
  "!!int ",
  "!!binary ",
  "!!set ",
  "!custom ",
  "!<tag:yaml.org,2002:map> ",
  "|",
  "|-",
  ">+",
  "# comment",
  "'",
  '"',
  '"\\x',
  '"\\u12',
  "%YAML 1.2\n---\n",
  "%TAG ! tag:x,2000:\n",
  "---\n",
  "...\n",
  "null",
  "~",
  ".nan",
  "-.inf",
  "0x1F",
  "0o17",
  "1e400",
  "-0",
  "2001-12-14t21:59:43.10-05:00",
  "${",
  "${X}",
  "${X:-5s}",
  "$${X}",
  "${1BAD}",
  "@",
  "`",
  "__proto__",
  "constructor",
];

const KEYS = [
  "listen",
  "admin",
  "state",
  "upstreams",
  "routes",
  "forwarded",
  "server",
  "endpoints",
  "healthCheck",
  "split",
  "rules",
  "sticky",
  "rollout",
  "steps",
  "checks",
  "stable",
  "canary",
  "name",
  "__proto__",
];

const oddCharacter = fc.constantFrom(...ODD_CHARACTERS);
const yamlToken = fc.constantFrom(...YAML_TOKENS);
const knownKey = fc.constantFrom(...KEYS);

/** Any UTF-16 code unit, lone surrogates included. */
const codeUnit = fc.integer({ min: 0, max: 0xffff }).map((unit) => String.fromCharCode(unit));

/** Arbitrary text: any code units, any code points, or printable ASCII. */
export const anyText: fc.Arbitrary<string> = fc.oneof(
  fc.string({ unit: codeUnit, maxLength: 200 }),
  fc.string({ unit: "binary", maxLength: 200 }),
  fc.string({ unit: "grapheme-ascii", maxLength: 400 }),
);

/** Text made of YAML tokens, keys, scalars, line breaks and indentation. */
export const yamlSoup: fc.Arbitrary<string> = fc
  .array(
    fc.oneof(
      { weight: 4, arbitrary: yamlToken },
      { weight: 3, arbitrary: knownKey },
      { weight: 3, arbitrary: fc.constantFrom("\n", "\n  ", "\n    ", "\n- ", "\n\t") },
      { weight: 1, arbitrary: oddCharacter },
      { weight: 1, arbitrary: fc.integer().map(String) },
      { weight: 1, arbitrary: fc.string({ maxLength: 8 }) },
    ),
    { maxLength: 80 },
  )
  .map((parts) => parts.join(""));

/** Durations, well- and ill-formed. */
const duration = fc.oneof(
  fc
    .tuple(fc.nat({ max: 100_000 }), fc.constantFrom("ms", "s", "m", "h"))
    .map(([n, unit]) => `${n}${unit}`),
  fc.constantFrom("", "5", "5 s", "-1s", "1.5.5s", "1e3ms", "5S", "∞s", "0x10s", "5sec", "1d"),
  fc.double().map((n) => `${n}s`),
);

/** Weights, in and out of range, with too many decimals, NaN and infinities. */
const weight = fc.oneof(
  fc.integer({ min: -50, max: 150 }),
  fc.double({ min: -1, max: 101 }),
  fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, -0, 33.333, 1e-9, 0.005),
);

/** Values of every type, to put where the schema expects another. */
export const oddValue: fc.Arbitrary<unknown> = fc.oneof(
  duration,
  weight,
  fc.boolean(),
  fc.constant(null),
  fc.string({ maxLength: 20 }),
  fc.string({ unit: codeUnit, maxLength: 10 }),
  fc.constantFrom(...YAML_TOKENS),
  fc.array(fc.oneof(duration, weight, fc.string({ maxLength: 5 })), { maxLength: 3 }),
  fc.dictionary(fc.oneof(knownKey, fc.string({ maxLength: 6 })), fc.oneof(duration, weight), {
    maxKeys: 3,
  }),
);

const treeMutation: fc.Arbitrary<TreeMutation> = fc.oneof(
  fc.record({ kind: fc.constant("drop"), at: fc.nat() }),
  fc.record({ kind: fc.constant("set"), at: fc.nat(), value: oddValue }),
  fc.record({
    kind: fc.constant("addKey"),
    at: fc.nat(),
    key: fc.oneof(knownKey, fc.string({ maxLength: 10 })),
    value: oddValue,
  }),
  fc.record({
    kind: fc.constant("nest"),
    at: fc.nat(),
    depth: fc.integer({ min: 1, max: 64 }),
    isList: fc.boolean(),
  }),
);

const textMutation: fc.Arbitrary<TextMutation> = fc.oneof(
  fc.record({
    kind: fc.constant("insert"),
    at: fc.nat(),
    text: fc.oneof(yamlToken, oddCharacter, fc.string({ unit: codeUnit, maxLength: 4 })),
  }),
  fc.record({ kind: fc.constant("delete"), at: fc.nat(), length: fc.integer({ min: 1, max: 40 }) }),
  fc.record({ kind: fc.constant("duplicateLine"), line: fc.nat() }),
  fc.record({ kind: fc.constant("tabIndent"), line: fc.nat() }),
  fc.record({ kind: fc.constant("swapLines"), line: fc.nat(), other: fc.nat() }),
  fc.record({
    kind: fc.constant("alias"),
    line: fc.nat(),
    other: fc.nat(),
    name: fc.constantFrom("a", "b", "x1"),
  }),
  fc.record({ kind: fc.constant("truncate"), at: fc.nat() }),
);

const baseData = VALID_CONFIG_TEXTS.map((text) => parse(text) as unknown);

/** A valid config whose data was broken, written back as YAML. */
export const brokenConfigData: fc.Arbitrary<string> = fc
  .tuple(
    fc.nat({ max: baseData.length - 1 }),
    fc.array(treeMutation, { minLength: 1, maxLength: 4 }),
  )
  .map(([index, mutations]) => {
    let data = structuredClone(baseData[index]);
    for (const mutation of mutations) data = applyTreeMutation(data, mutation);
    return stringify(data);
  });

/** A valid config (as written, comments and flow style kept) whose text was broken. */
export const brokenConfigText: fc.Arbitrary<string> = fc
  .tuple(
    fc.nat({ max: VALID_CONFIG_TEXTS.length - 1 }),
    fc.array(textMutation, { minLength: 1, maxLength: 4 }),
  )
  .map(([index, mutations]) =>
    mutations.reduce(applyTextMutation, VALID_CONFIG_TEXTS[index] ?? ""),
  );

/** Environments for `${NAME}`: some names set (possibly to odd text), others not. */
export const anyEnv: fc.Arbitrary<Record<string, string>> = fc.dictionary(
  fc.constantFrom("X", "SWITCHYARD_ADMIN_TOKEN", "PORT", "HOST"),
  fc.oneof(
    duration,
    fc.string({ maxLength: 20 }),
    fc.constantFrom("", "${X}", "[a, b]", "{ a: 1 }"),
  ),
  { maxKeys: 3 },
);
