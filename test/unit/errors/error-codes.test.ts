/**
 * The one table of codes (src/errors/error-codes.ts) against what could drift from it: the
 * reference page docs/errors.md, read both ways, and the source files, where no code may be
 * spelled out (or kept in a second table) outside the table.
 */
import { readdir, readFile } from "node:fs/promises";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";
import { describe, expect, it } from "vitest";
import { CODE, ERROR_CODES, type ErrorCode } from "../../../src/errors/error-codes.ts";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const SRC = join(ROOT, "src");
const TABLE_FILE = "errors/error-codes.ts";
const TOKEN = /SWITCHYARD_[A-Z0-9_]+/g;
/** `| 404 | `CODE` | proxy, admin | meaning |`; `—` for a code that is never answered. */
const ROW = /^\|\s*(\d{3}|—)\s*\|\s*`(SWITCHYARD_[A-Z0-9_]+)`\s*\|\s*([a-z, ]+?)\s*\|/;

/**
 * Environment variables switchyard reads share the `SWITCHYARD_` prefix but are not codes. Each
 * must be documented in README.md, so this list cannot quietly hold a code.
 */
const ENVIRONMENT_VARIABLES: ReadonlySet<string> = new Set([
  "SWITCHYARD_CONFIG",
  "SWITCHYARD_ADMIN_TOKEN",
  "SWITCHYARD_LOG_LEVEL",
]);

const TABLE_CODES = Object.keys(ERROR_CODES) as ErrorCode[];

interface DocumentedCode {
  readonly status: number | null;
  readonly where: readonly string[];
}

/** The rows of the reference table, by code. */
function documentedCodes(doc: string): Map<string, DocumentedCode> {
  const rows = new Map<string, DocumentedCode>();
  for (const line of doc.split("\n")) {
    const match = ROW.exec(line);
    if (match === null) continue;
    const [, status = "", code = "", where = ""] = match;
    expect(rows.has(code), `${code} is listed twice`).toBe(false);
    rows.set(code, {
      status: status === "—" ? null : Number(status),
      where: where.split(",").map((source) => source.trim()),
    });
  }
  return rows;
}

describe("docs/errors.md", () => {
  const docPromise = readFile(join(ROOT, "docs/errors.md"), "utf8");

  it("lists every code of the table, with its status and who answers it", async () => {
    const rows = documentedCodes(await docPromise);
    const undocumented = TABLE_CODES.filter((code) => !rows.has(code));
    expect(undocumented, "codes missing from docs/errors.md").toEqual([]);
    for (const code of TABLE_CODES) {
      const { status, where } = ERROR_CODES[code];
      expect(rows.get(code), code).toEqual({ status, where: [...where] });
    }
  });

  it("names no code that is not in the table", async () => {
    const doc = await docPromise;
    const rows = documentedCodes(doc);
    const unknownRows = [...rows.keys()].filter((code) => !(code in ERROR_CODES));
    expect(unknownRows, "rows of docs/errors.md that are not in the table").toEqual([]);
    // Prose too: any name there is a row of the table.
    const named = new Set(doc.match(TOKEN));
    expect([...named].filter((code) => !rows.has(code))).toEqual([]);
  });

  it("is linked from README.md", async () => {
    const readme = await readFile(join(ROOT, "README.md"), "utf8");
    expect(readme).toContain("(docs/errors.md)");
  });
});

interface Finding {
  readonly at: string;
  readonly token: string;
}

async function sourceFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => entry.isFile() && entry.name.endsWith(".ts"))
    .map((entry) => join(entry.parentPath, entry.name));
}

/** A name of the table reached through it: `CODE.SWITCHYARD_X`, `typeof CODE.SWITCHYARD_X`. */
function isReadFromTable(node: ts.Identifier): boolean {
  const parent = node.parent;
  const owner =
    ts.isPropertyAccessExpression(parent) && parent.name === node
      ? parent.expression
      : ts.isQualifiedName(parent) && parent.right === node
        ? parent.left
        : undefined;
  return (
    owner !== undefined && ts.isIdentifier(owner) && ["CODE", "ERROR_CODES"].includes(owner.text)
  );
}

function isStringPiece(node: ts.Node): node is ts.LiteralLikeNode {
  return (
    ts.isStringLiteral(node) ||
    ts.isNoSubstitutionTemplateLiteral(node) ||
    ts.isTemplateHead(node) ||
    ts.isTemplateMiddle(node) ||
    ts.isTemplateTail(node)
  );
}

/** Codes spelled out in strings, and code-like names other than reads from the table. */
function codesSpelledOut(file: string, text: string): Finding[] {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const findings: Finding[] = [];
  const report = (node: ts.Node, token: string): void => {
    const { line } = source.getLineAndCharacterOfPosition(node.getStart(source));
    findings.push({ at: `${relative(ROOT, file)}:${line + 1}`, token });
  };
  const visit = (node: ts.Node): void => {
    if (isStringPiece(node)) {
      for (const token of node.text.match(TOKEN) ?? []) {
        if (!ENVIRONMENT_VARIABLES.has(token)) report(node, token);
      }
    } else if (ts.isIdentifier(node) && node.text.startsWith("SWITCHYARD_")) {
      if (!ENVIRONMENT_VARIABLES.has(node.text) && !isReadFromTable(node)) report(node, node.text);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return findings;
}

describe("the source files outside src/errors/error-codes.ts", () => {
  const filesPromise = (async () => {
    const paths = await sourceFiles(SRC);
    const others = paths.filter((path) => relative(SRC, path) !== TABLE_FILE);
    return Promise.all(others.map(async (path) => ({ path, text: await readFile(path, "utf8") })));
  })();

  it("spell out no code: strings, object keys and names read them from the table", async () => {
    const files = await filesPromise;
    expect(files.length).toBeGreaterThan(50);
    const findings = files.flatMap(({ path, text }) => codesSpelledOut(path, text));
    expect(findings, "use CODE.SWITCHYARD_... from src/errors/error-codes.ts").toEqual([]);
  });

  it("name no code the table does not have, comments included", async () => {
    const files = await filesPromise;
    const unknown = files.flatMap(({ path, text }) =>
      [...new Set(text.match(TOKEN))]
        .filter((token) => !(token in ERROR_CODES) && !ENVIRONMENT_VARIABLES.has(token))
        .map((token) => ({ at: relative(ROOT, path), token })),
    );
    expect(unknown, "add the code to src/errors/error-codes.ts").toEqual([]);
  });

  it("allow only environment variables documented in README.md", async () => {
    const readme = await readFile(join(ROOT, "README.md"), "utf8");
    for (const name of ENVIRONMENT_VARIABLES) {
      expect(name in ERROR_CODES, name).toBe(false);
      expect(readme, name).toContain(name);
    }
  });
});

describe("CODE", () => {
  it("names each code of the table by itself", () => {
    expect(Object.entries(CODE)).toEqual(TABLE_CODES.map((code) => [code, code]));
  });
});
