/**
 * `switchyard status` and `switchyard weights` run as real processes against the admin server
 * served in this test process over a FakeControl (SPEC sections 1 and 7): output, exit codes
 * 0/1/2, tokens from the flag and the environment, and the sentences users read on failure.
 */
import { createServer as createHttpServer } from "node:http";
import { createServer as createNetServer } from "node:net";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { closeServer, listenOnFreePort } from "../../support/ports.ts";
import {
  READ_TOKEN,
  startAdmin,
  TOKENS,
  WRITE_TOKEN,
  type RunningAdmin,
} from "../admin/admin-fixture.ts";
import { killAllChildren, linesOf, runCli } from "./child-process.ts";

let running: RunningAdmin | undefined;

afterEach(async () => {
  await killAllChildren();
  await running?.close();
  running = undefined;
});

afterAll(async () => {
  await killAllChildren();
});

describe("switchyard status", () => {
  it("prints routes, upstreams and config as tables and exits 0", async () => {
    running = await startAdmin();
    const exit = await runCli(["status", "--admin", running.url]);
    expect(exit.stderr).toBe("");
    expect(exit.code).toBe(0);
    const lines = linesOf(exit.stdout);
    expect(lines[0]).toMatch(/^ROUTE\s+SPLIT\s+SOURCE\s+ROLLOUT$/);
    expect(lines).toContainEqual(
      expect.stringMatching(/^web\s+stable 95%, canary 5%\s+file\s+none$/),
    );
    expect(lines).toContainEqual(
      expect.stringMatching(
        /^api\s+stable 90%, canary 10%\s+rollout\s+progressing, step 2 at 10% \(canary over stable\)$/,
      ),
    );
    expect(lines).toContainEqual(
      expect.stringMatching(/^UPSTREAM\s+BREAKER\s+#\s+ENDPOINT\s+STATE\s+HEALTH\s+EJECTED$/),
    );
    expect(lines).toContainEqual(
      expect.stringMatching(
        /^stable\s+closed\s+0\s+http:\/\/10\.0\.0\.11:8080\s+ready\s+healthy\s+-$/,
      ),
    );
    expect(lines).toContainEqual(
      expect.stringMatching(/^\s+1\s+http:\/\/10\.0\.0\.12:8080\s+ready\s+unhealthy\s+ejected$/),
    );
    expect(lines).toContainEqual(
      expect.stringMatching(
        /^canary\s+open\s+0\s+http:\/\/10\.0\.0\.21:8080\s+ready\s+healthy\s+-$/,
      ),
    );
    expect(lines).toContainEqual(expect.stringMatching(/^config\s+config\/switchyard\.yaml$/));
    expect(lines).toContainEqual(expect.stringMatching(/^hash\s+3f2a9c1d5e7b$/));
    expect(lines).toContainEqual(expect.stringMatching(/^loaded at\s+2025-01-02T03:04:05\.000Z$/));
    expect(lines).toContainEqual(expect.stringMatching(/^last error\s+none$/));
    expect(lines).toContainEqual(expect.stringMatching(/^state\s+ready$/));
  });

  it("shows the last config error, and prints the raw answer with --json", async () => {
    running = await startAdmin();
    const control = running.control;
    const status = control.status.bind(control);
    control.status = () => ({
      ...status(),
      config: {
        ...status().config,
        lastError: { message: "routes.0.split: sums to 90", line: 12, column: 5, problems: [] },
      },
    });
    const human = await runCli(["status", "--admin", running.url]);
    expect(linesOf(human.stdout)).toContainEqual(
      expect.stringMatching(/^last error\s+routes\.0\.split: sums to 90 \(line 12, column 5\)$/),
    );
    const json = await runCli(["status", "--json", "--admin", running.url]);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toEqual(control.status());
  });

  it("takes the token from --token or $SWITCHYARD_ADMIN_TOKEN", async () => {
    running = await startAdmin({ tokens: TOKENS });
    const [flag, env] = await Promise.all([
      runCli(["status", "--admin", running.url, "--token", READ_TOKEN]),
      runCli(["status", "--admin", running.url], { env: { SWITCHYARD_ADMIN_TOKEN: READ_TOKEN } }),
    ]);
    expect(flag.code).toBe(0);
    expect(env.code).toBe(0);
    expect(env.stdout).toMatch(/^ROUTE/);
  });

  it("exits 1 with the fix when the token is missing or refused (401)", async () => {
    running = await startAdmin({ tokens: TOKENS });
    const [missing, wrong] = await Promise.all([
      runCli(["status", "--admin", running.url]),
      runCli(["status", "--admin", running.url, "--token", "not-a-known-token-0123"]),
    ]);
    expect(missing.code).toBe(1);
    expect(missing.stdout).toBe("");
    expect(missing.stderr).toBe(
      "switchyard: the admin API requires a token (401); pass --token or set SWITCHYARD_ADMIN_TOKEN\n",
    );
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toBe(
      "switchyard: the admin API refused the token (401); pass a valid one with --token or SWITCHYARD_ADMIN_TOKEN\n",
    );
  });

  it("exits 1 with one sentence when the admin API cannot be reached", async () => {
    const probe = createNetServer();
    const port = await listenOnFreePort(probe);
    await closeServer(probe);
    const exit = await runCli(["status", "--admin", `http://127.0.0.1:${port}`]);
    expect(exit.code).toBe(1);
    expect(exit.stderr).toBe(
      `switchyard: cannot reach the admin API at http://127.0.0.1:${port} (connection refused); is switchyard running, and is --admin right?\n`,
    );
  });

  it("exits 1 when --admin points at something that is not the admin API", async () => {
    const other = createHttpServer((_req, res) => {
      res.writeHead(200, { "content-type": "text/html" }).end("<html></html>");
    });
    const port = await listenOnFreePort(other);
    try {
      const exit = await runCli(["status", "--admin", `127.0.0.1:${port}`]);
      expect(exit.code).toBe(1);
      expect(exit.stderr).toMatch(/not the switchyard admin API; is --admin the admin address/);
    } finally {
      await closeServer(other);
    }
  });

  it("exits 2 for an --admin that is not an http URL", async () => {
    const exit = await runCli(["status", "--admin", "ftp://127.0.0.1:9901"]);
    expect(exit.code).toBe(2);
    expect(exit.stderr).toMatch(
      /^switchyard: --admin "ftp:\/\/127\.0\.0\.1:9901" is not an http:\/\/ URL/,
    );
  });
});

describe("switchyard weights", () => {
  it("sets a split, prints before -> after and exits 0", async () => {
    running = await startAdmin({ tokens: TOKENS });
    const exit = await runCli(
      ["weights", "web", "stable=80", "canary=20%", "--admin", running.url],
      { env: { SWITCHYARD_ADMIN_TOKEN: WRITE_TOKEN } },
    );
    expect(exit.stderr).toBe("");
    expect(exit.code).toBe(0);
    const lines = linesOf(exit.stdout);
    expect(lines[0]).toBe("web: split set (source: admin)");
    expect(lines).toContainEqual(expect.stringMatching(/^stable\s+95%\s+->\s+80%$/));
    expect(lines).toContainEqual(expect.stringMatching(/^canary\s+5%\s+->\s+20%$/));
    expect(running.control.routes[0]?.split).toEqual({ stable: 80, canary: 20 });
    expect(running.control.calls[0]?.actor).toBe("ops");
  });

  it("clears the override with --clear", async () => {
    running = await startAdmin();
    const { control } = running;
    expect((await control.setWeights("web", { stable: 50, canary: 50 }, "ops")).ok).toBe(true);
    const exit = await runCli(["weights", "web", "--clear", "--admin", running.url]);
    expect(exit.code).toBe(0);
    const lines = linesOf(exit.stdout);
    expect(lines[0]).toBe("web: admin override cleared; the split now comes from file");
    expect(lines).toContainEqual(expect.stringMatching(/^stable\s+50%\s+->\s+95%$/));
    expect(control.calls.map((call) => call.method)).toEqual(["setWeights", "clearWeights"]);
  });

  it("exits 2 for usage errors, calling nothing", async () => {
    running = await startAdmin();
    // Each syntax rule has a unit test (test/unit/cli/weights.test.ts); one of each kind here.
    const cases: [string[], RegExp][] = [
      [["web", "stable:80"], /"stable:80" is not UPSTREAM=PCT/],
      [["web"], /give the split as UPSTREAM=PCT pairs/],
      [["web", "stable=100", "--clear"], /--clear takes no UPSTREAM=PCT pairs/],
    ];
    const url = running.url;
    const exits = await Promise.all(
      cases.map(([args]) => runCli(["weights", ...args, "--admin", url])),
    );
    for (const [index, [args, message]] of cases.entries()) {
      const exit = exits[index]!;
      expect(exit.code, args.join(" ")).toBe(2);
      expect(exit.stderr).toMatch(message);
      expect(exit.stderr).toMatch(/^switchyard: .*; see 'switchyard weights --help'\n$/);
    }
    expect(running.control.calls).toEqual([]);
  });

  it("exits 2 without a route", async () => {
    const exit = await runCli(["weights"]);
    expect(exit.code).toBe(2);
    expect(exit.stderr).toContain("missing required argument 'route'");
  });

  it("exits 1 with the admin API's reason when the split is refused", async () => {
    running = await startAdmin({ tokens: TOKENS });
    const token = ["--admin", running.url, "--token", WRITE_TOKEN];
    const [badSum, unknown, conflict, readOnly] = await Promise.all([
      runCli(["weights", "web", "stable=90", "canary=20", ...token]),
      runCli(["weights", "shop", "stable=100", ...token]),
      runCli(["weights", "api", "stable=50", "canary=50", ...token]),
      runCli(["weights", "web", "stable=100", "--admin", running.url, "--token", READ_TOKEN]),
    ]);
    expect(badSum.code).toBe(1);
    expect(badSum.stderr).toMatch(
      /^switchyard: the admin API refused the call: the weights are invalid.*\(400 SWITCHYARD_INVALID_WEIGHTS\)\n$/,
    );
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toBe(
      'switchyard: the admin API refused the call: no route named "shop" (404 SWITCHYARD_UNKNOWN_ROUTE)\n',
    );
    expect(conflict.code).toBe(1);
    expect(conflict.stderr).toBe(
      'switchyard: the admin API refused the call: a rollout is running on route "api"; pause it first (switchyard rollout api pause) (409 SWITCHYARD_ROLLOUT_RUNNING)\n',
    );
    expect(readOnly.code).toBe(1);
    expect(readOnly.stderr).toBe(
      "switchyard: the admin API refused the call for a read token (403); use a token with scope write\n",
    );
    expect(running.control.routes[0]?.split).toEqual({ stable: 95, canary: 5 });
  });
});
