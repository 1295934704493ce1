import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runCheck } from "../../../src/cli/check.ts";
import { cleanupAfterEach } from "../../support/cleanups.ts";
import { configFixture, yamlLines } from "../../support/config-fixtures.ts";

const { defer } = cleanupAfterEach();

/** A config file in a temporary directory, with `workers` on line 5. */
async function fileWithWorkers(workers: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "switchyard-check-"));
  defer(() => rm(dir, { recursive: true, force: true }));
  const file = join(dir, "switchyard.yaml");
  await writeFile(
    file,
    yamlLines(
      "upstreams:",
      "  stable: { endpoints: [http://127.0.0.1:9001] }",
      "routes:",
      "  - { name: web, split: { stable: 100 } }",
      `workers: ${workers}`,
    ),
  );
  return file;
}

async function check(file: string, env: NodeJS.ProcessEnv = {}) {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const code = await runCheck(
    file,
    { stdout: (line) => stdout.push(line), stderr: (line) => stderr.push(line) },
    env,
  );
  return { code, stdout, stderr };
}

describe("runCheck", () => {
  it("prints FILE: ok with a summary and exits 0 for a valid file", async () => {
    const file = configFixture("minimal.yaml");
    expect(await check(file)).toEqual({
      code: 0,
      stdout: [`${file}: ok (1 route, 1 upstream, 1 endpoint, 0 rollouts)`],
      stderr: [],
    });
  });

  it("validates the example config/switchyard.yaml", async () => {
    const file = new URL("../../../config/switchyard.yaml", import.meta.url).pathname;
    expect(await check(file)).toEqual({
      code: 0,
      stdout: [`${file}: ok (1 route, 2 upstreams, 3 endpoints, 1 rollout)`],
      stderr: [],
    });
  });

  it("prints every problem as FILE:LINE:COL: PATH: MESSAGE and exits 1", async () => {
    const file = configFixture("many-problems.yaml");
    expect(await check(file)).toEqual({
      code: 1,
      stdout: [],
      stderr: [
        `${file}:5:5: upstreams.stable.tmeouts: unknown key "tmeouts"; did you mean "timeouts"?`,
        `${file}:8:24: upstreams.canary.breaker.window: "soon" is not a duration; write it like 250ms, 5s, 1m or 1h`,
        `${file}:11:5: routes[0].split: weights sum to 95, not 100`,
        `${file}:13:57: routes[0].rules[0].to: unknown upstream "beta" (defined: stable, canary)`,
        `${file}: invalid (4 problems)`,
      ],
    });
  });

  it("exits 1 with one clear line for a file that cannot be read", async () => {
    const file = configFixture("does-not-exist.yaml");
    expect(await check(file)).toEqual({
      code: 1,
      stdout: [],
      stderr: [
        `${file}:0:0: (file): cannot read the file: no such file (check the path)`,
        `${file}: invalid (1 problem)`,
      ],
    });
  });

  it("validates a fleet block, and warns (exit 0) that state.file is then a local copy", async () => {
    const file = configFixture("fleet-with-state.yaml");
    expect(await check(file)).toEqual({
      code: 0,
      stdout: [`${file}: ok (1 route, 1 upstream, 1 endpoint, 0 rollouts)`],
      stderr: [
        `${file}:9:3: state.file: warning: in fleet mode this file is only a local copy of the last fleet state, read when this replica starts while Redis is unreachable; admin overrides and rollout progress live in Redis`,
      ],
    });
  });

  it("accepts workers: 1 without a word", async () => {
    const file = await fileWithWorkers("1");
    expect(await check(file)).toEqual({
      code: 0,
      stdout: [`${file}: ok (1 route, 1 upstream, 1 endpoint, 0 rollouts)`],
      stderr: [],
    });
  });

  it("accepts more workers, and auto, without a word", async () => {
    const several = await fileWithWorkers("4");
    expect(await check(several)).toEqual({
      code: 0,
      stdout: [`${several}: ok (1 route, 1 upstream, 1 endpoint, 0 rollouts)`],
      stderr: [],
    });
    const auto = await fileWithWorkers("auto");
    expect((await check(auto)).stderr).toEqual([]);
  });

  it("exits 1 for a workers value out of range, at its line and column", async () => {
    const file = await fileWithWorkers("0");
    expect(await check(file)).toEqual({
      code: 1,
      stdout: [],
      stderr: [
        `${file}:5:10: workers: must be a whole number from 1 to 64, or "auto" (one per CPU the cgroup allows); got 0`,
        `${file}: invalid (1 problem)`,
      ],
    });
  });
});
