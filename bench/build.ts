/**
 * What the bench runs is built first, into the run's temp dir, the way it ships: switchyard with
 * `tsc -p tsconfig.build.json` (as `npm run build` and the container do), and the Node baselines
 * and backend with `tsc -p bench/tsconfig.build.json`. Nothing runs through Node's type
 * stripping, whose TypeScript parser alone adds about 30 MB of RSS to a process; and the repo's
 * own dist/ is left alone.
 */
import { execFileSync } from "node:child_process";
import { readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const REPO_ROOT = join(import.meta.dirname, "..");
const TSC = join(REPO_ROOT, "node_modules/typescript/bin/tsc");

export interface BenchBuild {
  /** The built `switchyard` command (package.json `bin`). */
  switchyardMain: string;
  /** The Node flags its `#!` line passes, which the bench passes too. */
  switchyardNodeFlags: string[];
  /** A built bench script, by its source path relative to bench/ ("baselines/x.ts"). */
  script(relativePath: string): string;
}

export function buildForBench(dir: string): BenchBuild {
  // The emitted files import packages by name and are ESM, as they are inside the package.
  symlinkSync(join(REPO_ROOT, "node_modules"), join(dir, "node_modules"), "dir");
  writeFileSync(join(dir, "package.json"), JSON.stringify({ type: "module" }));
  const distDir = join(dir, "dist");
  const benchDir = join(dir, "bench");
  runTsc([
    "-p",
    join(REPO_ROOT, "tsconfig.build.json"),
    "--outDir",
    distDir,
    "--sourceMap",
    "false",
  ]);
  runTsc(["-p", join(REPO_ROOT, "bench/tsconfig.build.json"), "--outDir", benchDir]);
  const switchyardMain = join(distDir, "cli/main.js");
  return {
    switchyardMain,
    switchyardNodeFlags: nodeFlagsOfShebang(readFileSync(switchyardMain, "utf8")),
    script: (relativePath) => join(benchDir, relativePath.replace(/\.ts$/, ".js")),
  };
}

function runTsc(args: string[]): void {
  try {
    execFileSync(process.execPath, [TSC, ...args], { cwd: REPO_ROOT, encoding: "utf8" });
  } catch (error) {
    const output = (error as { stdout?: string }).stdout ?? "";
    throw new Error(`building for the bench failed (tsc ${args.join(" ")}):\n${output}`, {
      cause: error,
    });
  }
}

/** "#!/usr/bin/env -S node --flag=1" gives ["--flag=1"]; a plain "#!/usr/bin/env node", []. */
export function nodeFlagsOfShebang(source: string): string[] {
  const firstLine = source.slice(0, source.indexOf("\n"));
  const words = firstLine.replace(/^#!\s*/, "").split(/\s+/);
  const nodeAt = words.indexOf("node");
  return nodeAt === -1 ? [] : words.slice(nodeAt + 1);
}
