/**
 * From a config path (["upstreams", "stable", "timeouts"]) to a line and column in the YAML
 * source, and back from a source offset to a path, through the parsed document's nodes.
 */
import { isAlias, isMap, isNode, isPair, isScalar, isSeq } from "yaml";
import type { Document, LineCounter, Node } from "yaml";
import type { ConfigPath } from "./references.ts";

export interface SourcePosition {
  readonly line: number;
  readonly column: number;
}

interface Located {
  /** The value found at the path, if any. */
  readonly node: Node | undefined;
  /** The key of the map pair holding that value, when it sits in a mapping. */
  readonly keyNode: Node | undefined;
}

export type PositionTarget = "value" | "key";

/**
 * Where to point for a problem at `path`. A scalar value is pointed at itself; a mapping or a
 * list held under a key is pointed at its key (the line the operator reads as "that block");
 * `key` points at the key itself. A path that does not exist (a missing key) points at the
 * deepest part of it that does, i.e. the parent mapping.
 */
export function positionOf(
  doc: Document,
  lineCounter: LineCounter,
  path: ConfigPath,
  target: PositionTarget = "value",
): SourcePosition {
  let found: Located = { node: resolve(doc, doc.contents ?? undefined), keyNode: undefined };
  for (const segment of path) {
    const next = child(doc, found.node, segment);
    if (next === undefined) break;
    found = next;
  }
  const { node, keyNode } = found;
  const isEmptyValue =
    node === undefined || (isScalar(node) && node.value === null && isEmptyRange(node));
  const pointAtKey = keyNode !== undefined && (target === "key" || isEmptyValue || !isScalar(node));
  const chosen = pointAtKey ? keyNode : node;
  const offset = chosen?.range?.[0] ?? 0;
  const { line, col } = lineCounter.linePos(offset);
  return { line, column: col };
}

function isEmptyRange(node: Node): boolean {
  return node.range === undefined || node.range === null || node.range[0] === node.range[1];
}

function resolve(doc: Document, node: unknown): Node | undefined {
  if (isAlias(node)) return node.resolve(doc);
  return isNode(node) ? node : undefined;
}

function child(
  doc: Document,
  parent: Node | undefined,
  segment: string | number,
): Located | undefined {
  if (isMap(parent)) {
    for (const pair of parent.items) {
      const key: unknown = pair.key;
      const keyText = isScalar(key) ? String(key.value) : String(key);
      if (keyText === String(segment)) {
        return { node: resolve(doc, pair.value), keyNode: isNode(key) ? key : undefined };
      }
    }
    return undefined;
  }
  if (isSeq(parent) && typeof segment === "number") {
    const item = resolve(doc, parent.items[segment]);
    return item === undefined ? undefined : { node: item, keyNode: undefined };
  }
  return undefined;
}

/**
 * Line and column (1-based) of a source offset, counted in the text itself: after a syntax
 * error, yaml's LineCounter misses the line breaks inside the tokens its lexer gave up on.
 */
export function positionAtOffset(text: string, offset: number): SourcePosition {
  const end = Math.max(0, Math.min(offset, text.length));
  let line = 1;
  let lineStart = 0;
  for (let i = text.indexOf("\n"); i >= 0 && i < end; i = text.indexOf("\n", i + 1)) {
    line++;
    lineStart = i + 1;
  }
  return { line, column: end - lineStart + 1 };
}

/** The path of the innermost key or value whose source range holds `offset`. */
export function pathAtOffset(doc: Document, offset: number): (string | number)[] {
  const path: (string | number)[] = [];
  let node: unknown = doc.contents;
  for (;;) {
    const next = innerAt(node, offset);
    if (next === undefined) return path;
    path.push(next.segment);
    if (next.isKey) return path;
    node = next.node;
  }
}

function innerAt(
  node: unknown,
  offset: number,
): { segment: string | number; node: unknown; isKey: boolean } | undefined {
  if (isMap(node)) {
    for (const pair of node.items) {
      if (!isPair(pair)) continue;
      const key: unknown = pair.key;
      const segment = isScalar(key) ? String(key.value) : String(key);
      if (contains(key, offset)) return { segment, node: key, isKey: true };
      if (contains(pair.value, offset)) return { segment, node: pair.value, isKey: false };
    }
  }
  if (isSeq(node)) {
    const index = node.items.findIndex((item) => contains(item, offset));
    if (index >= 0) return { segment: index, node: node.items[index], isKey: false };
  }
  return undefined;
}

function contains(node: unknown, offset: number): boolean {
  if (!isNode(node) || !node.range) return false;
  return node.range[0] <= offset && offset < Math.max(node.range[2], node.range[0] + 1);
}
