/**
 * The config keys read only when the process starts (SPEC 6), named here and nowhere else. A
 * reload applies everything else and lists the keys of this list whose value differs from the
 * config the process started with, so that no change is silently ignored. Every other key
 * follows reloads; a new key read only at startup belongs in this list.
 */
import { isDeepStrictEqual } from "node:util";
import type { Config } from "./schema.ts";

/** Each entry stands for the key and every key below it. */
export const STARTUP_ONLY_KEYS: readonly string[] = [
  // The listeners are bound once.
  "listen",
  // The state store is opened once; its saves keep going to the file it opened.
  "state.file",
  // The processes are started once; `auto` is compared as written, not as what it resolved to.
  "workers",
  // The shared store is joined once (a block compared only when present).
  "fleet",
  // node reads it only in http.createServer (src/proxy/proxy-server.ts).
  "server.maxHeaderSize",
];

/**
 * The dotted paths of startup-only keys whose value differs between the config in force at
 * startup and `next`, sorted; a key present on one side only counts as a difference.
 */
export function restartRequiredKeys(running: Config, next: Config): string[] {
  const keys: string[] = [];
  for (const key of STARTUP_ONLY_KEYS) {
    const path = key.split(".");
    keys.push(...differingLeaves(key, valueAt(running, path), valueAt(next, path)));
  }
  return keys.sort();
}

function valueAt(root: unknown, path: readonly string[]): unknown {
  let value = root;
  for (const segment of path) {
    if (!isRecord(value)) return undefined;
    value = value[segment];
  }
  return value;
}

/** The paths below `path` where `a` and `b` differ; lists and scalars compare whole. */
function differingLeaves(path: string, a: unknown, b: unknown): string[] {
  const isNested = (isRecord(a) || a === undefined) && (isRecord(b) || b === undefined);
  if (!isNested || (a === undefined && b === undefined)) {
    return isDeepStrictEqual(a, b) ? [] : [path];
  }
  const left = isRecord(a) ? a : {};
  const right = isRecord(b) ? b : {};
  const names = new Set([...Object.keys(left), ...Object.keys(right)]);
  return [...names].flatMap((name) => differingLeaves(`${path}.${name}`, left[name], right[name]));
}

function isRecord(value: unknown): value is Readonly<Record<string, unknown>> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
