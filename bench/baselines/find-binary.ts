/**
 * Where an optional server binary is: on PATH, or in the sbin directories distributions install
 * nginx and HAProxy into (often missing from a non-root user's PATH).
 */
import { accessSync, constants } from "node:fs";
import { delimiter, join } from "node:path";

const SBIN_DIRS = ["/usr/sbin", "/usr/local/sbin", "/sbin"];

/** The binary's path, or undefined when it is nowhere to be found. */
export function findBinary(name: string): string | undefined {
  const dirs = [...(process.env.PATH ?? "").split(delimiter), ...SBIN_DIRS];
  for (const dir of dirs) {
    if (dir === "") continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // Not here.
    }
  }
  return undefined;
}
