/**
 * A start that fails part-way stops what had started: the listeners opened before the failing
 * part are closed again (their ports can be listened on at once), and the error is the part's
 * own. The config watcher cannot be made to fail from outside on every machine, so that test
 * makes its start reject; the admin listener fails for real, on a port already taken.
 */
import { connect, createServer } from "node:net";
import { afterEach, describe, expect, it, vi } from "vitest";
import { StartError } from "../../../src/app.ts";
import { ConfigWatcher } from "../../../src/config/watch.ts";
import { cleanupAfterEach } from "../../support/cleanups.ts";
import { startFileSwitchyard } from "../../support/file-switchyard.ts";
import {
  closeServer,
  listenOnFreePort,
  listenOnPort,
  LOOPBACK_HOST,
  refusingOrigin,
} from "../../support/ports.ts";

const cleanups = cleanupAfterEach();

afterEach(() => {
  vi.restoreAllMocks();
});

/** A port nothing listens on right now (listened on, then freed). */
async function freePort(): Promise<number> {
  const server = createServer();
  const port = await listenOnFreePort(server);
  await closeServer(server);
  return port;
}

/** Whether a TCP connection to the port is accepted. */
function isAccepting(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, LOOPBACK_HOST);
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => {
      resolve(false);
    });
  });
}

/** Listens on the port and lets it go again; rejects (EADDRINUSE) while someone holds it. */
async function listenAndRelease(port: number): Promise<void> {
  const server = createServer();
  await listenOnPort(server, port);
  await closeServer(server);
}

async function configOn(proxyPort: number, adminPort: number): Promise<Record<string, unknown>> {
  return {
    upstreams: { stable: { endpoints: [await refusingOrigin()] } },
    routes: [{ name: "web", split: { stable: 100 } }],
    listen: {
      proxy: `${LOOPBACK_HOST}:${String(proxyPort)}`,
      admin: `${LOOPBACK_HOST}:${String(adminPort)}`,
    },
  };
}

describe("a start that fails stops what had started", () => {
  it("closes the proxy and admin listeners when the config watcher cannot start", async () => {
    const proxyPort = await freePort();
    const adminPort = await freePort();
    let wereListening: boolean[] = [];
    const watcherStart = vi.spyOn(ConfigWatcher.prototype, "start").mockImplementation(async () => {
      // The premise: both listeners had started when the watcher failed.
      wereListening = [await isAccepting(proxyPort), await isAccepting(adminPort)];
      throw new Error("cannot watch the config directory");
    });

    const starting = startFileSwitchyard(await configOn(proxyPort, adminPort));

    await expect(starting).rejects.toThrow("cannot watch the config directory");
    expect(watcherStart).toHaveBeenCalledTimes(1);
    expect(wereListening).toEqual([true, true]);
    await listenAndRelease(proxyPort);
    await listenAndRelease(adminPort);
  });

  it("closes the proxy listener when the admin port is taken", async () => {
    const taken = createServer();
    const adminPort = await listenOnFreePort(taken);
    cleanups.defer(() => closeServer(taken));
    const proxyPort = await freePort();

    const starting = startFileSwitchyard(await configOn(proxyPort, adminPort));

    await expect(starting).rejects.toBeInstanceOf(StartError);
    await expect(starting).rejects.toMatchObject({ code: "EADDRINUSE" });
    await listenAndRelease(proxyPort);
  });
});
