/** A problem found in a config file, located by YAML path and line:column (SPEC section 1). */
import type { ConfigPath } from "./references.ts";

export interface ConfigProblem {
  readonly file: string;
  /** 1-based; 0 when the problem is with the file itself (it could not be read). */
  readonly line: number;
  /** 1-based; 0 when the problem is with the file itself. */
  readonly column: number;
  /** Where in the document, e.g. `routes[0].split.canary`; `(root)` or `(file)` otherwise. */
  readonly path: string;
  readonly message: string;
}

export const ROOT_PATH = "(root)";
export const FILE_PATH = "(file)";

/** `FILE:LINE:COL: PATH: MESSAGE`, the shape editors and CI annotators already understand. */
export function formatProblem(problem: ConfigProblem): string {
  return `${problem.file}:${problem.line}:${problem.column}: ${problem.path}: ${problem.message}`;
}

const BARE_KEY = /^[A-Za-z0-9_-]+$/;

/** ["routes", 0, "split", "canary"] -> `routes[0].split.canary`; odd keys are quoted. */
export function formatPath(path: ConfigPath): string {
  if (path.length === 0) return ROOT_PATH;
  let text = "";
  for (const segment of path) {
    if (typeof segment === "number") text += `[${segment}]`;
    else if (BARE_KEY.test(segment)) text += text === "" ? segment : `.${segment}`;
    else text += `[${JSON.stringify(segment)}]`;
  }
  return text;
}

/** In file order, then by path; exact duplicates dropped. */
export function sortProblems(problems: readonly ConfigProblem[]): ConfigProblem[] {
  const seen = new Set<string>();
  const unique = problems.filter((p) => {
    const key = formatProblem(p);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
  return unique.sort(
    (a, b) =>
      a.line - b.line ||
      a.column - b.column ||
      compareText(a.path, b.path) ||
      compareText(a.message, b.message),
  );
}

function compareText(a: string, b: string): number {
  if (a === b) return 0;
  return a < b ? -1 : 1;
}
