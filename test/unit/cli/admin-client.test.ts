import { describe, expect, it } from "vitest";
import { resolveAdminTarget } from "../../../src/cli/admin-client.ts";

describe("resolveAdminTarget", () => {
  it("defaults to http://127.0.0.1:9901 and $SWITCHYARD_ADMIN_TOKEN", () => {
    expect(resolveAdminTarget({}, { SWITCHYARD_ADMIN_TOKEN: "t-from-env" })).toEqual({
      ok: true,
      target: { baseUrl: "http://127.0.0.1:9901", token: "t-from-env" },
    });
  });

  it("prefers --token, and treats an empty environment value as unset", () => {
    const env = { SWITCHYARD_ADMIN_TOKEN: "t-from-env" };
    expect(resolveAdminTarget({ token: "t-flag" }, env)).toMatchObject({
      target: { token: "t-flag" },
    });
    expect(resolveAdminTarget({}, { SWITCHYARD_ADMIN_TOKEN: "" })).toMatchObject({
      target: { token: undefined },
    });
  });

  it.each([
    ["http://127.0.0.1:9901/", "http://127.0.0.1:9901"],
    ["127.0.0.1:9901", "http://127.0.0.1:9901"],
    ["localhost:9901", "http://localhost:9901"],
    ["https://admin.example.com/switchyard/", "https://admin.example.com/switchyard"],
    ["http://[::1]:9901", "http://[::1]:9901"],
  ])("reads --admin %s as %s", (admin, baseUrl) => {
    expect(resolveAdminTarget({ admin }, {})).toMatchObject({ ok: true, target: { baseUrl } });
  });

  it.each(["ftp://127.0.0.1:9901", "http://", "http://127.0.0.1:9901/?x=1", "http://a b"])(
    "refuses --admin %s",
    (admin) => {
      const result = resolveAdminTarget({ admin }, {});
      expect(result.ok).toBe(false);
      expect(!result.ok && result.message).toContain("is not an http:// URL of the admin API");
    },
  );
});
