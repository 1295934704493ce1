/**
 * Which admin calls must be declared JSON: every write (PUT, POST, DELETE), even with an empty
 * body, and any call that carries a body. A web page can send a form or text/plain to another
 * site without asking; it cannot send `application/json` without a CORS preflight, which the
 * admin API never grants. So a write that is not declared JSON cannot come from a page.
 */

/** `application/json`, optionally with `charset=utf-8`; any other charset is refused. */
export function isJsonContentType(header: string | undefined): boolean {
  if (header === undefined) return false;
  const [type = "", ...params] = header.split(";").map((part) => part.trim().toLowerCase());
  if (type !== "application/json") return false;
  return params.every(
    (param) => !param.startsWith("charset=") || /^charset="?utf-8"?$/.test(param),
  );
}

/** Why the call's Content-Type is refused (415), or undefined when it is acceptable. */
export function findContentTypeProblem(
  isWrite: boolean,
  hasBody: boolean,
  contentType: string | undefined,
): string | undefined {
  if (!isWrite && !hasBody) return undefined;
  if (isJsonContentType(contentType)) return undefined;
  const sent = contentType === undefined ? "none was sent" : `not ${contentType}`;
  return isWrite
    ? `A write call must be sent with Content-Type: application/json, even with an empty body; ${sent}.`
    : `The request body must be JSON (Content-Type: application/json), ${sent}.`;
}
