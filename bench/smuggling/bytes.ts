/**
 * Bytes as text. The corpus and the origin work on latin1 strings (one character per byte), so
 * offsets are byte offsets and any byte survives the round trip; `escapeBytes` renders them for
 * the report with every byte outside printable ASCII escaped.
 */

export function fromLatin1(text: string): Buffer {
  return Buffer.from(text, "latin1");
}

export function toLatin1(bytes: Buffer): string {
  return bytes.toString("latin1");
}

const NAMED_ESCAPES: Record<string, string> = {
  "\r": "\\r",
  "\n": "\\n",
  "\t": "\\t",
  "\\": "\\\\",
};

/** `\r`, `\n`, `\t`, `\\` and `\xNN` for every other byte outside 0x20-0x7e. */
export function escapeBytes(text: string, maxChars = Infinity): string {
  let out = "";
  for (let i = 0; i < text.length; i++) {
    if (out.length >= maxChars) return `${out}... (${text.length} bytes)`;
    const char = text.charAt(i);
    const code = text.charCodeAt(i);
    const named = NAMED_ESCAPES[char];
    if (named !== undefined) out += named;
    else if (code < 0x20 || code > 0x7e) out += `\\x${code.toString(16).padStart(2, "0")}`;
    else out += char;
  }
  return out;
}
