/**
 * `switchyard endpoint UPSTREAM INDEX STATE` as a real process against the admin server served
 * in this test process over a FakeControl (SPEC 12): output, --json, exit codes 0/1/2, and the
 * sentences users read when the call is refused.
 */
import { afterAll, afterEach, describe, expect, it } from "vitest";
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

describe("switchyard endpoint", () => {
  it("drains an endpoint, prints the change and what it means, and exits 0", async () => {
    running = await startAdmin({ tokens: TOKENS });
    const exit = await runCli(["endpoint", "stable", "0", "drain", "--admin", running.url], {
      env: { SWITCHYARD_ADMIN_TOKEN: WRITE_TOKEN },
    });
    expect(exit.stderr).toBe("");
    expect(exit.code).toBe(0);
    expect(linesOf(exit.stdout)).toEqual([
      "stable endpoint 0 (http://10.0.0.11:8080): ready -> drain",
      "drain: takes no new requests; requests in flight finish; still health-checked (health: healthy)",
    ]);
    expect(running.control.calls).toEqual([
      { method: "setEndpointState", upstream: "stable", index: 0, state: "drain", actor: "ops" },
    ]);
    expect(running.control.upstreams[0]?.endpoints[0]?.state).toBe("drain");
  });

  it("prints the admin API's answer with --json", async () => {
    running = await startAdmin();
    const exit = await runCli([
      "endpoint",
      "canary",
      "0",
      "maintenance",
      "--json",
      "--admin",
      running.url,
    ]);
    expect(exit.code).toBe(0);
    expect(JSON.parse(exit.stdout)).toEqual({
      upstream: "canary",
      index: 0,
      before: "ready",
      url: "http://10.0.0.21:8080",
      healthy: true,
      ejected: false,
      state: "maintenance",
    });
  });

  it("exits 1 with the admin API's reason when the call is refused", async () => {
    running = await startAdmin({ tokens: TOKENS });
    const admin = ["--admin", running.url];
    const [unknownUpstream, outOfRange, readOnly] = await Promise.all([
      runCli(["endpoint", "blue", "0", "drain", ...admin, "--token", WRITE_TOKEN]),
      runCli(["endpoint", "canary", "4", "drain", ...admin, "--token", WRITE_TOKEN]),
      runCli(["endpoint", "stable", "0", "drain", ...admin, "--token", READ_TOKEN]),
    ]);
    expect(unknownUpstream.code).toBe(1);
    expect(unknownUpstream.stderr).toBe(
      'switchyard: the admin API refused the call: no upstream named "blue" (404 SWITCHYARD_UNKNOWN_UPSTREAM)\n',
    );
    expect(outOfRange.code).toBe(1);
    expect(outOfRange.stderr).toBe(
      'switchyard: the admin API refused the call: upstream "canary" has no endpoint 4; its one endpoint is 0 (in the order of its endpoints list) (404 SWITCHYARD_UNKNOWN_ENDPOINT)\n',
    );
    expect(readOnly.code).toBe(1);
    expect(readOnly.stderr).toBe(
      "switchyard: the admin API refused the call for a read token (403); use a token with scope write\n",
    );
    expect(running.control.upstreams.flatMap((u) => u.endpoints.map((e) => e.state))).toEqual([
      "ready",
      "ready",
      "ready",
    ]);
  });

  it("exits 2 for usage errors, calling nothing", async () => {
    running = await startAdmin();
    const url = running.url;
    const [badIndex, badState, missing] = await Promise.all([
      runCli(["endpoint", "stable", "one", "drain", "--admin", url]),
      runCli(["endpoint", "stable", "0", "off", "--admin", url]),
      runCli(["endpoint", "stable", "0"]),
    ]);
    expect(badIndex.code).toBe(2);
    expect(badIndex.stderr).toMatch(
      /^switchyard: "one" is not an endpoint index .*; see 'switchyard endpoint --help'\n$/,
    );
    expect(badState.code).toBe(2);
    expect(badState.stderr).toMatch(/"off" is not a state \(one of ready, drain, maintenance\)/);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("missing required argument 'state'");
    expect(running.control.calls).toEqual([]);
  });
});
