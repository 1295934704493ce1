import { readFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { ADMIN_ERRORS } from "../../../src/admin/admin-errors.ts";

const DOC = new URL("../../../docs/admin-api.md", import.meta.url);

describe("ADMIN_ERRORS", () => {
  it("documents every code with its status in docs/admin-api.md's table", async () => {
    const doc = await readFile(DOC, "utf8");
    for (const [code, { status }] of Object.entries(ADMIN_ERRORS)) {
      const row = new RegExp(`^\\| ${String(status)} +\\| \`${code}\` +\\|`, "m");
      expect(doc, code).toMatch(row);
    }
  });
});
