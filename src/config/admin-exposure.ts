/**
 * The rule of the admin listener: on an address other machines can reach, a write token is
 * required, or anyone on the network could change the splits. Checked at startup and on every
 * reload (against the address actually listened on), so no reload can open the admin API.
 */
import { BlockList, isIP } from "node:net";
import type { Config, ListenAddress } from "./schema.ts";

type AdminToken = Config["admin"]["tokens"][number];

const LOOPBACK = new BlockList();
LOOPBACK.addSubnet("127.0.0.0", 8, "ipv4");
LOOPBACK.addAddress("::1", "ipv6");
LOOPBACK.addSubnet("::ffff:127.0.0.0", 104, "ipv6");

/** 127.0.0.0/8, ::1 (any spelling, or IPv4-mapped 127/8) and `localhost`. */
export function isLoopbackHost(host: string): boolean {
  const bare = host.startsWith("[") && host.endsWith("]") ? host.slice(1, -1) : host;
  if (/^localhost\.?$/i.test(bare)) return true;
  const family = isIP(bare);
  if (family === 4) return LOOPBACK.check(bare, "ipv4");
  if (family === 6) return LOOPBACK.check(bare, "ipv6");
  return false;
}

/** The sentence refusing to start, or undefined when the admin listener may start. */
export function checkAdminExposure(
  listenAdmin: ListenAddress,
  tokens: readonly AdminToken[],
): string | undefined {
  if (isLoopbackHost(listenAdmin.host)) return undefined;
  if (tokens.some((token) => token.scope === "write")) return undefined;
  const host = listenAdmin.host.includes(":") ? `[${listenAdmin.host}]` : listenAdmin.host;
  return (
    `listen.admin is ${host}:${listenAdmin.port}, which is not a loopback address, and ` +
    "admin.tokens has no write token, so anyone who can reach it could change the splits; " +
    'add one (e.g. { name: ops, scope: write, token: "${SWITCHYARD_ADMIN_TOKEN}" }) or listen on 127.0.0.1'
  );
}
