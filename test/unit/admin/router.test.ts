import { describe, expect, it } from "vitest";
import { jsonAnswer } from "../../../src/admin/answer.ts";
import { AdminRouter, type AdminEndpoint, type AdminMethod } from "../../../src/admin/router.ts";

function endpoint(method: AdminMethod, path: string): AdminEndpoint {
  return { method, path, scope: "none", takesBody: false, handle: () => jsonAnswer(200, {}) };
}

const router = new AdminRouter([
  endpoint("GET", "/api/v1/status"),
  endpoint("PUT", "/api/v1/routes/{route}/weights"),
  endpoint("DELETE", "/api/v1/routes/{route}/weights"),
  endpoint("POST", "/api/v1/routes/{route}/rollout/{action}"),
]);

describe("AdminRouter", () => {
  it("finds an endpoint by method and path, with decoded parameters", () => {
    const found = router.match("PUT", "/api/v1/routes/web%2Dv2/weights");
    expect(found).toMatchObject({ kind: "found", params: { route: "web-v2" } });
    expect(router.match("POST", "/api/v1/routes/web/rollout/pause")).toMatchObject({
      kind: "found",
      params: { route: "web", action: "pause" },
    });
  });

  it("answers HEAD with the GET endpoint", () => {
    const found = router.match("HEAD", "/api/v1/status");
    expect(found.kind === "found" && found.endpoint.method).toBe("GET");
  });

  it("lists the allowed methods of a known path", () => {
    expect(router.match("GET", "/api/v1/routes/web/weights")).toEqual({
      kind: "wrongMethod",
      allow: ["PUT", "DELETE"],
    });
    expect(router.match("POST", "/api/v1/status")).toEqual({
      kind: "wrongMethod",
      allow: ["GET", "HEAD"],
    });
  });

  it.each([
    "/api/v1/status/",
    "/api/v1",
    "/api/v1/routes//weights",
    "/api/v1/routes/%E0%A4%A/weights",
    "/api/v1/routes/web/weights/extra",
    "api/v1/status",
  ])("does not know %s", (path) => {
    expect(router.match("GET", path)).toEqual({ kind: "notFound" });
  });
});
