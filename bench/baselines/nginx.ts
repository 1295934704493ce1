/**
 * nginx, generated at run time into the bench's temp dir: as a baseline proxy (keep-alive
 * upstream pool, as its docs recommend for proxying) or as the backend (`--backend nginx`).
 * One process (`master_process off`, so the pid we pin and measure is the one doing the work),
 * logging off, every path inside the temp dir.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { findBinary } from "./find-binary.ts";

const NGINX = findBinary("nginx");

/** nginx's version line, or undefined when nginx is not installed. */
export function nginxVersion(): string | undefined {
  if (NGINX === undefined) return undefined;
  const found = spawnSync(NGINX, ["-v"], { encoding: "utf8" });
  if (found.error !== undefined || found.status !== 0) return undefined;
  const line = (found.stderr || found.stdout).trim();
  return /nginx\/(\S+)/.exec(line)?.[1] ?? line;
}

export interface NginxSite {
  /** Names the files in `dir`, so a backend and a proxy nginx can share it. */
  name: string;
  dir: string;
  port: number;
}

/** nginx proxying everything to `backendPort` over up to 64 idle keep-alive connections. */
export function writeNginxProxyConfig(site: NginxSite, backendPort: number): [string, string[]] {
  return writeConfig(
    site,
    [
      "  upstream backend {",
      `    server 127.0.0.1:${backendPort};`,
      "    keepalive 64;",
      "    keepalive_requests 1000000;",
      "  }",
      "  server {",
      `    listen 127.0.0.1:${site.port} backlog=4096;`,
      "    location / {",
      "      proxy_pass http://backend;",
      "      proxy_http_version 1.1;",
      '      proxy_set_header Connection "";',
      "    }",
      "  }",
    ].join("\n"),
  );
}

/** nginx answering "ok\n" to every request, like bench/backend.ts. */
export function writeNginxBackendConfig(site: NginxSite): [string, string[]] {
  return writeConfig(
    site,
    [
      "  server {",
      `    listen 127.0.0.1:${site.port} backlog=4096;`,
      "    location / {",
      "      default_type text/plain;",
      '      return 200 "ok\\n";',
      "    }",
      "  }",
    ].join("\n"),
  );
}

/** Writes the config and returns the command line that runs it in the foreground. */
function writeConfig(site: NginxSite, servers: string): [string, string[]] {
  const prefix = join(site.dir, `nginx-${site.name}`);
  mkdirSync(prefix, { recursive: true });
  const file = join(prefix, "nginx.conf");
  const temp = (kind: string): string => `  ${kind}_temp_path ${join(prefix, kind)};`;
  writeFileSync(
    file,
    [
      "daemon off;",
      "master_process off;",
      "worker_processes 1;",
      `pid ${join(prefix, "nginx.pid")};`,
      `error_log ${join(prefix, "error.log")} warn;`,
      "worker_rlimit_nofile 20000;",
      "events { worker_connections 8192; }",
      "http {",
      "  access_log off;",
      "  keepalive_timeout 65s;",
      "  keepalive_requests 1000000;",
      temp("client_body"),
      temp("proxy"),
      temp("fastcgi"),
      temp("uwsgi"),
      temp("scgi"),
      servers,
      "}",
      "",
    ].join("\n"),
  );
  return [NGINX ?? "nginx", ["-p", prefix, "-c", file, "-e", join(prefix, "startup.log")]];
}
