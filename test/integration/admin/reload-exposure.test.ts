/**
 * The admin listener keeps the address it started on, so the rule that a reachable admin API
 * needs a write token holds across reloads too: a reload that drops the last write token while
 * the listener is on 0.0.0.0 is refused whole, with the key and line, and the API stays locked.
 * (The listener binds every interface; the test talks to it on 127.0.0.1 only.)
 */
import { describe, expect, it } from "vitest";
import { adminCall, errorOf } from "../../support/admin-calls.ts";
import { cleanupAfterEach } from "../../support/cleanups.ts";
import { startEchoBackend } from "../../support/echo-backend.ts";
import {
  startFileSwitchyard,
  writeConfigInPlace,
  type FileSwitchyard,
} from "../../support/file-switchyard.ts";

const { track } = cleanupAfterEach();
const TOKEN = "reload-exposure-write-token";

function configText(backend: string, tokens: unknown[]): string {
  const config = {
    listen: { proxy: "127.0.0.1:0", admin: "0.0.0.0:0" },
    admin: { tokens },
    upstreams: { stable: { endpoints: [backend] } },
    routes: [{ name: "web", match: { pathPrefix: "/" }, split: { stable: 100 } }],
  };
  return `${JSON.stringify(config, null, 2)}\n`;
}

describe("a reload on a reachable admin listener", () => {
  it("is refused when it removes the last write token, and the API stays locked", async () => {
    const backend = track(await startEchoBackend({ name: "stable" }));
    const withToken = configText(backend.url, [{ name: "ops", scope: "write", token: TOKEN }]);
    const switchyard: FileSwitchyard = track(
      await startFileSwitchyard(withToken, { isWatchingConfig: false }),
    );
    const { adminUrl } = switchyard;

    await writeConfigInPlace(switchyard.configFile, configText(backend.url, []));
    const reload = await adminCall(adminUrl, "POST", "/api/v1/reload", { token: TOKEN });
    expect(reload.status).toBe(400);
    const error = errorOf(reload);
    expect(error.code).toBe("SWITCHYARD_CONFIG_INVALID");
    expect(error.message).toMatch(/^admin\.tokens: .*no write token/);
    expect(error.line).toBe(7);

    // Still locked: without a token the API refuses, with it the API answers.
    expect((await adminCall(adminUrl, "GET", "/api/v1/status")).status).toBe(401);
    expect((await adminCall(adminUrl, "GET", "/api/v1/status", { token: TOKEN })).status).toBe(200);

    // A reload that keeps a write token (a new one) applies.
    const rotated = configText(backend.url, [{ name: "ops", scope: "write", token: `${TOKEN}-2` }]);
    await writeConfigInPlace(switchyard.configFile, rotated);
    const applied = await adminCall(adminUrl, "POST", "/api/v1/reload", { token: TOKEN });
    expect(applied.json).toMatchObject({ applied: true, changed: true });
    expect((await adminCall(adminUrl, "GET", "/api/v1/status", { token: TOKEN })).status).toBe(401);
  });
});
