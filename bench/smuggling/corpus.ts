/**
 * The request-smuggling corpus: ambiguous or malformed HTTP/1.1 requests as exact bytes, grouped
 * by class. Every request targets `/c/<case name>`, so the origin's log names the case.
 *
 * Where a reading of the bytes other than the careful one can end the request early, the bytes
 * after that point are a complete second request, `GET /c/<case name>/hidden`. A careful reader
 * never reads it as a request: it is body, chunk data, or bytes after a request the reader
 * refuses. So an origin that reads `/hidden` read the bytes differently from a careful proxy,
 * and a proxy that forwards it as a request of its own misread them itself. Control cases are
 * well-formed and must be forwarded as one request.
 */
import { escapeBytes } from "./bytes.ts";

export const CASE_CLASSES = {
  control: "well-formed requests, including bodies that look like requests: forwarded as one",
  "cl-te": "Content-Length and Transfer-Encoding in the same request",
  "content-length": "Content-Length values other than one plain decimal number, or two of them",
  "transfer-encoding": "Transfer-Encoding values and field lines other than a plain `chunked`",
  "look-alike-names":
    "header names that origins fold into Transfer-Encoding or Content-Length (`_`, `.`, no dash)",
  "obs-fold": "header values continued on the next line (obsolete line folding)",
  "line-endings": "bare LF or bare CR where CRLF belongs",
  "ctl-bytes": "NUL and other control bytes in names, values and the request target",
  "header-names": "header names with characters outside the token grammar, or no colon",
  "chunked-body": "chunk sizes, extensions, data and trailers that break the chunked grammar",
  "request-line": "HTTP versions, separators and request targets outside the grammar",
  host: "duplicate, missing and malformed Host headers",
  oversized: "header sections and request lines from 7 KB to 70 KB",
  expect: "Expect: 100-continue and other expectations",
  upgrade: "h2c and WebSocket upgrades, and the HTTP/2 connection preface",
} as const;

export type CaseClass = keyof typeof CASE_CLASSES;

export interface SmugglingCase {
  /** Unique, `[a-z0-9-]`: also the request path `/c/<name>`. */
  name: string;
  class: CaseClass;
  /** What the case probes. */
  about: string;
  /** The exact bytes sent on a fresh client connection, one character per byte (latin1). */
  bytes: string;
}

export const HIDDEN_SUFFIX = "/hidden";
const HOST = "Host: origin.test";

export function casePath(name: string): string {
  return `/c/${name}`;
}

/** The second request hidden in a case's bytes. */
export function hiddenRequest(name: string): string {
  return `GET ${casePath(name)}${HIDDEN_SUFFIX} HTTP/1.1\r\n${HOST}\r\n\r\n`;
}

/** A request from its start line, field lines (each without its CRLF) and body. */
function message(startLine: string, fields: readonly string[], body = ""): string {
  return `${startLine}\r\n${fields.map((field) => `${field}\r\n`).join("")}\r\n${body}`;
}

function startLine(method: string, name: string, version = "HTTP/1.1"): string {
  return `${method} ${casePath(name)} ${version}`;
}

/** GET with Host and `fields`. */
function get(name: string, fields: readonly string[] = []): string {
  return message(startLine("GET", name), [HOST, ...fields]);
}

/**
 * POST whose body is `0\r\n\r\n` followed by the hidden request: one body of `length` bytes to
 * a Content-Length reader, an empty chunked body and then a second request to a chunked reader.
 */
function chunkedTail(
  name: string,
  fields: (length: number) => string[],
  version = "HTTP/1.1",
): string {
  const body = `0\r\n\r\n${hiddenRequest(name)}`;
  return message(startLine("POST", name, version), [HOST, ...fields(body.length)], body);
}

/** POST whose body is the hidden request, `length` bytes: a reader that sees no body reads two. */
function requestAsBody(
  name: string,
  fields: (length: number) => string[],
  start = startLine("POST", name),
): string {
  const body = hiddenRequest(name);
  return message(start, [HOST, ...fields(body.length)], body);
}

/** POST with `Transfer-Encoding: chunked` and the given raw body. */
function chunked(name: string, body: string, fields: readonly string[] = []): string {
  return message(startLine("POST", name), [HOST, "Transfer-Encoding: chunked", ...fields], body);
}

/** A chunk whose data is the hidden request. */
function hiddenChunk(name: string, sizePrefix = "", sizeSuffix = ""): string {
  const data = hiddenRequest(name);
  return `${sizePrefix}${data.length.toString(16)}${sizeSuffix}\r\n${data}\r\n0\r\n\r\n`;
}

const cl = (length: number): string => `Content-Length: ${length}`;

interface CaseDefinition {
  name: string;
  about: string;
  build: (name: string) => string;
}

const DEFINITIONS: Record<CaseClass, CaseDefinition[]> = {
  control: [
    { name: "control-get", about: "plain GET", build: (n) => get(n) },
    {
      name: "control-post-length",
      about: "POST with Content-Length: 5",
      build: (n) => message(startLine("POST", n), [HOST, cl(5)], "hello"),
    },
    {
      name: "control-post-chunked",
      about: "POST with a chunked body",
      build: (n) => chunked(n, "5\r\nhello\r\n0\r\n\r\n"),
    },
    {
      name: "control-http10",
      about: "HTTP/1.0 GET without Host (allowed in 1.0)",
      build: (n) => message(startLine("GET", n, "HTTP/1.0"), []),
    },
    {
      name: "control-request-in-body",
      about: "Content-Length body that is itself a request",
      build: (n) => requestAsBody(n, (len) => [cl(len)]),
    },
    {
      name: "control-request-in-chunk",
      about: "chunk data that is itself a request",
      build: (n) => chunked(n, hiddenChunk(n)),
    },
    {
      name: "control-chunk-extension",
      about: "chunk extension `;name=value` (allowed)",
      build: (n) => chunked(n, "5;name=value\r\nhello\r\n0\r\n\r\n"),
    },
    {
      name: "control-trailer",
      about: "chunked body with a trailer field (allowed)",
      build: (n) => chunked(n, "5\r\nhello\r\n0\r\nX-Checksum: 1\r\n\r\n"),
    },
  ],

  "cl-te": [
    {
      name: "cl-then-te",
      about: "Content-Length covering `0\\r\\n\\r\\n` + request, then Transfer-Encoding: chunked",
      build: (n) => chunkedTail(n, (len) => [cl(len), "Transfer-Encoding: chunked"]),
    },
    {
      name: "te-then-cl",
      about: "Transfer-Encoding: chunked, then Content-Length covering the whole rest",
      build: (n) => chunkedTail(n, (len) => ["Transfer-Encoding: chunked", cl(len)]),
    },
    {
      name: "te-then-cl-short",
      about: "chunked body whose chunk is a request, Content-Length covering only the size line",
      build: (n) => {
        const body = hiddenChunk(n);
        const sizeLine = body.slice(0, body.indexOf("\r\n") + 2);
        return message(
          startLine("POST", n),
          [HOST, "Transfer-Encoding: chunked", cl(sizeLine.length)],
          body,
        );
      },
    },
    {
      name: "cl-te-zero-length",
      about: "Content-Length: 0 with Transfer-Encoding: chunked and a chunk that is a request",
      build: (n) =>
        message(startLine("POST", n), [HOST, cl(0), "Transfer-Encoding: chunked"], hiddenChunk(n)),
    },
    {
      name: "cl-te-http10",
      about: "HTTP/1.0 with both Content-Length and Transfer-Encoding: chunked",
      build: (n) => chunkedTail(n, (len) => [cl(len), "Transfer-Encoding: chunked"], "HTTP/1.0"),
    },
    {
      name: "cl-te-get",
      about: "GET with both Content-Length and Transfer-Encoding: chunked",
      build: (n) => {
        const body = `0\r\n\r\n${hiddenRequest(n)}`;
        return message(
          startLine("GET", n),
          [HOST, cl(body.length), "Transfer-Encoding: chunked"],
          body,
        );
      },
    },
  ],

  "content-length": [
    {
      name: "cl-two-different",
      about: "Content-Length: 0, then Content-Length: <body>",
      build: (n) => requestAsBody(n, (len) => [cl(0), cl(len)]),
    },
    {
      name: "cl-two-different-reversed",
      about: "Content-Length: <body>, then Content-Length: 0",
      build: (n) => requestAsBody(n, (len) => [cl(len), cl(0)]),
    },
    {
      name: "cl-two-same",
      about: "the same Content-Length twice",
      build: (n) => requestAsBody(n, (len) => [cl(len), cl(len)]),
    },
    {
      name: "cl-list-same",
      about: "Content-Length: N, N",
      build: (n) => requestAsBody(n, (len) => [`Content-Length: ${len}, ${len}`]),
    },
    {
      name: "cl-list-zero-first",
      about: "Content-Length: 0, N",
      build: (n) => requestAsBody(n, (len) => [`Content-Length: 0, ${len}`]),
    },
    {
      name: "cl-plus",
      about: "Content-Length: +N",
      build: (n) => requestAsBody(n, (len) => [`Content-Length: +${len}`]),
    },
    {
      name: "cl-hex",
      about: "Content-Length: 0xNN",
      build: (n) => requestAsBody(n, (len) => [`Content-Length: 0x${len.toString(16)}`]),
    },
    {
      name: "cl-leading-zeros",
      about: "Content-Length: 000N (allowed by the grammar)",
      build: (n) => requestAsBody(n, (len) => [`Content-Length: 000${len}`]),
    },
    {
      name: "cl-surrounding-spaces",
      about: "Content-Length:   N   (optional whitespace, allowed)",
      build: (n) => requestAsBody(n, (len) => [`Content-Length:   ${len}   `]),
    },
    {
      name: "cl-space-inside",
      about: "Content-Length with a space between its digits",
      build: (n) =>
        requestAsBody(n, (len) => {
          const digits = String(len);
          return [`Content-Length: ${digits.slice(0, 1)} ${digits.slice(1)}`];
        }),
    },
    {
      name: "cl-negative",
      about: "Content-Length: -N",
      build: (n) => requestAsBody(n, (len) => [`Content-Length: -${len}`]),
    },
    {
      name: "cl-decimal",
      about: "Content-Length: N.0",
      build: (n) => requestAsBody(n, (len) => [`Content-Length: ${len}.0`]),
    },
    {
      name: "cl-empty",
      about: "Content-Length with an empty value",
      build: (n) => requestAsBody(n, () => ["Content-Length: "]),
    },
    {
      name: "cl-huge",
      about: "Content-Length: 99999999999999999999 (past 64 bits)",
      build: (n) => requestAsBody(n, () => ["Content-Length: 99999999999999999999"]),
    },
    {
      name: "cl-wraps-64-bits",
      about: "Content-Length: 2^64 + N (N to a reader that keeps 64 bits)",
      build: (n) =>
        requestAsBody(n, (len) => [`Content-Length: ${(2n ** 64n + BigInt(len)).toString()}`]),
    },
    {
      name: "cl-trailing-tab",
      about: "Content-Length: N<TAB> (optional whitespace, allowed)",
      build: (n) => requestAsBody(n, (len) => [`Content-Length: ${len}\t`]),
    },
    {
      name: "cl-trailing-vtab",
      about: "Content-Length: N<VT>",
      build: (n) => requestAsBody(n, (len) => [`Content-Length: ${len}\x0b`]),
    },
    {
      name: "cl-trailing-comma",
      about: "Content-Length: N,",
      build: (n) => requestAsBody(n, (len) => [`Content-Length: ${len},`]),
    },
    {
      name: "cl-quoted",
      about: 'Content-Length: "N"',
      build: (n) => requestAsBody(n, (len) => [`Content-Length: "${len}"`]),
    },
    {
      name: "cl-get-with-body",
      about: "GET with a Content-Length body that is a request (allowed)",
      build: (n) => requestAsBody(n, (len) => [cl(len)], startLine("GET", n)),
    },
  ],

  "transfer-encoding": [
    ...(
      [
        ["te-gzip-chunked", "gzip, chunked"],
        ["te-chunked-identity", "chunked, identity"],
        ["te-identity-chunked", "identity, chunked"],
        ["te-identity", "identity"],
        ["te-capitalised", "Chunked"],
        ["te-leading-space", " chunked"],
        ["te-trailing-space", "chunked "],
        ["te-leading-tab", "\tchunked"],
        ["te-trailing-tab", "chunked\t"],
        ["te-trailing-vtab", "chunked\x0b"],
        ["te-leading-formfeed", "\x0cchunked"],
        ["te-x-chunked", "x-chunked"],
        ["te-chunked-suffix", "chunkedx"],
        ["te-quoted", '"chunked"'],
        ["te-chunked-twice", "chunked, chunked"],
        ["te-empty-list-element", ", chunked"],
        ["te-chunked-parameter", "chunked;q=1"],
      ] as const
    ).map(([name, value]): CaseDefinition => ({
      name,
      about: `Transfer-Encoding: ${escapeBytes(value)} next to a Content-Length`,
      build: (n) => chunkedTail(n, (len) => [cl(len), `Transfer-Encoding: ${value}`]),
    })),
    {
      name: "te-no-space",
      about: "Transfer-Encoding:chunked (no space) next to a Content-Length",
      build: (n) => chunkedTail(n, (len) => [cl(len), "Transfer-Encoding:chunked"]),
    },
    {
      name: "te-name-upper-case",
      about: "TRANSFER-ENCODING: chunked next to a Content-Length",
      build: (n) => chunkedTail(n, (len) => [cl(len), "TRANSFER-ENCODING: chunked"]),
    },
    {
      name: "te-two-lines",
      about: "Transfer-Encoding: chunked and Transfer-Encoding: identity, with a Content-Length",
      build: (n) =>
        chunkedTail(n, (len) => [
          cl(len),
          "Transfer-Encoding: chunked",
          "Transfer-Encoding: identity",
        ]),
    },
    {
      name: "te-two-lines-reversed",
      about: "Transfer-Encoding: identity and Transfer-Encoding: chunked, with a Content-Length",
      build: (n) =>
        chunkedTail(n, (len) => [
          cl(len),
          "Transfer-Encoding: identity",
          "Transfer-Encoding: chunked",
        ]),
    },
    {
      name: "te-two-lines-chunked",
      about: "Transfer-Encoding: chunked twice (chunked applied twice), with a Content-Length",
      build: (n) =>
        chunkedTail(n, (len) => [
          cl(len),
          "Transfer-Encoding: chunked",
          "Transfer-Encoding: chunked",
        ]),
    },
    {
      name: "te-http10",
      about: "Transfer-Encoding: chunked on HTTP/1.0, no Content-Length",
      build: (n) => {
        const body = `0\r\n\r\n${hiddenRequest(n)}`;
        return message(
          startLine("POST", n, "HTTP/1.0"),
          [HOST, "Transfer-Encoding: chunked"],
          body,
        );
      },
    },
    {
      name: "te-space-before-colon",
      about: "`Transfer-Encoding : chunked` next to a Content-Length",
      build: (n) => chunkedTail(n, (len) => [cl(len), "Transfer-Encoding : chunked"]),
    },
    {
      name: "te-obs-fold",
      about: "Transfer-Encoding folded onto the next line, next to a Content-Length",
      build: (n) => chunkedTail(n, (len) => [cl(len), "Transfer-Encoding:\r\n chunked"]),
    },
    {
      name: "te-obs-fold-second-value",
      about: "Transfer-Encoding: identity folded with `chunked`, next to a Content-Length",
      build: (n) => chunkedTail(n, (len) => [cl(len), "Transfer-Encoding: identity\r\n chunked"]),
    },
    {
      name: "te-gzip-chunked-alone",
      about: "Transfer-Encoding: gzip, chunked without Content-Length, plain chunked body",
      build: (n) =>
        message(
          startLine("POST", n),
          [HOST, "Transfer-Encoding: gzip, chunked"],
          "5\r\nhello\r\n0\r\n\r\n",
        ),
    },
  ],

  "look-alike-names": [
    ...(
      [
        ["la-transfer-underscore", "Transfer_Encoding"],
        ["la-transfer-underscore-lower", "transfer_encoding"],
        ["la-transfer-dot", "Transfer.Encoding"],
        ["la-transfer-no-dash", "TransferEncoding"],
        ["la-transfer-tilde", "Transfer~Encoding"],
        ["la-transfer-double-dash", "Transfer--Encoding"],
        ["la-transfer-leading-dash", "-Transfer-Encoding"],
        ["la-transfer-trailing-dash", "Transfer-Encoding-"],
        ["la-transfer-space", "Transfer Encoding"],
        ["la-transfer-tab-before-colon", "Transfer-Encoding\t"],
        ["la-transfer-underscore-tab", "Transfer_Encoding\t"],
      ] as const
    ).map(([name, field]): CaseDefinition => ({
      name,
      about: `\`${escapeBytes(field)}: chunked\` next to a Content-Length`,
      build: (n) => chunkedTail(n, (len) => [cl(len), `${field}: chunked`]),
    })),
    ...(
      [
        ["la-length-underscore", "Content_Length"],
        ["la-length-underscore-lower", "content_length"],
        ["la-length-dot", "Content.Length"],
        ["la-length-no-dash", "ContentLength"],
        ["la-length-tab-before-colon", "Content-Length\t"],
      ] as const
    ).map(([name, field]): CaseDefinition => ({
      name,
      about: `\`${escapeBytes(field)}: 0\` before the real Content-Length`,
      build: (n) => requestAsBody(n, (len) => [`${field}: 0`, cl(len)]),
    })),
    {
      name: "la-length-underscore-only",
      about: "Content_Length: N and no Content-Length: no body to a careful reader",
      build: (n) => message(startLine("POST", n), [HOST, "Content_Length: 20"], ""),
    },
  ],

  "obs-fold": [
    {
      name: "fold-benign",
      about: "X-Folded value continued on a line starting with a space",
      build: (n) => get(n, ["X-Folded: a", " b"]),
    },
    {
      name: "fold-content-length",
      about: "Content-Length value on a folded line",
      build: (n) => requestAsBody(n, (len) => [`Content-Length:\r\n ${len}`]),
    },
    {
      name: "fold-host",
      about: "Host folded with a second name",
      build: (n) => message(startLine("GET", n), ["Host: origin.test", " evil.test"]),
    },
    {
      name: "fold-first-line",
      about: "first field line starts with a space",
      build: (n) => message(startLine("GET", n), [" Host: evil.test", HOST]),
    },
    {
      name: "fold-hides-transfer-encoding",
      about: "`X: a` folded with ` Transfer-Encoding: chunked`, next to a Content-Length",
      build: (n) => chunkedTail(n, (len) => [cl(len), "X: a", " Transfer-Encoding: chunked"]),
    },
  ],

  "line-endings": [
    {
      name: "lf-everywhere",
      about: "every line ends with a bare LF",
      build: (n) => `GET ${casePath(n)} HTTP/1.1\n${HOST}\n\n`,
    },
    {
      name: "lf-request-line",
      about: "the request line ends with a bare LF",
      build: (n) => `GET ${casePath(n)} HTTP/1.1\n${HOST}\r\n\r\n`,
    },
    {
      name: "lf-end-of-head",
      about: "the head ends with CRLF then a bare LF",
      build: (n) => `GET ${casePath(n)} HTTP/1.1\r\n${HOST}\r\n\n`,
    },
    {
      name: "lf-hides-transfer-encoding",
      about: "`X: a<LF>Transfer-Encoding: chunked` in one CRLF line, next to a Content-Length",
      build: (n) => chunkedTail(n, (len) => [cl(len), "X: a\nTransfer-Encoding: chunked"]),
    },
    {
      name: "cr-hides-transfer-encoding",
      about: "`X: a<CR>Transfer-Encoding: chunked` in one CRLF line, next to a Content-Length",
      build: (n) => chunkedTail(n, (len) => [cl(len), "X: a\rTransfer-Encoding: chunked"]),
    },
    {
      name: "lf-hides-content-length",
      about: "`X: a<LF>Content-Length: 0` in one CRLF line, before the real Content-Length",
      build: (n) => requestAsBody(n, (len) => ["X: a\nContent-Length: 0", cl(len)]),
    },
    {
      name: "cr-everywhere",
      about: "every line ends with a bare CR",
      build: (n) => `GET ${casePath(n)} HTTP/1.1\r${HOST}\r\r`,
    },
    {
      name: "cr-in-value",
      about: "bare CR inside a header value",
      build: (n) => get(n, ["X-Test: a\rb"]),
    },
    {
      name: "cr-cr-lf",
      about: "a field line ending with CR CR LF",
      build: (n) => get(n, ["X-Test: a\r"]),
    },
    {
      name: "crlf-before-request-line",
      about: "an empty line before the request line (allowed to be ignored)",
      build: (n) => `\r\n${get(n)}`,
    },
  ],

  "ctl-bytes": [
    ...(
      [
        ["nul-in-value", "X-Test: a\x00b"],
        ["soh-in-value", "X-Test: a\x01b"],
        ["vtab-in-value", "X-Test: a\x0bb"],
        ["formfeed-in-value", "X-Test: a\x0cb"],
        ["esc-in-value", "X-Test: a\x1bb"],
        ["del-in-value", "X-Test: a\x7fb"],
        ["nul-in-name", "X-Te\x00st: a"],
        ["soh-in-name", "X-Te\x01st: a"],
        ["high-byte-in-name", "X-T\xe9st: a"],
        ["obs-text-in-value", "X-Test: caf\xe9"],
      ] as const
    ).map(([name, field]): CaseDefinition => ({
      name,
      about: `\`${escapeBytes(field)}\``,
      build: (n) => get(n, [field]),
    })),
    {
      name: "ctl-in-host",
      about: "Host: origin<SOH>.test",
      build: (n) => message(startLine("GET", n), ["Host: origin\x01.test"]),
    },
    {
      name: "nul-in-transfer-encoding",
      about: "Transfer-Encoding: chunked<NUL> next to a Content-Length",
      build: (n) => chunkedTail(n, (len) => [cl(len), "Transfer-Encoding: chunked\x00"]),
    },
    {
      name: "nul-in-content-length",
      about: "Content-Length: N<NUL>",
      build: (n) => requestAsBody(n, (len) => [`Content-Length: ${len}\x00`]),
    },
    {
      name: "nul-in-target",
      about: "NUL in the request target",
      build: (n) => message(`GET ${casePath(n)}\x00x HTTP/1.1`, [HOST]),
    },
    {
      name: "del-in-target",
      about: "DEL in the request target",
      build: (n) => message(`GET ${casePath(n)}\x7fx HTTP/1.1`, [HOST]),
    },
  ],

  "header-names": [
    ...(
      [
        ["name-space-inside", "X Test: a"],
        ["name-brackets", "X[Test]: a"],
        ["name-parenthesis", "X(Test): a"],
        ["name-at-sign", "X@Test: a"],
        ["name-slash", "X/Test: a"],
        ["name-backslash", "X\\Test: a"],
        ["name-double-quote", 'X"Test: a'],
        ["name-braces", "X{Test}: a"],
        ["name-empty", ": a"],
        ["name-space-before-colon", "X-Test : a"],
        ["name-tab-before-colon", "X-Test\t: a"],
        ["name-no-colon", "X-Test a"],
      ] as const
    ).map(([name, field]): CaseDefinition => ({
      name,
      about: `\`${escapeBytes(field)}\``,
      build: (n) => get(n, [field]),
    })),
  ],

  "chunked-body": [
    {
      name: "chunk-size-not-hex",
      about: "chunk size `zz`; a reader taking it as 0 ends the body there",
      build: (n) => chunked(n, `zz\r\n\r\n${hiddenRequest(n)}`),
    },
    {
      name: "chunk-size-0x-prefix",
      about: "chunk size `0x5`; a reader stopping at `x` reads a last chunk",
      build: (n) => chunked(n, `0x5\r\n\r\n${hiddenRequest(n)}`),
    },
    {
      name: "chunk-size-plus",
      about: "chunk size `+5`",
      build: (n) => chunked(n, "+5\r\nhello\r\n0\r\n\r\n"),
    },
    {
      name: "chunk-size-negative",
      about: "chunk size `-5`",
      build: (n) => chunked(n, "-5\r\nhello\r\n0\r\n\r\n"),
    },
    {
      name: "chunk-size-leading-zeros",
      about: "chunk size `0005` (allowed)",
      build: (n) => chunked(n, "0005\r\nhello\r\n0\r\n\r\n"),
    },
    {
      name: "chunk-size-trailing-spaces",
      about: "chunk size `5` followed by two spaces, no extension",
      build: (n) => chunked(n, hiddenChunk(n, "", "  ")),
    },
    {
      name: "chunk-size-leading-space",
      about: "chunk size with a leading space",
      build: (n) => chunked(n, hiddenChunk(n, " ")),
    },
    {
      name: "chunk-size-trailing-tab",
      about: "chunk size followed by a tab, no extension",
      build: (n) => chunked(n, hiddenChunk(n, "", "\t")),
    },
    {
      name: "chunk-size-huge",
      about: "chunk size ffffffffffffffff (2^64 - 1)",
      build: (n) => chunked(n, "ffffffffffffffff\r\nhello\r\n0\r\n\r\n"),
    },
    {
      name: "chunk-size-wraps-64-bits",
      about: "chunk size 2^64 + 5 (5 to a reader that keeps 64 bits)",
      build: (n) => chunked(n, `10000000000000005\r\nhello\r\n0\r\n\r\n${hiddenRequest(n)}`),
    },
    {
      name: "chunk-ext-no-name",
      about: "chunk extension `;` with no name",
      build: (n) => chunked(n, "5;\r\nhello\r\n0\r\n\r\n"),
    },
    {
      name: "chunk-ext-space-before-semicolon",
      about: "chunk size `5 ;a=b` (whitespace allowed before `;`)",
      build: (n) => chunked(n, "5 ;a=b\r\nhello\r\n0\r\n\r\n"),
    },
    {
      name: "chunk-ext-quoted",
      about: 'chunk extension `;a="b c"` (allowed)',
      build: (n) => chunked(n, '5;a="b c"\r\nhello\r\n0\r\n\r\n'),
    },
    {
      name: "chunk-ext-nul",
      about: "NUL inside a chunk extension",
      build: (n) => chunked(n, "5;a=\x00\r\nhello\r\n0\r\n\r\n"),
    },
    {
      name: "chunk-ext-bare-lf",
      about: "bare LF inside a chunk extension: two readers end the size line apart",
      build: (n) => chunked(n, "2;\nxx\r\nab\r\n0\r\n\r\n"),
    },
    {
      name: "chunk-ext-bare-cr",
      about: "bare CR inside a chunk extension",
      build: (n) => chunked(n, "5;a\rb\r\nhello\r\n0\r\n\r\n"),
    },
    {
      name: "chunk-ext-long",
      about: "a 4 KB chunk extension",
      build: (n) => chunked(n, `5;a=${"b".repeat(4096)}\r\nhello\r\n0\r\n\r\n`),
    },
    {
      name: "chunk-size-bare-lf",
      about: "chunk size line ending with a bare LF",
      build: (n) => chunked(n, "5\nhello\r\n0\r\n\r\n"),
    },
    {
      name: "chunk-size-bare-cr",
      about: "chunk size line ending with a bare CR",
      build: (n) => chunked(n, "5\rhello\r\n0\r\n\r\n"),
    },
    {
      name: "chunk-data-longer",
      about: "chunk of size 3 with 6 bytes of data",
      build: (n) => chunked(n, `3\r\nabcdef\r\n0\r\n\r\n${hiddenRequest(n)}`),
    },
    {
      name: "chunk-data-shorter",
      about: "chunk of size 8 with 3 bytes of data",
      build: (n) => chunked(n, `8\r\nabc\r\n0\r\n\r\n${hiddenRequest(n)}`),
    },
    {
      name: "chunk-data-no-crlf",
      about: "chunk data not followed by CRLF",
      build: (n) => chunked(n, `5\r\nhello0\r\n\r\n${hiddenRequest(n)}`),
    },
    {
      name: "chunk-data-bare-lf",
      about: "chunk data followed by a bare LF",
      build: (n) => chunked(n, "5\r\nhello\n0\r\n\r\n"),
    },
    {
      name: "chunk-last-no-final-crlf",
      about: "last chunk `0\\r\\n` directly followed by a request",
      build: (n) => chunked(n, `0\r\n${hiddenRequest(n)}`),
    },
    {
      name: "chunk-trailer-transfer-encoding",
      about: "Transfer-Encoding: chunked as a trailer field",
      build: (n) => chunked(n, "5\r\nhello\r\n0\r\nTransfer-Encoding: chunked\r\n\r\n"),
    },
    {
      name: "chunk-trailer-content-length",
      about: "Content-Length: 5 as a trailer field",
      build: (n) => chunked(n, "5\r\nhello\r\n0\r\nContent-Length: 5\r\n\r\n"),
    },
    {
      name: "chunk-trailer-invalid-name",
      about: "a trailer field line without a colon",
      build: (n) => chunked(n, "5\r\nhello\r\n0\r\nnot a field\r\n\r\n"),
    },
  ],

  "request-line": [
    {
      name: "version-1-2",
      about: "HTTP/1.2 with a Content-Length body that is a request",
      build: (n) => requestAsBody(n, (len) => [cl(len)], startLine("POST", n, "HTTP/1.2")),
    },
    {
      name: "version-2-0",
      about: "HTTP/2.0 on an HTTP/1 connection, Content-Length body that is a request",
      build: (n) => requestAsBody(n, (len) => [cl(len)], startLine("POST", n, "HTTP/2.0")),
    },
    {
      name: "version-0-9",
      about: "HTTP/0.9 written as a version with headers",
      build: (n) => message(startLine("GET", n, "HTTP/0.9"), [HOST]),
    },
    {
      name: "version-missing",
      about: "no version (HTTP/0.9 simple request) followed by header lines",
      build: (n) => message(`GET ${casePath(n)}`, [HOST]),
    },
    {
      name: "version-lower-case",
      about: "http/1.1",
      build: (n) => message(startLine("GET", n, "http/1.1"), [HOST]),
    },
    {
      name: "version-two-digit-minor",
      about: "HTTP/1.10",
      build: (n) => message(startLine("GET", n, "HTTP/1.10"), [HOST]),
    },
    {
      name: "version-leading-zero",
      about: "HTTP/01.1",
      build: (n) => message(startLine("GET", n, "HTTP/01.1"), [HOST]),
    },
    {
      name: "version-trailing-space",
      about: "request line ending with `HTTP/1.1 `",
      build: (n) => message(`${startLine("GET", n)} `, [HOST]),
    },
    {
      name: "rl-double-space-after-method",
      about: "two spaces between method and target",
      build: (n) => message(`GET  ${casePath(n)} HTTP/1.1`, [HOST]),
    },
    {
      name: "rl-double-space-before-version",
      about: "two spaces between target and version",
      build: (n) => message(`GET ${casePath(n)}  HTTP/1.1`, [HOST]),
    },
    {
      name: "rl-tabs",
      about: "tabs instead of spaces in the request line",
      build: (n) => message(`GET\t${casePath(n)}\tHTTP/1.1`, [HOST]),
    },
    {
      name: "rl-leading-space",
      about: "a space before the method",
      build: (n) => message(` ${startLine("GET", n)}`, [HOST]),
    },
    {
      name: "rl-space-in-target",
      about: "a space inside the target",
      build: (n) => message(`GET ${casePath(n)} x HTTP/1.1`, [HOST]),
    },
    {
      name: "rl-fragment",
      about: "a #fragment in the target",
      build: (n) => message(`GET ${casePath(n)}#frag HTTP/1.1`, [HOST]),
    },
    {
      name: "rl-no-target",
      about: "method and version only",
      build: () => message("GET HTTP/1.1", [HOST]),
    },
    {
      name: "rl-lower-case-method",
      about: "method `get` (a valid token, not GET)",
      build: (n) => message(startLine("get", n), [HOST]),
    },
    {
      name: "rl-invalid-method",
      about: "method `G(T` (not a token)",
      build: (n) => message(startLine("G(T", n), [HOST]),
    },
    {
      name: "rl-absolute-form",
      about: "absolute-form target whose authority matches Host",
      build: (n) => message(`GET http://origin.test${casePath(n)} HTTP/1.1`, [HOST]),
    },
    {
      name: "rl-absolute-form-mismatch",
      about: "absolute-form target naming another authority than Host",
      build: (n) => message(`GET http://evil.test${casePath(n)} HTTP/1.1`, [HOST]),
    },
    {
      name: "rl-asterisk-get",
      about: "GET * (asterisk-form is for OPTIONS only)",
      build: () => message("GET * HTTP/1.1", [HOST]),
    },
    {
      name: "rl-authority-form-get",
      about: "GET origin.test:80 (authority-form is for CONNECT only)",
      build: () => message("GET origin.test:80 HTTP/1.1", [HOST]),
    },
  ],

  host: [
    {
      name: "host-duplicate-same",
      about: "Host twice, same value",
      build: (n) => message(startLine("GET", n), [HOST, HOST]),
    },
    {
      name: "host-duplicate-different",
      about: "Host: origin.test and Host: evil.test",
      build: (n) => message(startLine("GET", n), [HOST, "Host: evil.test"]),
    },
    {
      name: "host-missing",
      about: "no Host on HTTP/1.1",
      build: (n) => message(startLine("GET", n), []),
    },
    {
      name: "host-empty",
      about: "Host with an empty value",
      build: (n) => message(startLine("GET", n), ["Host: "]),
    },
    {
      name: "host-space",
      about: "Host: origin test",
      build: (n) => message(startLine("GET", n), ["Host: origin test"]),
    },
    {
      name: "host-userinfo",
      about: "Host: user@evil.test",
      build: (n) => message(startLine("GET", n), ["Host: user@evil.test"]),
    },
    {
      name: "host-path",
      about: "Host: origin.test/admin",
      build: (n) => message(startLine("GET", n), ["Host: origin.test/admin"]),
    },
    {
      name: "host-bad-port",
      about: "Host: origin.test:8o",
      build: (n) => message(startLine("GET", n), ["Host: origin.test:8o"]),
    },
    {
      name: "host-list",
      about: "Host: origin.test, evil.test",
      build: (n) => message(startLine("GET", n), ["Host: origin.test, evil.test"]),
    },
    {
      name: "host-tab-inside",
      about: "Host: origin<TAB>.test",
      build: (n) => message(startLine("GET", n), ["Host: origin\t.test"]),
    },
    {
      name: "host-ipv6",
      about: "Host: [::1]:80 (allowed)",
      build: (n) => message(startLine("GET", n), ["Host: [::1]:80"]),
    },
    {
      name: "host-underscore",
      about: "Host: origin_test (allowed in a reg-name)",
      build: (n) => message(startLine("GET", n), ["Host: origin_test"]),
    },
  ],

  oversized: [
    {
      name: "header-7k",
      about: "one 7 KB header value",
      build: (n) => get(n, [`X-Big: ${"a".repeat(7 * 1024)}`]),
    },
    {
      name: "header-12k",
      about: "one 12 KB header value",
      build: (n) => get(n, [`X-Big: ${"a".repeat(12 * 1024)}`]),
    },
    {
      name: "header-20k",
      about: "one 20 KB header value",
      build: (n) => get(n, [`X-Big: ${"a".repeat(20 * 1024)}`]),
    },
    {
      name: "header-70k",
      about: "one 70 KB header value",
      build: (n) => get(n, [`X-Big: ${"a".repeat(70 * 1024)}`]),
    },
    {
      name: "headers-200",
      about: "200 small header fields (about 4 KB)",
      build: (n) =>
        get(
          n,
          Array.from({ length: 200 }, (_, i) => `X-H${i}: v`),
        ),
    },
    {
      name: "request-line-12k",
      about: "a 12 KB request target",
      build: (n) => message(`GET ${casePath(n)}?q=${"a".repeat(12 * 1024)} HTTP/1.1`, [HOST]),
    },
  ],

  expect: [
    {
      name: "expect-continue-body-sent",
      about: "Expect: 100-continue with the body sent at once",
      build: (n) => message(startLine("POST", n), [HOST, "Expect: 100-continue", cl(5)], "hello"),
    },
    {
      name: "expect-continue-request-body",
      about: "Expect: 100-continue with a Content-Length body that is a request",
      build: (n) => requestAsBody(n, (len) => ["Expect: 100-continue", cl(len)]),
    },
    {
      name: "expect-continue-chunked",
      about: "Expect: 100-continue with a chunked body",
      build: (n) => chunked(n, "5\r\nhello\r\n0\r\n\r\n", ["Expect: 100-continue"]),
    },
    {
      name: "expect-continue-get",
      about: "Expect: 100-continue on a GET without body",
      build: (n) => get(n, ["Expect: 100-continue"]),
    },
    {
      name: "expect-continue-capitalised",
      about: "Expect: 100-Continue",
      build: (n) => message(startLine("POST", n), [HOST, "Expect: 100-Continue", cl(5)], "hello"),
    },
    {
      name: "expect-unknown",
      about: "Expect: something-else",
      build: (n) => get(n, ["Expect: something-else"]),
    },
    {
      name: "expect-twice",
      about: "Expect: 100-continue twice",
      build: (n) =>
        message(
          startLine("POST", n),
          [HOST, "Expect: 100-continue", "Expect: 100-continue", cl(5)],
          "hello",
        ),
    },
    {
      name: "expect-http10",
      about: "Expect: 100-continue on HTTP/1.0",
      build: (n) =>
        message(startLine("POST", n, "HTTP/1.0"), [HOST, "Expect: 100-continue", cl(5)], "hello"),
    },
  ],

  upgrade: [
    {
      name: "h2c-upgrade",
      about: "GET with Upgrade: h2c, HTTP2-Settings and Connection: Upgrade, HTTP2-Settings",
      build: (n) =>
        get(n, [
          "Connection: Upgrade, HTTP2-Settings",
          "Upgrade: h2c",
          "HTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA",
        ]),
    },
    {
      name: "h2c-upgrade-no-settings",
      about: "GET with Upgrade: h2c and Connection: Upgrade, no HTTP2-Settings",
      build: (n) => get(n, ["Connection: Upgrade", "Upgrade: h2c"]),
    },
    {
      name: "h2c-upgrade-no-connection",
      about: "GET with Upgrade: h2c and no Connection header",
      build: (n) => get(n, ["Upgrade: h2c", "HTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA"]),
    },
    {
      name: "h2c-upgrade-post",
      about: "POST with an h2c upgrade and a Content-Length body that is a request",
      build: (n) =>
        requestAsBody(n, (len) => [
          "Connection: Upgrade, HTTP2-Settings",
          "Upgrade: h2c",
          "HTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA",
          cl(len),
        ]),
    },
    {
      name: "h2-preface",
      about: "the HTTP/2 connection preface (prior knowledge) on an HTTP/1 port",
      build: () => "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
    },
    {
      name: "websocket-upgrade",
      about: "a WebSocket upgrade (the origin answers 200, not 101)",
      build: (n) =>
        get(n, [
          "Connection: Upgrade",
          "Upgrade: websocket",
          "Sec-WebSocket-Version: 13",
          "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
        ]),
    },
  ],
};

/** Every case, in class order. */
export function buildCorpus(): SmugglingCase[] {
  const cases: SmugglingCase[] = [];
  const seen = new Set<string>();
  for (const [klass, definitions] of Object.entries(DEFINITIONS) as [
    CaseClass,
    CaseDefinition[],
  ][]) {
    for (const definition of definitions) {
      if (seen.has(definition.name)) throw new Error(`duplicate case name ${definition.name}`);
      if (!/^[a-z0-9-]+$/.test(definition.name)) {
        throw new Error(`case name ${definition.name} is not [a-z0-9-]`);
      }
      seen.add(definition.name);
      cases.push({
        name: definition.name,
        class: klass,
        about: definition.about,
        bytes: definition.build(definition.name),
      });
    }
  }
  return cases;
}
