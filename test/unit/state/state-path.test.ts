import { describe, expect, it } from "vitest";
import { resolve } from "node:path";
import { resolveStateFile } from "../../../src/state/state-path.ts";

describe("resolveStateFile", () => {
  it.each([
    ["/etc/switchyard/switchyard.yaml", "./var/state.json", "/etc/switchyard/var/state.json"],
    ["/etc/switchyard/switchyard.yaml", "state.json", "/etc/switchyard/state.json"],
    ["/etc/switchyard/switchyard.yaml", "../lib/state.json", "/etc/lib/state.json"],
    [
      "/etc/switchyard/switchyard.yaml",
      "/var/lib/switchyard/state.json",
      "/var/lib/switchyard/state.json",
    ],
  ])("config %s, state.file %s -> %s", (config, stateFile, expected) => {
    expect(resolveStateFile(config, stateFile)).toBe(expected);
  });

  it("takes a relative config path from the current directory, not the state path", () => {
    expect(resolveStateFile("config/switchyard.yaml", "./var/state.json")).toBe(
      resolve("config/var/state.json"),
    );
  });
});
