/**
 * The Redis URL of `fleet.redis` (SPEC 10): what makes one valid, and how it is shown. The URL
 * may hold a password, so every place that shows it (problems, logs, `GET /api/v1/config`)
 * shows `redactRedisUrl` of it instead.
 */

/** What stands for a password wherever the URL is shown. */
export const REDACTED_PASSWORD = "***";

const DATABASE_PATH = /^\/\d+$/;

/**
 * `text` with the password of its `user:password@` replaced, or the whole of a `secret@`
 * (without a colon it could be a password too). Works on any text, even one that is not a
 * valid URL, so that a problem about a bad URL cannot show the password either.
 */
export function redactRedisUrl(text: string): string {
  const scheme = text.indexOf("://");
  const start = scheme < 0 ? 0 : scheme + 3;
  // The last "@": a password written without percent-encoding may hold "@" or "/" itself.
  const at = text.lastIndexOf("@");
  if (at < start) return text;
  const userinfo = text.slice(start, at);
  const colon = userinfo.indexOf(":");
  const shown = colon < 0 ? REDACTED_PASSWORD : `${userinfo.slice(0, colon)}:${REDACTED_PASSWORD}`;
  return `${text.slice(0, start)}${shown}${text.slice(at)}`;
}

/** Why `text` is not a Redis URL switchyard accepts, in one sentence; undefined when it is. */
export function redisUrlProblem(text: string): string | undefined {
  const shown = JSON.stringify(redactRedisUrl(text));
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return `${shown} is not a URL; write it like redis://HOST:6379/0 (or rediss:// for TLS)`;
  }
  if (url.protocol !== "redis:" && url.protocol !== "rediss:") {
    return `${shown} must start with redis:// or rediss:// (TLS)`;
  }
  if (url.hostname === "") return `${shown} has no host; write it like redis://HOST:6379/0`;
  if (url.username !== "" && url.password === "") {
    return `${shown} names a user without a password; write redis://USER:PASSWORD@HOST:PORT, or redis://:PASSWORD@HOST:PORT for the default user`;
  }
  if (url.pathname !== "" && url.pathname !== "/" && !DATABASE_PATH.test(url.pathname)) {
    return `${shown} has a path that is not a database number; write /0, /1, ... or nothing`;
  }
  if (url.search !== "" || url.hash !== "") {
    return `${shown} must not have a query or a fragment (nothing after ? or #)`;
  }
  return undefined;
}

/** Whether the URL asks for TLS (`rediss://`). */
export function isTlsRedisUrl(text: string): boolean {
  return text.slice(0, 9).toLowerCase() === "rediss://";
}
