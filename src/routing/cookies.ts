/**
 * Reading cookies straight from the Cookie header, only for the names a rule or sticky asks
 * for: no per-request map is built. Names are case-sensitive (RFC 6265); values are taken as
 * sent, without percent-decoding, with surrounding whitespace and one pair of double quotes
 * removed.
 */
import type { ValueMatcher } from "./value-matcher.ts";

export type CookieHeader = string | readonly string[] | undefined;

/** The value of the first cookie called `name`, or undefined when there is none. */
export function readCookie(header: CookieHeader, name: string): string | undefined {
  if (header === undefined) return undefined;
  if (typeof header === "string") return readFirst(header, name);
  for (const line of header) {
    const value = readFirst(line, name);
    if (value !== undefined) return value;
  }
  return undefined;
}

/** Whether any cookie called `name` has a value that `matcher` accepts. */
export function cookieMatches(header: CookieHeader, name: string, matcher: ValueMatcher): boolean {
  if (header === undefined) return false;
  if (typeof header === "string") return anyMatches(header, name, matcher);
  for (const line of header) {
    if (anyMatches(line, name, matcher)) return true;
  }
  return false;
}

function readFirst(header: string, name: string): string | undefined {
  const start = findValueStart(header, name, 0);
  return start === -1 ? undefined : valueAt(header, start, valueEnd(header, start));
}

function anyMatches(header: string, name: string, matcher: ValueMatcher): boolean {
  let from = 0;
  for (;;) {
    const start = findValueStart(header, name, from);
    if (start === -1) return false;
    const end = valueEnd(header, start);
    if (matcher.matches(valueAt(header, start, end))) return true;
    from = end + 1;
  }
}

/** The index just after `name=` of the next pair at or after `from` named `name`, or -1. */
function findValueStart(header: string, name: string, from: number): number {
  let pairStart = from;
  while (pairStart < header.length) {
    let pairEnd = header.indexOf(";", pairStart);
    if (pairEnd === -1) pairEnd = header.length;
    const equals = header.indexOf("=", pairStart);
    if (equals !== -1 && equals < pairEnd) {
      let nameStart = pairStart;
      let nameEnd = equals;
      while (nameStart < nameEnd && isSpace(header.charCodeAt(nameStart))) nameStart++;
      while (nameEnd > nameStart && isSpace(header.charCodeAt(nameEnd - 1))) nameEnd--;
      if (nameEnd - nameStart === name.length && header.startsWith(name, nameStart)) {
        return equals + 1;
      }
    }
    pairStart = pairEnd + 1;
  }
  return -1;
}

function valueEnd(header: string, valueStart: number): number {
  const end = header.indexOf(";", valueStart);
  return end === -1 ? header.length : end;
}

function valueAt(header: string, start: number, end: number): string {
  let from = start;
  let to = end;
  while (from < to && isSpace(header.charCodeAt(from))) from++;
  while (to > from && isSpace(header.charCodeAt(to - 1))) to--;
  if (to - from >= 2 && header.charCodeAt(from) === QUOTE && header.charCodeAt(to - 1) === QUOTE) {
    from++;
    to--;
  }
  return header.slice(from, to);
}

const QUOTE = 0x22;

function isSpace(code: number): boolean {
  return code === 0x20 || code === 0x09;
}
