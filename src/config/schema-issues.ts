/**
 * Turns the schema's issues into problems an operator can act on: plain wording, one problem
 * per unknown key (pointed at the key, with a "did you mean"), and a line and column for each.
 */
import type * as z from "zod";
import type { ConfigPath } from "./references.ts";
import { suggestClosest } from "./suggest.ts";

type Issue = z.core.$ZodIssue;

export interface SchemaProblem {
  readonly path: ConfigPath;
  readonly message: string;
  /** Point at the key rather than its value (unknown keys, bad names). */
  readonly isAtKey: boolean;
}

/** Per-parse wording for the schema's built-in checks; messages written in the schema win. */
export const describeIssue: z.core.$ZodErrorMap = (issue) => {
  switch (issue.code) {
    case "invalid_type":
      if (issue.input === undefined) return "required key is missing";
      return `expected ${describeExpected(issue.expected)}, got ${describeValue(issue.input)}`;
    case "too_small":
      return describeBound(issue.origin, Number(issue.minimum), issue.inclusive !== false, "min");
    case "too_big":
      return describeBound(issue.origin, Number(issue.maximum), issue.inclusive !== false, "max");
    case "invalid_value": {
      const values = issue.values.map(String);
      const got = describeValue(issue.input);
      const closest =
        typeof issue.input === "string" ? suggestClosest(issue.input, values) : undefined;
      const hint = closest === undefined ? "" : `; did you mean "${closest}"?`;
      return `must be one of ${values.join(", ")}, got ${got}${hint}`;
    }
    case "invalid_format":
      if (issue.format === "starts_with") return `must start with "${String(issue["prefix"])}"`;
      return `${describeValue(issue.input)} has the wrong format`;
    case "invalid_union":
      return `${describeValue(issue.input)} does not have an accepted form`;
    default:
      return undefined;
  }
};

function describeBound(origin: string, limit: number, isInclusive: boolean, side: "min" | "max") {
  if (origin === "array") {
    return side === "min"
      ? `needs at least ${itemCount(limit)}`
      : `takes at most ${itemCount(limit)}`;
  }
  if (origin === "string") {
    if (side === "min" && limit === 1) return "must not be empty";
    return side === "min"
      ? `needs at least ${limit} characters`
      : `takes at most ${limit} characters`;
  }
  if (side === "min")
    return isInclusive ? `must be at least ${limit}` : `must be more than ${limit}`;
  return isInclusive ? `must be at most ${limit}` : `must be less than ${limit}`;
}

function itemCount(count: number): string {
  return count === 1 ? "1 item" : `${count} items`;
}

function describeExpected(expected: string): string {
  switch (expected) {
    case "string":
      return "a string";
    case "number":
      return "a number";
    case "int":
      return "a whole number";
    case "boolean":
      return "true or false";
    case "array":
    case "tuple":
      return "a list";
    case "object":
    case "record":
    case "map":
      return "a mapping";
    default:
      return expected;
  }
}

/** How a value from the YAML reads back to the operator; long text is cut. */
export function describeValue(value: unknown): string {
  if (value === undefined || value === null) return "an empty value";
  if (typeof value === "string") {
    const text = value.length > 40 ? `${value.slice(0, 37)}...` : value;
    return JSON.stringify(text);
  }
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "a mapping";
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  return typeof value;
}

export interface IssueContext {
  /** The document as parsed (after interpolation), to tell a missing key from a null one. */
  readonly input: unknown;
  /** Keys a mapping accepts at a path, for the "did you mean" hint. */
  readonly knownKeysAt: (path: ConfigPath) => ReadonlySet<string>;
}

export function issuesToProblems(
  issues: readonly Issue[],
  context: IssueContext,
  prefix: ConfigPath = [],
): SchemaProblem[] {
  const problems: SchemaProblem[] = [];
  for (const issue of issues) {
    const path: ConfigPath = [...prefix, ...issue.path.map(toSegment)];
    switch (issue.code) {
      case "unrecognized_keys":
        for (const key of issue.keys) {
          problems.push({
            path: [...path, key],
            message: unknownKeyMessage(key, context.knownKeysAt(path)),
            isAtKey: true,
          });
        }
        break;
      case "invalid_key": {
        const key = String(path[path.length - 1] ?? "");
        const reasons = issue.issues.map((inner) => inner.message).join("; ");
        problems.push({ path, message: `key ${JSON.stringify(key)} ${reasons}`, isAtKey: true });
        break;
      }
      case "invalid_union": {
        const branch = closestBranch(issue.errors);
        if (branch === undefined) problems.push({ path, message: issue.message, isAtKey: false });
        else problems.push(...issuesToProblems(branch, context, path));
        break;
      }
      case "invalid_type":
        if (isMissingKey(context.input, path)) {
          const key = String(path[path.length - 1]);
          problems.push({ path, message: `required key "${key}" is missing`, isAtKey: false });
          break;
        }
        problems.push({ path, message: issue.message, isAtKey: false });
        break;
      default:
        problems.push({ path, message: issue.message, isAtKey: false });
    }
  }
  return problems;
}

function toSegment(segment: PropertyKey): string | number {
  return typeof segment === "number" ? segment : String(segment);
}

function unknownKeyMessage(key: string, known: ReadonlySet<string>): string {
  const closest = suggestClosest(key, known);
  if (closest !== undefined) return `unknown key "${key}"; did you mean "${closest}"?`;
  const list = [...known].join(", ");
  return list === "" ? `unknown key "${key}"` : `unknown key "${key}" (allowed: ${list})`;
}

/** The union branch that got furthest: one whose issues all lie inside the value. */
function closestBranch(branches: readonly (readonly Issue[])[]): readonly Issue[] | undefined {
  let best: readonly Issue[] | undefined;
  for (const branch of branches) {
    const isInside = branch.length > 0 && branch.every((issue) => issue.path.length > 0);
    if (isInside && (best === undefined || branch.length < best.length)) best = branch;
  }
  return best;
}

function isMissingKey(input: unknown, path: ConfigPath): boolean {
  if (path.length === 0) return false;
  let node: unknown = input;
  for (const segment of path.slice(0, -1)) {
    if (typeof node !== "object" || node === null) return false;
    node = (node as Record<string, unknown>)[String(segment)];
  }
  const last = path[path.length - 1];
  return (
    typeof node === "object" && node !== null && !Array.isArray(node) && !(String(last) in node)
  );
}
