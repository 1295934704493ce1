/**
 * The config file -> a validated, normalised, frozen Config, or every problem in it at once,
 * each with its line, column and YAML path (SPEC section 2).
 *
 * Steps: parse YAML (syntax errors stop here: the tree is not trustworthy), interpolate
 * `${ENV}` on the nodes, validate the fields with the schema and the cross-references
 * separately (so both kinds are reported together), then freeze.
 */
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { LineCounter, parseDocument } from "yaml";
import type { Document, YAMLError } from "yaml";
import { deepFreeze } from "./deep-freeze.ts";
import { interpolateDocument } from "./interpolate.ts";
import type { Env } from "./interpolate.ts";
import { FILE_PATH, ROOT_PATH, formatPath, sortProblems } from "./problems.ts";
import type { ConfigProblem } from "./problems.ts";
import { findReferenceIssues, readPercentWeight } from "./references.ts";
import type { ConfigPath } from "./references.ts";
import { knownKeysAt } from "./schema-keys.ts";
import { describeIssue, issuesToProblems } from "./schema-issues.ts";
import { configFieldsSchema } from "./schema.ts";
import type { Config } from "./schema.ts";
import { pathAtOffset, positionAtOffset, positionOf } from "./yaml-positions.ts";

export { formatProblem } from "./problems.ts";
export type { ConfigProblem } from "./problems.ts";

export type LoadResult =
  | { readonly ok: true; readonly config: Config; readonly hash: string; readonly text: string }
  | {
      readonly ok: false;
      readonly problems: readonly ConfigProblem[];
      /** The refused content's hash, when the file could be read. */
      readonly hash?: string;
    };

/** A config file's content as read: its text and the sha256 of its bytes. */
export interface ConfigContent {
  /** sha256 hex of the file's bytes, a leading BOM included. */
  readonly hash: string;
  /** The bytes as UTF-8 (a leading BOM removed), or null when they are not valid UTF-8. */
  readonly text: string | null;
}

/** The one definition of a config file's content and hash (the loader and the watcher agree). */
export function configContentOf(bytes: Uint8Array): ConfigContent {
  let text: string | null;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    text = null;
  }
  return { hash: sha256(bytes), text };
}

/** Reads and loads a config file; a file that cannot be read is one problem at 0:0. */
export async function loadConfigFile(
  path: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<LoadResult> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (error) {
    return fileProblem(path, `cannot read the file: ${describeReadError(error)}`);
  }
  return loadConfigContent(configContentOf(bytes), path, env);
}

/** Loads content already read from `file` (by the watcher): the same result as reading it. */
export function loadConfigContent(
  content: ConfigContent,
  file: string,
  env: NodeJS.ProcessEnv = process.env,
): LoadResult {
  const { hash, text } = content;
  const result =
    text === null
      ? fileProblem(file, "the file is not valid UTF-8 text")
      : loadFromText(text, file, env, hash);
  return result.ok ? result : { ...result, hash };
}

/** Loads config text; `file` only names it in problems. The hash is of the text's UTF-8 bytes. */
export function loadConfigText(
  text: string,
  file: string,
  env: NodeJS.ProcessEnv = process.env,
): LoadResult {
  return loadFromText(text, file, env, sha256(Buffer.from(text, "utf8")));
}

function loadFromText(text: string, file: string, env: Env, hash: string): LoadResult {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: true, uniqueKeys: true });
  const yamlProblems = [...withoutCascade(doc.errors), ...doc.warnings].map((error) =>
    yamlProblem(file, text, doc, error),
  );
  // After a syntax error the tree is a guess: checking its fields would report phantoms.
  if (doc.errors.length > 0) return problemsResult(yamlProblems);
  if (doc.contents === null) {
    return problemsResult([
      {
        file,
        line: 1,
        column: 1,
        path: ROOT_PATH,
        message: "the file is empty; it needs at least upstreams and routes",
      },
    ]);
  }
  const at = (path: ConfigPath, message: string, isAtKey = false): ConfigProblem => {
    const position = positionOf(doc, lineCounter, path, isAtKey ? "key" : "value");
    return { file, ...position, path: formatPath(path), message };
  };

  const interpolationProblems = interpolateDocument(doc, env);
  const input = toData(doc);
  if (!input.ok) return problemsResult([...yamlProblems, at([], input.message)]);

  const parsed = configFieldsSchema.safeParse(input.value, { error: describeIssue });
  const schemaProblems = parsed.success
    ? []
    : issuesToProblems(parsed.error.issues, {
        input: input.value,
        knownKeysAt: (path) => knownKeysAt(configFieldsSchema, path),
      });
  const referenceIssues = findReferenceIssues(input.value, readPercentWeight);
  // A value whose variable is missing would also fail its field check: say it once.
  const unresolved = interpolationProblems.map((p) => formatPath(p.path));
  const isUnresolved = (path: ConfigPath): boolean => unresolved.includes(formatPath(path));

  const problems = [
    ...yamlProblems,
    ...interpolationProblems.map((p) => at(p.path, p.message)),
    ...schemaProblems
      .filter((p) => !isUnresolved(p.path))
      .map((p) => at(p.path, p.message, p.isAtKey)),
    ...referenceIssues
      .filter((p) => !isUnresolved(p.path))
      .map((p) => at(p.path, p.message, p.isAtKey)),
  ];
  if (problems.length > 0 || !parsed.success) return problemsResult(problems);
  return { ok: true, config: deepFreeze(parsed.data), hash, text };
}

/**
 * A problem found after loading (a rule that needs more than the file, like the admin listener
 * actually in use), placed at `path` in the loaded text like every other problem.
 */
export function problemInText(
  text: string,
  file: string,
  path: ConfigPath,
  message: string,
): ConfigProblem {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter });
  return { file, ...positionOf(doc, lineCounter, path, "key"), path: formatPath(path), message };
}

function problemsResult(problems: readonly ConfigProblem[]): LoadResult {
  return { ok: false, problems: sortProblems(problems) };
}

function fileProblem(file: string, message: string): LoadResult {
  return { ok: false, problems: [{ file, line: 0, column: 0, path: FILE_PATH, message }] };
}

/** Once the parser is lost, every later token is "unexpected": keep only the first error. */
function withoutCascade(errors: readonly YAMLError[]): YAMLError[] {
  return errors.filter(
    (error, index) => index === 0 || !/ token in YAML stream/.test(error.message),
  );
}

function yamlProblem(file: string, text: string, doc: Document, error: YAMLError): ConfigProblem {
  // prettyErrors appends " at line L, column C:" and a source excerpt; the position is ours.
  const first = error.message.split(/ at line \d+, column \d+/)[0] ?? error.message;
  let message = first.trim().charAt(0).toLowerCase() + first.trim().slice(1);
  const offset = error.pos[0];
  if (text.startsWith("${", offset - 1)) {
    message += '; inside { } or [ ], quote a value that uses ${...}, like "${NAME}"';
  }
  return {
    file,
    ...positionAtOffset(text, offset),
    path: formatPath(pathAtOffset(doc, offset)),
    message,
  };
}

/** The document as plain data, refusing what the schema cannot walk (alias cycles, bombs). */
function toData(doc: Document): { ok: true; value: unknown } | { ok: false; message: string } {
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: 100 });
  } catch (error) {
    return { ok: false, message: `cannot expand the document: ${String(error)}` };
  }
  if (hasCycle(value, new Set())) {
    return { ok: false, message: "an alias refers to a value that contains it" };
  }
  return { ok: true, value };
}

function hasCycle(value: unknown, ancestors: Set<object>): boolean {
  if (typeof value !== "object" || value === null) return false;
  if (ancestors.has(value)) return true;
  ancestors.add(value);
  const found = Object.values(value).some((inner) => hasCycle(inner, ancestors));
  ancestors.delete(value);
  return found;
}

function describeReadError(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  switch (code) {
    case "ENOENT":
      return "no such file (check the path)";
    case "EACCES":
    case "EPERM":
      return "permission denied";
    case "EISDIR":
      return "it is a directory, not a file";
    default:
      return error instanceof Error ? error.message : String(error);
  }
}

function sha256(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}
