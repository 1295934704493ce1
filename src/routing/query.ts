/**
 * Reading query parameters straight from the raw query string (without '?'), only for the
 * names a rule asks for. Names and values are decoded as HTML forms encode them ('+' is a
 * space, then percent-escapes); a pair with a malformed escape never matches. A parameter
 * without '=' has the empty value. A name that appears several times matches if any value does.
 */
import type { ValueMatcher } from "./value-matcher.ts";

const PERCENT = 0x25;
const PLUS = 0x2b;

export function queryMatches(rawQuery: string, name: string, matcher: ValueMatcher): boolean {
  let pairStart = 0;
  while (pairStart < rawQuery.length) {
    let pairEnd = rawQuery.indexOf("&", pairStart);
    if (pairEnd === -1) pairEnd = rawQuery.length;
    let nameEnd = rawQuery.indexOf("=", pairStart);
    if (nameEnd === -1 || nameEnd > pairEnd) nameEnd = pairEnd;
    if (nameEnd > pairStart && hasName(rawQuery, pairStart, nameEnd, name)) {
      const valueStart = nameEnd === pairEnd ? pairEnd : nameEnd + 1;
      const value = decodeRange(rawQuery, valueStart, pairEnd);
      if (value !== undefined && matcher.matches(value)) return true;
    }
    pairStart = pairEnd + 1;
  }
  return false;
}

function hasName(text: string, start: number, end: number, name: string): boolean {
  if (!isEncoded(text, start, end)) {
    return end - start === name.length && text.startsWith(name, start);
  }
  return decodeRange(text, start, end) === name;
}

/** `text[start..end)` form-decoded, or undefined when it holds a malformed escape. */
function decodeRange(text: string, start: number, end: number): string | undefined {
  const raw = text.slice(start, end);
  if (!isEncoded(text, start, end)) return raw;
  try {
    return decodeURIComponent(raw.replaceAll("+", " "));
  } catch {
    return undefined;
  }
}

function isEncoded(text: string, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const code = text.charCodeAt(i);
    if (code === PERCENT || code === PLUS) return true;
  }
  return false;
}
