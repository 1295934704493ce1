/**
 * SLOW (15-35 s, mostly the build): `npm run bench:smuggling` against switchyard alone on a
 * handful of cases, so the corpus run keeps working as the code changes. Checks the JSON shape,
 * that the well-formed cases are forwarded as one request, and that switchyard forwards no case
 * ambiguously. Needs neither nginx nor HAProxy.
 */
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REPO_ROOT, runNode, type ChildExit } from "../../support/node-process.ts";

const RUN_TIMEOUT_MS = 90_000;

const CASES = [
  "control-get",
  "control-post-chunked",
  "control-request-in-body",
  "cl-then-te",
  "cl-two-different",
  "te-chunked-identity",
  "la-transfer-underscore",
  "la-length-underscore",
  "lf-hides-transfer-encoding",
  "chunk-size-not-hex",
  "version-1-2",
  "host-duplicate-different",
];

interface CaseEntry {
  name: string;
  class: string;
  about: string;
  bytes: string;
  length: number;
  results: Record<
    string,
    {
      verdict: string;
      reasons: string[];
      client: { statuses: number[] };
      origin: { bytes: number; requests: unknown[] };
    }
  >;
}

/** Interrupted (SIGINT, so it stops what it started) a little before the test's own limit. */
function runCorpus(args: string[]): Promise<ChildExit> {
  return runNode(join(REPO_ROOT, "bench/smuggling/run.ts"), args, {
    timeoutMs: RUN_TIMEOUT_MS - 5000,
    timeoutSignal: "SIGINT",
  });
}

describe("npm run bench:smuggling, switchyard only, a handful of cases", () => {
  let outDir: string;
  let outcome: ChildExit;

  beforeAll(async () => {
    outDir = await mkdtemp(join(tmpdir(), "switchyard-smuggling-test-"));
    outcome = await runCorpus([
      "--only",
      "switchyard",
      "--cases",
      CASES.join(","),
      "--out",
      outDir,
    ]);
  }, RUN_TIMEOUT_MS);

  afterAll(async () => {
    await rm(outDir, { recursive: true, force: true });
  });

  it("exits 0, prints the totals and writes smuggling.md and smuggling.json", async () => {
    expect(outcome.stderr).not.toMatch(/bench:smuggling: failed/);
    expect(outcome.code).toBe(0);
    expect(outcome.stdout).toMatch(new RegExp(`^\\| switchyard \\| ${CASES.length} \\|`, "m"));
    const markdown = await readFile(join(outDir, "smuggling.md"), "utf8");
    expect(markdown).toContain(outcome.stdout.replace(/^\n/, ""));
    expect(markdown).toMatch(/^## Every case$/m);
  });

  it("writes the documented fields, and switchyard forwards no case ambiguously", async () => {
    const results = JSON.parse(await readFile(join(outDir, "smuggling.json"), "utf8")) as {
      schemaVersion: number;
      kind: string;
      machine: Record<string, unknown>;
      settings: { targets: string[]; cases: number; timeoutMs: number };
      classes: Record<string, string>;
      targets: { name: string; totals: Record<string, number> }[];
      skipped: unknown[];
      byClass: { class: string; cases: number; targets: Record<string, Record<string, number>> }[];
      cases: CaseEntry[];
    };
    expect(results).toMatchObject({ schemaVersion: 1, kind: "smuggling", skipped: [] });
    expect(Object.keys(results.machine)).toEqual(
      expect.arrayContaining(["node", "os", "nginx", "haproxy", "startedAt"]),
    );
    expect(results.settings).toMatchObject({ targets: ["switchyard"], cases: CASES.length });
    expect(results.cases.map((c) => c.name)).toEqual(CASES);
    expect(results.targets.map((t) => t.name)).toEqual(["switchyard"]);

    const totals = results.targets[0]!.totals;
    expect(Object.values(totals).reduce((a, b) => a + b, 0)).toBe(CASES.length);
    expect(totals["forwarded-ambiguous"]).toBe(0);
    const classCases = results.byClass.reduce((sum, row) => sum + row.cases, 0);
    expect(classCases).toBe(CASES.length);
    for (const row of results.byClass) expect(results.classes[row.class]).toBeTypeOf("string");

    const verdict = (name: string): string | undefined =>
      results.cases.find((c) => c.name === name)?.results.switchyard?.verdict;
    for (const name of ["control-get", "control-post-chunked", "control-request-in-body"]) {
      expect(verdict(name), name).toBe("forwarded-one");
    }
    for (const c of results.cases) {
      const result = c.results.switchyard!;
      expect(c.bytes.length).toBeGreaterThan(0);
      expect(result.verdict, c.name).not.toBe("forwarded-ambiguous");
      expect(Array.isArray(result.reasons)).toBe(true);
      if (result.verdict === "refused") {
        expect(result.client.statuses[0], c.name).toBeGreaterThanOrEqual(400);
        expect(result.origin.bytes, c.name).toBe(0);
      }
    }
    expect(verdict("la-transfer-underscore")).toBe("refused");
    expect(verdict("version-1-2")).toBe("refused");
  });
});
