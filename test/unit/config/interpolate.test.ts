import { LineCounter, parseDocument } from "yaml";
import { describe, expect, it } from "vitest";
import { interpolateDocument, interpolateString } from "../../../src/config/interpolate.ts";
import { loadValidConfig, yamlLines } from "../../support/config-fixtures.ts";

const ENV = { HOST: "db.internal", PORT: "5432", EMPTY: "" };

describe("interpolateString", () => {
  it.each([
    ["no reference", "plain text", "plain text"],
    ["a variable", "${HOST}", "db.internal"],
    ["variables inside text", "http://${HOST}:${PORT}/", "http://db.internal:5432/"],
    ["a default for a missing variable", "${MISSING:-fallback}", "fallback"],
    ["a set variable over its default", "${HOST:-fallback}", "db.internal"],
    ["a default for an empty variable", "${EMPTY:-fallback}", "fallback"],
    ["an empty variable without default", "[${EMPTY}]", "[]"],
    ["an empty default", "[${MISSING:-}]", "[]"],
    ["a default holding colons and dashes", "${MISSING:-http://a:1/-x}", "http://a:1/-x"],
    ["an escaped reference", "$${HOST}", "${HOST}"],
    ["an escape next to a reference", "$${HOST}=${HOST}", "${HOST}=db.internal"],
    ["a lone dollar", "costs $5 or $$", "costs $5 or $$"],
    ["a dollar before a brace-less name", "$HOST", "$HOST"],
  ])("%s", (_name, text, expected) => {
    expect(interpolateString(text, ENV)).toEqual({ value: expected, errors: [] });
  });

  it.each([
    [
      "${MISSING}",
      "environment variable MISSING is not set (set it, or write ${MISSING:-default} for a fallback)",
    ],
    [
      "${1BAD}",
      '"${1BAD}" is not a variable reference; write ${NAME} or ${NAME:-default}, or $${ for a literal ${',
    ],
    [
      "${HOST-x}",
      '"${HOST-x}" is not a variable reference; write ${NAME} or ${NAME:-default}, or $${ for a literal ${',
    ],
    [
      "abc ${HOST",
      '"${HOST" has no closing "}"; write ${NAME} or ${NAME:-default}, or $${ for a literal ${',
    ],
  ])("%j is an error", (text, message) => {
    expect(interpolateString(text, ENV).errors).toEqual([message]);
  });

  it("names every missing variable of one value", () => {
    const result = interpolateString("${A}-${HOST}-${B}", ENV);
    expect(result.errors.map((e) => e.split(" ")[2])).toEqual(["A", "B"]);
  });
});

describe("interpolateDocument", () => {
  it("replaces string values in place, leaves keys and non-strings alone", () => {
    const doc = parseDocument(
      yamlLines(
        "${HOST}: key stays",
        "url: http://${HOST}:${PORT}",
        "list: ['${PORT}', plain, 3]",
        "quoted: '${MISSING:-d}'",
        "block: |",
        "  line ${HOST}",
      ),
      { lineCounter: new LineCounter() },
    );
    expect(interpolateDocument(doc, ENV)).toEqual([]);
    expect(doc.toJS()).toEqual({
      "${HOST}": "key stays",
      url: "http://db.internal:5432",
      list: ["5432", "plain", 3],
      quoted: "d",
      block: "line db.internal\n",
    });
  });

  it("reports a missing variable with the path of its value", () => {
    const doc = parseDocument(yamlLines("a:", "  - x", "  - { b: '${NOPE}' }"));
    expect(interpolateDocument(doc, {})).toEqual([
      {
        path: ["a", 1, "b"],
        message:
          "environment variable NOPE is not set (set it, or write ${NOPE:-default} for a fallback)",
      },
    ]);
  });

  it("interpolates an anchored value once, and its aliases see the result", () => {
    const doc = parseDocument(yamlLines("a: &h '${HOST}'", "b: *h"));
    expect(interpolateDocument(doc, ENV)).toEqual([]);
    expect(doc.toJS()).toEqual({ a: "db.internal", b: "db.internal" });
  });

  it("never changes the document's structure", () => {
    const doc = parseDocument("v: ${INJECT}\n");
    interpolateDocument(doc, { INJECT: "x\nother: {a: 1}" });
    expect(doc.toJS()).toEqual({ v: "x\nother: {a: 1}" });
  });
});

describe("interpolation in a loaded config", () => {
  it("uses defaults and escapes, and values stay strings", () => {
    const config = loadValidConfig(
      yamlLines(
        "admin:",
        "  tokens:",
        '    - { name: ops, scope: write, token: "${TOKEN:-0123456789abcdef}" }',
        "upstreams:",
        "  stable:",
        "    endpoints:",
        "      - http://${BACKEND_HOST}:9001",
        "routes:",
        "  - name: web",
        "    split: { stable: 100 }",
        "    rules:",
        '      - { match: { headers: { x-template: "$${literal}" } }, to: stable }',
      ),
      { BACKEND_HOST: "127.0.0.2" },
    );
    expect(config.admin.tokens[0]?.token).toBe("0123456789abcdef");
    expect(config.upstreams["stable"]?.endpoints).toEqual(["http://127.0.0.2:9001"]);
    expect(config.routes[0]?.rules[0]?.match.headers).toEqual({ "x-template": "${literal}" });
  });
});
