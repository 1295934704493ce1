/**
 * Header names that origin servers fold into a framing header. CGI, WSGI and Rack turn a
 * header name into a variable by upper-casing it and mapping `-` to `_` (RFC 3875 4.1.18), so
 * `Transfer_Encoding` and `Transfer-Encoding` become the same HTTP_TRANSFER_ENCODING; others
 * map every non-alphanumeric character, or drop separators. A name that reads as a framing
 * header to the origin but not to us lets a client choose the body's length behind our back
 * (request smuggling), so any name that folds into one without being it is refused.
 */

/** "transferencoding" / "contentlength": what the framing names fold to. */
const FOLDED_TRANSFER_ENCODING = "transferencoding";
const FOLDED_CONTENT_LENGTH = "contentlength";
/** The shortest folded framing name: shorter names cannot fold into one. */
const SHORTEST_FOLDED = FOLDED_CONTENT_LENGTH.length;

/**
 * True for a name that is not `Transfer-Encoding` or `Content-Length` (in any ASCII case) but
 * folds into one when separators are mapped or dropped and case is ignored.
 */
export function isLookAlikeFramingName(name: string): boolean {
  if (name.length < SHORTEST_FOLDED) return false;
  // Every folding keeps the first letter: most names are ruled out by it alone.
  const first = firstLetter(name);
  if (first !== 0x63 /* c */ && first !== 0x74 /* t */) return false;
  const folded = foldName(name);
  if (folded !== FOLDED_TRANSFER_ENCODING && folded !== FOLDED_CONTENT_LENGTH) return false;
  const lower = name.toLowerCase();
  return lower !== "transfer-encoding" && lower !== "content-length";
}

/** The name lower-cased with every character other than a letter or digit dropped. */
function foldName(name: string): string {
  let folded = "";
  for (let i = 0; i < name.length; i++) {
    const code = alphanumericCode(name.charCodeAt(i));
    if (code !== 0) folded += String.fromCharCode(code);
  }
  return folded;
}

/** The first letter or digit of the name, lower-cased (0 when there is none). */
function firstLetter(name: string): number {
  for (let i = 0; i < name.length; i++) {
    const code = alphanumericCode(name.charCodeAt(i));
    if (code !== 0) return code;
  }
  return 0;
}

/** A letter's lower-case code, a digit's code, or 0 for anything else. */
function alphanumericCode(code: number): number {
  if (code >= 0x30 && code <= 0x39) return code;
  const lower = code | 0x20;
  return lower >= 0x61 && lower <= 0x7a ? lower : 0;
}
