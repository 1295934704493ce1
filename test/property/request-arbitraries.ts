/**
 * Generators of requests outside the HTTP/1.1 grammar (RFC 9110 token, RFC 9112 request-line),
 * as latin1 strings so that every character is one byte on the wire.
 */
import fc from "fast-check";

/** RFC 9110 tchar. */
const TCHARS = "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
/** Separators of RFC 9110, without ':' (the first colon ends a header name). */
const SEPARATORS = '"(),/;<=>?@[\\]{} ';

const latin1 = (code: number): string => String.fromCharCode(code);
const CONTROLS = [...Array.from({ length: 0x20 }, (_, code) => latin1(code)), "\x7f"];
const NON_ASCII = fc.integer({ min: 0x80, max: 0xff }).map(latin1);

const tokenText = (maxLength: number): fc.Arbitrary<string> =>
  fc.string({ unit: fc.constantFrom(...Array.from(TCHARS)), maxLength });

/** One byte that a token may not hold: a separator, a control (CR and LF too), or non-ASCII. */
const nonTokenByte = fc.oneof(
  fc.constantFrom(...Array.from(SEPARATORS)),
  fc.constantFrom(...CONTROLS),
  NON_ASCII,
);

/** A header name with at least one byte outside token, or an empty one. */
export const badHeaderName: fc.Arbitrary<string> = fc.oneof(
  { weight: 1, arbitrary: fc.constant("") },
  {
    weight: 12,
    arbitrary: fc
      .tuple(tokenText(6), fc.array(nonTokenByte, { minLength: 1, maxLength: 3 }), tokenText(6))
      .map(([before, bad, after]) => `${before}${bad.join("")}${after}`),
  },
);

const HOST_HEADER = "Host: a.example\r\n";

/** A GET or a POST with an empty body, holding one bad header name among good headers. */
export const requestWithBadHeaderName: fc.Arbitrary<string> = fc
  .tuple(fc.constantFrom("GET", "POST"), badHeaderName, fc.nat({ max: 2 }))
  .map(([method, name, position]) => {
    const headers = [HOST_HEADER, "Accept: */*\r\n", `${name}: value\r\n`];
    if (method === "POST") headers.push("Content-Length: 0\r\n");
    const bad = headers.splice(2, 1);
    headers.splice(position, 0, ...bad);
    return `${method} / HTTP/1.1\r\n${headers.join("")}\r\n`;
  });

/** A method with a byte outside token, or an empty one. */
const badMethod = fc.oneof(
  fc.constant(""),
  fc
    .tuple(fc.constantFrom("GET", "POST", "G", ""), nonTokenByte, tokenText(3))
    .map((parts) => parts.join("")),
);

/**
 * A target holding a space, a control byte or a non-ASCII byte. Printable ASCII outside RFC
 * 3986 (`{ } | " < > \ ^ \``) is left out: it is forwarded as is, as nginx does.
 */
const badTarget = fc
  .tuple(
    fc.constantFrom("/", "/a", "/a?b=", "http://a.example/"),
    fc.oneof(fc.constantFrom(...CONTROLS, " "), NON_ASCII),
    fc.constantFrom("", "x", "/y"),
  )
  .map((parts) => parts.join(""));

/** Versions other than HTTP/1.0 and HTTP/1.1, close and far. */
export const badVersion: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    "HTTP/1.2",
    "HTTP/2.0",
    "HTTP/2",
    "HTTP/3.0",
    "HTTP/0.9",
    "HTTP/1",
    "HTTP/1.",
    "HTTP/1.10",
    "HTTP/01.1",
    "HTTP/1.1x",
    "HTTP/ 1.1",
    "http/1.1",
    "Http/1.1",
    "HTTPS/1.1",
    "HTTP-1.1",
    "HTTP\\1.1",
  ),
  fc
    .tuple(fc.integer({ min: 0, max: 9 }), fc.integer({ min: 0, max: 9 }))
    .filter(([major, minor]) => major !== 1 || minor > 1)
    .map(([major, minor]) => `HTTP/${major}.${minor}`),
);

/** Separators between the parts, at least one of them irregular. */
const IRREGULAR = ["  ", "   ", "\t", " \t", "\t ", "\x0b", "\x0c", "\r", "\xa0"];
const separator = fc.constantFrom(" ", ...IRREGULAR);
const edge = fc.constantFrom("", "", " ", "\t");

const irregularWhitespaceLine = fc
  .tuple(edge, separator, separator, edge)
  .filter(([lead, first, second, trail]) => `${lead}${first}${second}${trail}` !== "  ")
  .map(([lead, first, second, trail]) => `${lead}GET${first}/${second}HTTP/1.1${trail}`);

/** A request line with a part missing or one too many. */
const missingOrExtraParts = fc.constantFrom(
  "GET",
  "GET /",
  "GET HTTP/1.1",
  "/ HTTP/1.1",
  "HTTP/1.1",
  "GET / HTTP/1.1 extra",
  "GET / / HTTP/1.1",
  "GET /a b HTTP/1.1",
);

export type RequestLineFlaw = "method" | "target" | "version" | "whitespace" | "parts";

/** A malformed request line, tagged with what is wrong with it. */
export const badRequestLine: fc.Arbitrary<{ flaw: RequestLineFlaw; line: string }> = fc.oneof(
  badMethod.map((method) => ({ flaw: "method" as const, line: `${method} / HTTP/1.1` })),
  badTarget.map((target) => ({ flaw: "target" as const, line: `GET ${target} HTTP/1.1` })),
  badVersion.map((version) => ({ flaw: "version" as const, line: `GET / ${version}` })),
  irregularWhitespaceLine.map((line) => ({ flaw: "whitespace" as const, line })),
  missingOrExtraParts.map((line) => ({ flaw: "parts" as const, line })),
);

export function requestWithLine(line: string): string {
  return `${line}\r\n${HOST_HEADER}\r\n`;
}
