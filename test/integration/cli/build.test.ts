/**
 * SLOW (a full `tsc` emit, about 5 s): builds the package the way `npm run build` does, into a
 * temporary directory, and runs the built `switchyard` (package.json `bin`), so a source that
 * only works with type stripping, or an import the emit does not rewrite, fails here.
 */
import { mkdtemp, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
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
    expect(text.startsWith("#!/usr/bin/env node\n")).toBe(true);
    expect(text).toContain('from "./serve.js"');
    expect(text).not.toMatch(/from "\.{1,2}\/[^"]*\.ts"/);
  });

  it("checks config/switchyard.yaml", async () => {
    const exit = await runNode(builtMain, ["check", "config/switchyard.yaml"]);
    expect(exit.stderr).toBe("");
    expect(exit.code).toBe(0);
    expect(exit.stdout).toMatch(/^config\/switchyard\.yaml: ok/);
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
