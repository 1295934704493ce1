/**
 * Breaks a config's data on purpose: drop a key or item, put a value of another type, add a
 * key, or bury a value under deep nesting. Each mutation picks its place by an index into the
 * document's nodes (taken modulo their count), so any index is valid and shrinks well.
 */

export type TreeMutation =
  | { readonly kind: "drop"; readonly at: number }
  | { readonly kind: "set"; readonly at: number; readonly value: unknown }
  | { readonly kind: "addKey"; readonly at: number; readonly key: string; readonly value: unknown }
  | {
      readonly kind: "nest";
      readonly at: number;
      readonly depth: number;
      readonly isList: boolean;
    };

type Path = readonly (string | number)[];
type Container = Record<string, unknown> | unknown[];

/** Returns the mutated data (a new root when the root itself is replaced). */
export function applyTreeMutation(data: unknown, mutation: TreeMutation): unknown {
  const paths = nodePaths(data, []);
  const path = paths[mutation.at % paths.length] ?? [];
  switch (mutation.kind) {
    case "drop":
      return dropAt(data, path);
    case "set":
      return replaceAt(data, path, mutation.value);
    case "addKey":
      return addKeyAt(data, path, mutation.key, mutation.value);
    case "nest":
      return replaceAt(data, path, nest(valueAt(data, path), mutation.depth, mutation.isList));
  }
}

/** Every node's path, the root's included, in document order. */
function nodePaths(value: unknown, path: Path): Path[] {
  const paths: Path[] = [path];
  if (Array.isArray(value)) {
    value.forEach((item, index) => paths.push(...nodePaths(item, [...path, index])));
  } else if (isRecord(value)) {
    for (const [key, item] of Object.entries(value)) paths.push(...nodePaths(item, [...path, key]));
  }
  return paths;
}

function valueAt(data: unknown, path: Path): unknown {
  let value = data;
  for (const segment of path) value = (value as Record<string | number, unknown>)[segment];
  return value;
}

function replaceAt(data: unknown, path: Path, value: unknown): unknown {
  if (path.length === 0) return value;
  const parent = valueAt(data, path.slice(0, -1)) as Container;
  (parent as Record<string | number, unknown>)[path[path.length - 1] ?? ""] = value;
  return data;
}

function dropAt(data: unknown, path: Path): unknown {
  if (path.length === 0) return null;
  const parent = valueAt(data, path.slice(0, -1)) as Container;
  const last = path[path.length - 1] ?? "";
  if (Array.isArray(parent)) parent.splice(Number(last), 1);
  else Reflect.deleteProperty(parent, last);
  return data;
}

function addKeyAt(data: unknown, path: Path, key: string, value: unknown): unknown {
  const target = valueAt(data, path);
  if (isRecord(target)) {
    // defineProperty: a key named __proto__ must become data, as the YAML parser makes it.
    Object.defineProperty(target, key, { value, enumerable: true, writable: true });
  } else if (Array.isArray(target)) {
    target.push(value);
  } else {
    return replaceAt(data, path, { [key]: value });
  }
  return data;
}

function nest(value: unknown, depth: number, isList: boolean): unknown {
  let nested = value;
  for (let i = 0; i < depth; i++) nested = isList ? [nested] : { a: nested };
  return nested;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
