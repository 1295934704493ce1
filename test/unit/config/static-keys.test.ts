import { describe, expect, it } from "vitest";
import type { Config } from "../../../src/config/schema.ts";
import { configFieldsSchema } from "../../../src/config/schema.ts";
import { knownKeysAt } from "../../../src/config/schema-keys.ts";
import { restartRequiredKeys, STARTUP_ONLY_KEYS } from "../../../src/config/static-keys.ts";
import { loadValidConfig, yamlLines } from "../../support/config-fixtures.ts";

/** A config with `extra` lines after its upstreams and routes. */
function configWith(...extra: string[]): Config {
  return loadValidConfig(
    yamlLines(
      "upstreams:",
      "  stable: { endpoints: [http://127.0.0.1:9001] }",
      "  canary: { endpoints: [http://127.0.0.1:9002] }",
      "routes:",
      "  - { name: web, split: { stable: 100 } }",
      ...extra,
    ),
  );
}

const LISTEN = "listen: { proxy: 127.0.0.1:8080, admin: 127.0.0.1:9901 }";
const STATE = "state: { file: state.json }";
const SERVER = "server: { maxHeaderSize: 16384 }";
const BASE = [LISTEN, STATE, SERVER];

describe("restartRequiredKeys", () => {
  it.each<[string, string[], string[]]>([
    ["nothing", BASE, []],
    [
      "nothing for keys that follow reloads",
      [
        LISTEN,
        STATE,
        "server: { maxHeaderSize: 16384, headersTimeout: 3s, maxConnections: 5 }",
        "admin: { publicMetrics: false }",
        "forwarded: { trust: true }",
      ],
      [],
    ],
    [
      "the proxy's port",
      ["listen: { proxy: 127.0.0.1:8081, admin: 127.0.0.1:9901 }", STATE, SERVER],
      ["listen.proxy.port"],
    ],
    [
      "the admin host and the proxy host",
      ["listen: { proxy: 0.0.0.0:8080, admin: '[::1]:9901' }", STATE, SERVER],
      ["listen.admin.host", "listen.proxy.host"],
    ],
    ["the state file", [LISTEN, "state: { file: other.json }", SERVER], ["state.file"]],
    ["a state file removed", [LISTEN, SERVER], ["state.file"]],
    [
      "maxHeaderSize, not a live server key beside it",
      [LISTEN, STATE, "server: { maxHeaderSize: 32768, drainDelay: 1s }"],
      ["server.maxHeaderSize"],
    ],
    [
      "nothing for an address left out whose default is the same",
      ["listen: { proxy: 127.0.0.1:8080 }", STATE, SERVER],
      [],
    ],
  ])("lists %s", (_case, nextLines, expected) => {
    expect(restartRequiredKeys(configWith(...BASE), configWith(...nextLines))).toEqual(expected);
  });

  it("lists every differing key at once, sorted", () => {
    const running = configWith(...BASE);
    const next = configWith(
      "listen: { proxy: 127.0.0.1:8081, admin: 127.0.0.2:9902 }",
      "server: { maxHeaderSize: 8192 }",
    );
    expect(restartRequiredKeys(running, next)).toEqual([
      "listen.admin.host",
      "listen.admin.port",
      "listen.proxy.port",
      "server.maxHeaderSize",
      "state.file",
    ]);
  });

  it.each<[string, string[], string[], string[]]>([
    ["nothing for the same count", ["workers: 2"], ["workers: 2"], []],
    ["nothing for the default written out", [], ["workers: 1"], []],
    ["another count", ["workers: 2"], ["workers: 4"], ["workers"]],
    ["the key removed", ["workers: 2"], [], ["workers"]],
    ["auto for a count", ["workers: 1"], ["workers: auto"], ["workers"]],
  ])("lists for workers %s", (_case, runningLines, nextLines, expected) => {
    const running = configWith(...BASE, ...runningLines);
    expect(restartRequiredKeys(running, configWith(...BASE, ...nextLines))).toEqual(expected);
  });
});

describe("restartRequiredKeys with fleet", () => {
  const FLEET = ["fleet:", "  redis: redis://:pw@127.0.0.1:6379/0", "  name: shop"];

  it.each<[string, string[], string[]]>([
    ["nothing for the same block", FLEET, []],
    ["nothing for a default written out", [...FLEET, "  leaseTtl: 10s"], []],
    [
      "the URL (its name, never its value) and the lease",
      ["fleet:", "  redis: redis://:other@127.0.0.1:6380/0", "  name: shop", "  leaseTtl: 5s"],
      ["fleet.leaseTtl", "fleet.redis"],
    ],
    ["a replica id set", [...FLEET, "  replica: pod-1"], ["fleet.replica"]],
    [
      "a CA added below tls",
      [
        ...FLEET.slice(0, 1),
        "  redis: rediss://:pw@127.0.0.1:6379/0",
        "  name: shop",
        "  tls: { ca: ca.pem }",
      ],
      ["fleet.redis", "fleet.tls.ca"],
    ],
    [
      "every key of a block removed",
      [],
      ["fleet.leaseTtl", "fleet.name", "fleet.redis", "fleet.syncTimeout"],
    ],
  ])("lists %s", (_case, nextLines, expected) => {
    const running = configWith(...BASE, ...FLEET);
    expect(restartRequiredKeys(running, configWith(...BASE, ...nextLines))).toEqual(expected);
  });

  it("lists every key of a block added to a process started without one", () => {
    expect(restartRequiredKeys(configWith(...BASE), configWith(...BASE, ...FLEET))).toEqual([
      "fleet.leaseTtl",
      "fleet.name",
      "fleet.redis",
      "fleet.syncTimeout",
    ]);
  });
});

describe("STARTUP_ONLY_KEYS", () => {
  it("names keys of the schema", () => {
    for (const key of STARTUP_ONLY_KEYS) {
      const path = key.split(".");
      const name = path.pop() ?? "";
      expect(knownKeysAt(configFieldsSchema, path), key).toContain(name);
    }
    expect(STARTUP_ONLY_KEYS).toContain("workers");
  });
});
