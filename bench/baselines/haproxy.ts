/**
 * HAProxy as a baseline proxy, generated at run time into the bench's temp dir: HTTP mode, one
 * thread, idle server connections shared between client connections (`http-reuse always`),
 * in the foreground (`-db`) so the pid we pin and measure is the one doing the work.
 */
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { findBinary } from "./find-binary.ts";

const HAPROXY = findBinary("haproxy");

/** HAProxy's version, or undefined when it is not installed. */
export function haproxyVersion(): string | undefined {
  if (HAPROXY === undefined) return undefined;
  const found = spawnSync(HAPROXY, ["-v"], { encoding: "utf8" });
  if (found.error !== undefined || found.status !== 0) return undefined;
  const firstLine = found.stdout.split("\n")[0] ?? "";
  return /version (\S+)/.exec(firstLine)?.[1] ?? firstLine.trim();
}

/** Writes the config and returns the command line that runs it in the foreground. */
export function writeHaproxyConfig(
  dir: string,
  port: number,
  backendPort: number,
): [string, string[]] {
  const file = join(dir, "haproxy.cfg");
  writeFileSync(
    file,
    [
      "global",
      "  nbthread 1",
      "  maxconn 8192",
      "defaults",
      "  mode http",
      "  timeout connect 2s",
      "  timeout client 65s",
      "  timeout server 65s",
      "  timeout http-keep-alive 65s",
      "  http-reuse always",
      "frontend bench",
      `  bind 127.0.0.1:${port}`,
      "  default_backend backend",
      "backend backend",
      `  server backend1 127.0.0.1:${backendPort}`,
      "",
    ].join("\n"),
  );
  return [HAPROXY ?? "haproxy", ["-db", "-q", "-f", file]];
}
