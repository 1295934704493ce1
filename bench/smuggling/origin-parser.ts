/**
 * How the recording origin reads what a proxy sends it, and what it finds wrong with it.
 *
 * Framing is read leniently, the way permissive origin servers do: bare LF ends a line, obs-fold
 * joins lines, header names are compared after trimming, lower-casing and mapping `_` to `-`
 * (CGI, WSGI and Rack turn both into `_`), any Transfer-Encoding that mentions `chunked` makes
 * the body chunked and wins over Content-Length, Content-Length is read with parseInt, chunk
 * sizes with parseInt(16) and chunk extensions are skipped. So wherever a proxy lets an
 * ambiguity through, this origin is one that reads it the other way.
 *
 * Separately, `findAnomalies` checks each request strictly against the HTTP/1.1 grammar and
 * lists what a careful proxy would have refused or normalised before forwarding: constructs
 * that make the framing ambiguous, and other defects.
 */
import { escapeBytes } from "./bytes.ts";

export type BodyFraming = "none" | "content-length" | "chunked";

export interface ParsedHead {
  /** The raw head, request line to the blank line included. */
  raw: string;
  method: string;
  target: string;
  /** "" when the request line has no version. */
  version: string;
  fields: Field[];
  framing: BodyFraming;
  contentLength: number;
  /** Why this origin cannot frame it, if it cannot. */
  error: string | undefined;
}

export interface Field {
  name: string;
  value: string;
}

export type BodyResult =
  | {
      kind: "complete";
      end: number;
      chunkLines: string[];
      terminators: string[];
      trailers: string[];
    }
  | { kind: "need-more" }
  | { kind: "error"; reason: string };

const MAX_CHUNK_SIZE = 2 ** 40;
const MAX_LINE = 64 * 1024;

/** Offset just past the blank line that ends the head starting at `from`, or -1 (need more). */
export function findHeadEnd(buffer: string, from: number): number {
  let lineStart = from;
  let isFirst = true;
  for (;;) {
    const lf = buffer.indexOf("\n", lineStart);
    if (lf === -1) return -1;
    const line = stripCr(buffer.slice(lineStart, lf));
    if (!isFirst && line === "") return lf + 1;
    isFirst = false;
    lineStart = lf + 1;
  }
}

/** Skips the empty lines a server may ignore before a request line; returns the new offset. */
export function skipEmptyLines(buffer: string, from: number): number {
  let at = from;
  for (;;) {
    if (buffer.startsWith("\r\n", at)) at += 2;
    else if (buffer.startsWith("\n", at)) at += 1;
    else return at;
  }
}

export function parseHead(raw: string): ParsedHead {
  const lines = raw.split("\n").map(stripCr);
  while (lines.length > 0 && lines[lines.length - 1] === "") lines.pop();
  const words = (lines[0] ?? "").trim().split(/[ \t]+/);
  let method = words[0] ?? "";
  let target = "";
  let version = "";
  let error: string | undefined;
  const last = words[words.length - 1] ?? "";
  if (words.length >= 3 && /^HTTP\//i.test(last)) {
    target = words.slice(1, -1).join(" ");
    version = last;
  } else if (words.length === 2) {
    target = words[1] ?? "";
  } else {
    method = "";
    error = "no request line";
  }
  const fields: Field[] = [];
  for (const line of lines.slice(1)) {
    const previous = fields[fields.length - 1];
    if ((line.startsWith(" ") || line.startsWith("\t")) && previous !== undefined) {
      previous.value = `${previous.value} ${trimOws(line)}`;
      continue;
    }
    const colon = line.indexOf(":");
    if (colon <= 0) continue;
    fields.push({ name: line.slice(0, colon), value: trimOws(line.slice(colon + 1)) });
  }
  const key = (name: string): string => name.trim().toLowerCase().replaceAll("_", "-");
  let framing: BodyFraming = "none";
  let contentLength = 0;
  const transferEncodings = fields.filter((field) => key(field.name) === "transfer-encoding");
  const contentLengths = fields.filter((field) => key(field.name) === "content-length");
  if (transferEncodings.some((field) => field.value.toLowerCase().includes("chunked"))) {
    framing = "chunked";
  } else if (contentLengths[0] !== undefined) {
    const length = Number.parseInt(contentLengths[0].value.trim(), 10);
    if (Number.isNaN(length) || length < 0) {
      error ??= `Content-Length ${JSON.stringify(contentLengths[0].value)}`;
    } else if (length > 0) {
      framing = "content-length";
      contentLength = length;
    }
  }
  return { raw, method, target, version, fields, framing, contentLength, error };
}

/** Reads a chunked body starting at `from`, leniently (see the file comment). */
export function parseChunkedBody(buffer: string, from: number): BodyResult {
  const chunkLines: string[] = [];
  const terminators: string[] = [];
  const trailers: string[] = [];
  let at = from;
  for (;;) {
    const lf = buffer.indexOf("\n", at);
    if (lf === -1) {
      return buffer.length - at > MAX_LINE
        ? { kind: "error", reason: "chunk size line too long" }
        : { kind: "need-more" };
    }
    const rawLine = buffer.slice(at, lf + 1);
    const sizeText = (stripCr(rawLine.slice(0, -1)).split(";")[0] ?? "").trim();
    const size = Number.parseInt(sizeText, 16);
    if (Number.isNaN(size) || size < 0)
      return { kind: "error", reason: `chunk size ${JSON.stringify(sizeText)}` };
    if (size > MAX_CHUNK_SIZE) return { kind: "error", reason: "chunk size too large" };
    chunkLines.push(rawLine);
    at = lf + 1;
    if (size === 0) {
      for (;;) {
        const end = buffer.indexOf("\n", at);
        if (end === -1) return { kind: "need-more" };
        const line = buffer.slice(at, end + 1);
        at = end + 1;
        if (stripCr(line.slice(0, -1)) === "") {
          return { kind: "complete", end: at, chunkLines, terminators, trailers };
        }
        trailers.push(line);
      }
    }
    const after = at + size;
    if (buffer.length < after + 1) return { kind: "need-more" };
    if (buffer.startsWith("\r\n", after)) {
      terminators.push("\r\n");
      at = after + 2;
    } else if (buffer.charAt(after) === "\n") {
      terminators.push("\n");
      at = after + 1;
    } else if (buffer.charAt(after) === "\r" && buffer.length === after + 1) {
      return { kind: "need-more" };
    } else {
      return { kind: "error", reason: "chunk data not followed by CRLF" };
    }
  }
}

// ---- Strict checks -------------------------------------------------------------------------

const TOKEN = "[!#$%&'*+\\-.^_`|~0-9A-Za-z]+";
const TOKEN_PATTERN = new RegExp(`^${TOKEN}$`);
const REQUEST_LINE = new RegExp(`^${TOKEN} [\\x21-\\x7e\\x80-\\xff]+ HTTP/1\\.[01]$`);
const QUOTED =
  '"(?:[\\t \\x21\\x23-\\x5b\\x5d-\\x7e\\x80-\\xff]|\\\\[\\t \\x21-\\x7e\\x80-\\xff])*"';
const CHUNK_LINE = new RegExp(
  `^[0-9A-Fa-f]+(?:[ \\t]*;[ \\t]*${TOKEN}(?:[ \\t]*=[ \\t]*(?:${TOKEN}|${QUOTED}))?)*\\r\\n$`,
);
const HOST_VALUE = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9\-._~!$&'()*+,;=%]+)(?::\d{0,5})?$/;
const FRAMING_FOLDED = new Set(["transferencoding", "contentlength"]);
const FRAMING_NAMES = new Set(["transfer-encoding", "content-length"]);

export interface Findings {
  /**
   * Constructs that let two readers frame the message differently: line structure (bare LF or
   * CR, obs-fold, a line without a colon), a name the lenient origin reads as a framing header,
   * Content-Length other than one plain number, Transfer-Encoding other than one `chunked` or
   * next to Content-Length or on HTTP/1.0, an HTTP version other than 1.0 and 1.1, a chunk
   * size line or data terminator outside the grammar. A request smuggling risk.
   */
  ambiguities: string[];
  /**
   * The rest of what a careful proxy refuses or rewrites, where the framing is still clear:
   * Host problems, names outside the token grammar, control bytes in other values, other
   * request-line deviations, framing fields as trailers, an h2c upgrade, a look-alike framing
   * name only an origin that drops or maps other separators would fold.
   */
  defects: string[];
}

/** What a careful proxy would not have sent, from the request's head and its chunked body. */
export function findAnomalies(
  head: ParsedHead,
  body: Extract<BodyResult, { kind: "complete" }> | undefined,
): Findings {
  const ambiguities: string[] = [];
  const defects: string[] = [];
  const raw = head.raw;
  if (/\r(?!\n)|(?<!\r)\n/.test(raw)) ambiguities.push("line endings other than CRLF");
  const lines = raw.split("\n").map(stripCr);
  while (lines.length > 0 && lines[lines.length - 1] === "") lines.pop();
  const requestLine = lines[0] ?? "";
  if (!/^HTTP\/1\.[01]$/.test(head.version)) {
    ambiguities.push(`HTTP version \`${escape(head.version)}\``);
  } else if (!REQUEST_LINE.test(requestLine)) {
    defects.push(`request line \`${escape(requestLine)}\``);
  } else if (head.target.includes("#")) {
    defects.push("a fragment in the request target");
  }
  const strictFields: Field[] = [];
  for (const line of lines.slice(1)) {
    if (line.startsWith(" ") || line.startsWith("\t")) {
      ambiguities.push(`obs-fold \`${escape(line)}\``);
      continue;
    }
    const colon = line.indexOf(":");
    if (colon === -1) {
      ambiguities.push(`field line without a colon \`${escape(line)}\``);
      continue;
    }
    const name = line.slice(0, colon);
    const value = trimOws(line.slice(colon + 1));
    const lower = name.toLowerCase();
    if (FRAMING_NAMES.has(lower)) {
      strictFields.push({ name, value });
    } else if (FRAMING_NAMES.has(lower.trim().replaceAll("_", "-"))) {
      ambiguities.push(
        `look-alike framing name \`${escape(name)}\` (read as framing by this origin)`,
      );
      continue;
    } else if (FRAMING_FOLDED.has(lower.replace(/[^a-z0-9]/g, ""))) {
      defects.push(
        `look-alike framing name \`${escape(name)}\` (framing only to origins that drop or map other separators)`,
      );
      continue;
    } else if (TOKEN_PATTERN.test(name)) {
      strictFields.push({ name, value });
    } else {
      defects.push(`header name \`${escape(name)}\` is not a token`);
    }
    if (hasControlByte(value) && !FRAMING_NAMES.has(lower)) {
      defects.push(`control byte in the value of \`${escape(name)}\``);
    }
  }
  const named = (wanted: string): Field[] =>
    strictFields.filter((field) => field.name.toLowerCase() === wanted);

  const hosts = named("host");
  if (hosts.length > 1 || (head.version === "HTTP/1.1" && hosts.length === 0)) {
    defects.push(`${hosts.length} Host headers`);
  }
  for (const host of hosts) {
    if (!HOST_VALUE.test(host.value)) defects.push(`Host \`${escape(host.value)}\``);
  }
  const authority = /^https?:\/\/([^/?#]*)/i.exec(head.target)?.[1];
  const hostValue = hosts[0]?.value;
  if (authority !== undefined && authority.toLowerCase() !== hostValue?.toLowerCase()) {
    defects.push(
      `absolute-form target for \`${escape(authority)}\` with Host \`${escape(hostValue ?? "")}\``,
    );
  }

  const lengths = named("content-length");
  for (const length of lengths) {
    if (!/^\d+$/.test(length.value)) {
      ambiguities.push(`Content-Length \`${escape(length.value)}\``);
    }
  }
  if (new Set(lengths.map((length) => length.value)).size > 1) {
    ambiguities.push("Content-Length headers that disagree");
  }
  const encodings = named("transfer-encoding");
  if (encodings.length > 0) {
    if (lengths.length > 0) ambiguities.push("Content-Length and Transfer-Encoding together");
    if (encodings.length > 1) ambiguities.push(`${encodings.length} Transfer-Encoding field lines`);
    const value = encodings.map((field) => field.value).join(", ");
    if (value.trim().toLowerCase() !== "chunked") {
      ambiguities.push(`Transfer-Encoding \`${escape(value)}\``);
    }
    if (head.version === "HTTP/1.0") ambiguities.push("Transfer-Encoding on HTTP/1.0");
  }
  if (named("upgrade").some((field) => /h2c/i.test(field.value))) {
    defects.push("Upgrade: h2c (an h2c origin would switch protocols behind the proxy)");
  }

  if (body !== undefined) {
    for (const line of body.chunkLines) {
      if (!CHUNK_LINE.test(line)) ambiguities.push(`chunk size line \`${escape(line)}\``);
    }
    if (body.terminators.some((terminator) => terminator !== "\r\n")) {
      ambiguities.push("chunk data ended by a bare LF");
    }
    for (const trailer of body.trailers) {
      const text = trailer.endsWith("\r\n") ? trailer.slice(0, -2) : trailer;
      const colon = text.indexOf(":");
      const name = colon === -1 ? "" : text.slice(0, colon);
      if (!trailer.endsWith("\r\n")) {
        ambiguities.push(`trailer line \`${escape(trailer)}\``);
      } else if (!TOKEN_PATTERN.test(name)) {
        defects.push(`trailer line \`${escape(trailer)}\``);
      } else if (FRAMING_NAMES.has(name.toLowerCase()) || name.toLowerCase() === "host") {
        defects.push(`${name} as a trailer field`);
      } else if (hasControlByte(text.slice(colon + 1))) {
        defects.push(`control byte in trailer \`${escape(name)}\``);
      }
    }
  }
  return { ambiguities, defects };
}

/** A control byte other than HTAB (allowed in field values). */
function hasControlByte(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if ((code < 0x20 && code !== 0x09) || code === 0x7f) return true;
  }
  return false;
}

function stripCr(line: string): string {
  return line.endsWith("\r") ? line.slice(0, -1) : line;
}

/** Trims spaces and tabs only (optional whitespace), unlike String.trim. */
function trimOws(text: string): string {
  return text.replace(/^[ \t]+|[ \t]+$/g, "");
}

function escape(text: string): string {
  return escapeBytes(text, 120);
}
