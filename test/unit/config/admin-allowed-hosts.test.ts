import { describe, expect, it } from "vitest";
import { loadProblems, loadValidConfig, yamlLines } from "../../support/config-fixtures.ts";

/** Lines 3-7: one upstream and one route. */
function withAdmin(...adminLines: string[]): string {
  return yamlLines(
    "admin:",
    ...adminLines,
    "upstreams:",
    "  stable:",
    "    endpoints: [http://127.0.0.1:9001]",
    "routes:",
    "  - name: web",
    "    split: { stable: 100 }",
  );
}

describe("admin.allowedHosts", () => {
  it("defaults to none", () => {
    const config = loadValidConfig(withAdmin("  publicMetrics: true"));
    expect(config.admin.allowedHosts).toEqual([]);
  });

  it("takes names and *. wildcards as written", () => {
    const config = loadValidConfig(
      withAdmin(
        "  allowedHosts:",
        "    - switchyard-admin.shop.svc",
        "    - '*.admin.example.com'",
        "    - Admin_Host",
        "    - ${ADMIN_HOST}",
      ),
      { ADMIN_HOST: "switchyard-admin.shop.svc.cluster.local" },
    );
    expect(config.admin.allowedHosts).toEqual([
      "switchyard-admin.shop.svc",
      "*.admin.example.com",
      "Admin_Host",
      "switchyard-admin.shop.svc.cluster.local",
    ]);
  });

  it.each([
    "switchyard-admin.shop.svc:9901",
    "http://switchyard-admin",
    "'*'",
    "'*.'",
    "'a.*.example'",
    "'-admin.example'",
    "admin..example",
    "'[::1]'",
    "'admin.example/'",
  ])("refuses %s with its line and column", (value) => {
    const problems = loadProblems(withAdmin(`  allowedHosts: [ok.example, ${value}]`));
    expect(problems).toHaveLength(1);
    const text = value.replace(/^'|'$/g, "");
    expect(problems[0]).toEqual({
      file: "test.yaml",
      line: 2,
      column: 30,
      path: "admin.allowedHosts[1]",
      message: `"${text}" is not a host name; write a name without scheme or port (e.g. switchyard-admin.shop.svc), or "*." and a name for every name below it`,
    });
  });

  it("refuses a value that is not a list", () => {
    const problems = loadProblems(withAdmin("  allowedHosts: switchyard-admin.shop.svc"));
    expect(problems).toMatchObject([{ line: 2, column: 17, path: "admin.allowedHosts" }]);
  });
});
