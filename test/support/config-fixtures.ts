/** Config files for tests: fixture paths, and YAML text loaded exactly as the CLI loads it. */
import { fileURLToPath } from "node:url";
import { formatProblem, loadConfigText } from "../../src/config/load.ts";
import type { ConfigProblem } from "../../src/config/load.ts";
import type { Config } from "../../src/config/schema.ts";

/** Absolute path of a file under test/fixtures/config/. */
export function configFixture(name: string): string {
  return fileURLToPath(new URL(`../fixtures/config/${name}`, import.meta.url));
}

/** Lines joined with "\n", so a test reads line N of the YAML as index N - 1. */
export function yamlLines(...lines: string[]): string {
  return `${lines.join("\n")}\n`;
}

/** Loads YAML text that must be valid; throws with every formatted problem otherwise. */
export function loadValidConfig(text: string, env: NodeJS.ProcessEnv = {}): Config {
  const result = loadConfigText(text, "test.yaml", env);
  if (!result.ok) throw new Error(result.problems.map(formatProblem).join("\n"));
  return result.config;
}

/** Loads YAML text that must be invalid and returns its problems. */
export function loadProblems(text: string, env: NodeJS.ProcessEnv = {}): readonly ConfigProblem[] {
  const result = loadConfigText(text, "test.yaml", env);
  if (result.ok) throw new Error("expected the config to be invalid, but it loaded");
  return result.problems;
}
