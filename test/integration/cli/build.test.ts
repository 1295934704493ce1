/**
 * SLOW (a full `tsc` emit, about 5 s): builds the package the way `npm run build` does, into a
 * temporary directory, and runs the built `switchyard` (package.json `bin`), so a source that
 * only works with type stripping, or an import the emit does not rewrite, fails here.
 */
import { execFile } from "node:child_process";
import { chmod, mkdtemp, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { killAllChildren, linesOf, REPO_ROOT, runNode, spawnNode } from "./child-process.ts";

const BUILD_TIMEOUT_MS = 60_000;
const TSC = join(REPO_ROOT, "node_modules/typescript/bin/tsc");

describe("the built CLI (tsc -p tsconfig.build.json)", () => {
  let root: string;
  let builtMain: string;

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), "switchyard-build-"));
    // The emitted files import packages by name and are ESM, as they are inside the package.
    await symlink(join(REPO_ROOT, "node_modules"), join(root, "node_modules"), "dir");
    await writeFile(join(root, "package.json"), JSON.stringify({ type: "module" }));
    const outDir = join(root, "dist");
    const build = await runNode(TSC, ["-p", "tsconfig.build.json", "--outDir", outDir], {
      timeoutMs: BUILD_TIMEOUT_MS,
    });
    expect(build.stdout + build.stderr).toBe("");
    expect(build.code).toBe(0);
    builtMain = join(outDir, "cli/main.js");
  }, BUILD_TIMEOUT_MS);

  afterEach(async () => {
    await killAllChildren();
  });

  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it("emits an executable entry point that imports .js files", async () => {
    const text = await readFile(builtMain, "utf8");
    // The young generation capped at 2 x 8 MB: see "Memory" in the README.
    expect(text.startsWith("#!/usr/bin/env -S node --max-semi-space-size=8\n")).toBe(true);
    expect(text).toContain('from "./serve.js"');
    expect(text).not.toMatch(/from "\.{1,2}\/[^"]*\.ts"/);
  });

  it("checks config/switchyard.yaml", async () => {
    const exit = await runNode(builtMain, ["check", "config/switchyard.yaml"]);
    expect(exit.stderr).toBe("");
    expect(exit.code).toBe(0);
    expect(exit.stdout).toMatch(/^config\/switchyard\.yaml: ok/);
  });

  it("runs as a command through its #! line, with the young-generation flag", async () => {
    await chmod(builtMain, 0o755);
    // The flag is in force: a program started the same way reports it in execArgv.
    const probe = join(root, "flags.js");
    await writeFile(
      probe,
      `${(await readFile(builtMain, "utf8")).split("\n")[0] ?? ""}\nconsole.log(process.execArgv.join(" "));\n`,
      { mode: 0o755 },
    );
    const env = { ...process.env, PATH: `${dirname(process.execPath)}:${process.env.PATH ?? ""}` };
    const flags = await runExecutable(probe, [], env);
    expect(flags.stdout.trim()).toBe("--max-semi-space-size=8");
    const check = await runExecutable(builtMain, ["check", "config/switchyard.yaml"], env);
    expect(check.stderr).toBe("");
    expect(check.code).toBe(0);
    expect(check.stdout).toMatch(/^config\/switchyard\.yaml: ok/);
  });

  it("serves and stops on SIGTERM", async () => {
    const config = join(root, "serve.yaml");
    await writeFile(
      config,
      [
        "listen: { proxy: 127.0.0.1:0, admin: 127.0.0.1:0 }",
        "upstreams: { stable: { endpoints: [http://127.0.0.1:9] } }",
        "routes: [{ name: web, split: { stable: 100 } }]",
        "",
      ].join("\n"),
    );
    const serve = spawnNode(builtMain, ["serve", "--config", config]);
    await serve.waitForLine((line) => line.includes('"msg":"switchyard started"'));
    serve.signal("SIGTERM");
    const exit = await serve.exited;
    expect(exit.code).toBe(0);
    expect(linesOf(exit.stderr)).toEqual([]);
  });
});

interface ExecutableExit {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a file as a command (the kernel reads its #! line), with Node 24 first on PATH. */
function runExecutable(
  file: string,
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<ExecutableExit> {
  return new Promise((resolve) => {
    execFile(file, args, { env, cwd: REPO_ROOT, timeout: 20_000 }, (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : Number(error.code ?? 1), stdout, stderr });
    });
  });
}
