/**
 * `${NAME}` and `${NAME:-default}` in the config file's string values (SPEC section 2).
 *
 * Done on the parsed YAML nodes, before validation, so every problem keeps its line and column
 * and a value such as `"a: ${X}"` can never change the document's structure. The result of a
 * substitution is always a string, even when it looks like a number or a boolean.
 */
import { isAlias, isMap, isPair, isScalar, isSeq } from "yaml";
import type { Document } from "yaml";

export type Env = Readonly<Record<string, string | undefined>>;

export interface InterpolationResult {
  readonly value: string;
  /** One sentence per reference that could not be resolved. */
  readonly errors: readonly string[];
}

const REFERENCE = /^([A-Za-z_][A-Za-z0-9_]*)(?::-([\s\S]*))?$/;

/**
 * Replaces every `${NAME}` / `${NAME:-default}` in `text`. `$${` is a literal `${`. Like a
 * POSIX shell, `:-` also applies when the variable is set but empty.
 */
export function interpolateString(text: string, env: Env): InterpolationResult {
  let value = "";
  const errors: string[] = [];
  let index = 0;
  while (index < text.length) {
    const dollar = text.indexOf("$", index);
    if (dollar < 0) break;
    value += text.slice(index, dollar);
    if (text.startsWith("$${", dollar)) {
      value += "${";
      index = dollar + 3;
      continue;
    }
    if (!text.startsWith("${", dollar)) {
      value += "$";
      index = dollar + 1;
      continue;
    }
    const close = text.indexOf("}", dollar + 2);
    if (close < 0) {
      errors.push(
        `"${text.slice(dollar)}" has no closing "}"; write \${NAME} or \${NAME:-default}, or $\${ for a literal \${`,
      );
      value += text.slice(dollar);
      index = text.length;
      break;
    }
    const reference = text.slice(dollar + 2, close);
    const found = REFERENCE.exec(reference);
    if (found === null) {
      errors.push(
        `"\${${reference}}" is not a variable reference; write \${NAME} or \${NAME:-default}, or $\${ for a literal \${`,
      );
      value += text.slice(dollar, close + 1);
    } else {
      const name = found[1] ?? "";
      const fallback = found[2];
      const fromEnv = env[name];
      if (fromEnv !== undefined && (fromEnv !== "" || fallback === undefined)) {
        value += fromEnv;
      } else if (fallback !== undefined) {
        value += fallback;
      } else {
        errors.push(
          `environment variable ${name} is not set (set it, or write \${${name}:-default} for a fallback)`,
        );
        value += text.slice(dollar, close + 1);
      }
    }
    index = close + 1;
  }
  value += text.slice(index);
  return { value, errors };
}

export interface InterpolationProblem {
  readonly path: readonly (string | number)[];
  readonly message: string;
}

/**
 * Interpolates every string value of the document in place (keys are left as written) and
 * returns the references that could not be resolved, with the path of their value.
 */
export function interpolateDocument(doc: Document, env: Env): InterpolationProblem[] {
  const problems: InterpolationProblem[] = [];
  const visit = (node: unknown, path: (string | number)[]): void => {
    // An alias shares its anchor's node, which is visited where it is defined.
    if (isAlias(node)) return;
    if (isScalar(node)) {
      if (typeof node.value !== "string" || !node.value.includes("$")) return;
      const result = interpolateString(node.value, env);
      node.value = result.value;
      for (const message of result.errors) problems.push({ path, message });
      return;
    }
    if (isMap(node)) {
      for (const pair of node.items) {
        if (!isPair(pair)) continue;
        const key: unknown = pair.key;
        visit(pair.value, [...path, isScalar(key) ? String(key.value) : String(key)]);
      }
      return;
    }
    if (isSeq(node)) {
      node.items.forEach((item, i) => {
        visit(item, [...path, i]);
      });
    }
  };
  visit(doc.contents, []);
  return problems;
}
