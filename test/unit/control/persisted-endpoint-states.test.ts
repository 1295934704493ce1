/**
 * Endpoint states in the state file (SPEC 12, kept like weight overrides): by upstream and URL,
 * read back at start; a file written before endpoint states existed still loads, and a file
 * without any keeps its earlier shape. Real StateStore on a temporary directory.
 */
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { PersistedStateKeeper } from "../../../src/control/persisted-state.ts";
import { createSilentLogger } from "../../../src/log/logger.ts";
import type { EndpointStateRecord } from "../../../src/runtime/endpoint-states.ts";
import { StateStore } from "../../../src/state/state-store.ts";

const A = "http://10.0.0.11:8080";
const B = "http://10.0.0.12:8080";
const SET_AT = "2026-01-01T00:00:00.000Z";

let dir: string;
let file: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "switchyard-endpoint-states-"));
  file = join(dir, "state.json");
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function keeper(): PersistedStateKeeper {
  const logger = createSilentLogger();
  return new PersistedStateKeeper(new StateStore({ file, logger }), logger);
}

function record(state: EndpointStateRecord["state"]): EndpointStateRecord {
  return { state, setBy: "ops", setAt: SET_AT };
}

async function readJson(): Promise<unknown> {
  return JSON.parse(await readFile(file, "utf8")) as unknown;
}

describe("endpoint states in the state file", () => {
  it("writes them by upstream and URL and reads them back", async () => {
    const writer = keeper();
    await writer.load();
    writer.setEndpointStates(
      new Map([
        [
          "stable",
          new Map([
            [A, record("drain")],
            [B, record("maintenance")],
          ]),
        ],
      ]),
    );
    await writer.flush();
    expect(await readJson()).toEqual({
      version: 1,
      routes: {},
      upstreams: {
        stable: {
          endpoints: {
            [A]: { state: "drain", setBy: "ops", setAt: SET_AT },
            [B]: { state: "maintenance", setBy: "ops", setAt: SET_AT },
          },
        },
      },
    });
    const { endpointStates } = await keeper().load();
    expect(endpointStates).toEqual(
      new Map([
        [
          "stable",
          new Map([
            [A, record("drain")],
            [B, record("maintenance")],
          ]),
        ],
      ]),
    );
  });

  it("loads a file written before endpoint states existed, and keeps its shape", async () => {
    const old = {
      version: 1,
      routes: { web: { override: null, rollout: { phase: "paused", stepIndex: 1 } } },
    };
    await writeFile(file, JSON.stringify(old));
    const reader = keeper();
    const loaded = await reader.load();
    expect(loaded.endpointStates).toEqual(new Map());
    expect(loaded.rollouts.get("web")).toEqual({ phase: "paused", stepIndex: 1 });
    reader.setRollout("web", { phase: "progressing", stepIndex: 1 });
    await reader.flush();
    expect(await readJson()).toEqual({
      version: 1,
      routes: { web: { override: null, rollout: { phase: "progressing", stepIndex: 1 } } },
    });
  });

  it("forgets the key once no endpoint state is left, and skips a saved ready", async () => {
    await writeFile(
      file,
      JSON.stringify({
        version: 1,
        routes: {},
        upstreams: {
          stable: { endpoints: { [A]: { state: "ready", setBy: "ops", setAt: SET_AT } } },
        },
      }),
    );
    const reader = keeper();
    expect((await reader.load()).endpointStates).toEqual(new Map());
    reader.setEndpointStates(new Map([["stable", new Map()]]));
    await reader.flush();
    expect(await readJson()).toEqual({ version: 1, routes: {} });
  });
});
