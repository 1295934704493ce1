import { describe, expect, it } from "vitest";
import { maskWebhookUrl, parseWebhookUrl } from "../../../src/rollout/webhook-url.ts";

describe("parseWebhookUrl", () => {
  it("splits origin, path with query, and turns userinfo into Basic credentials", () => {
    const address = parseWebhookUrl("https://deploy%40ops:s%3Acret@hooks.example.com:8443/a/b?x=1");
    expect(address).toEqual({
      origin: "https://hooks.example.com:8443",
      path: "/a/b?x=1",
      authorization: `Basic ${Buffer.from("deploy@ops:s:cret").toString("base64")}`,
      masked: "https://***@hooks.example.com:8443/a/b?***",
    });
  });

  it("has no credentials without userinfo", () => {
    expect(parseWebhookUrl("http://127.0.0.1:9000/hook")?.authorization).toBeUndefined();
  });

  it("refuses what is not an http(s) URL", () => {
    expect(parseWebhookUrl("ftp://example.com/x")).toBeUndefined();
    expect(parseWebhookUrl("not a url")).toBeUndefined();
  });
});

describe("maskWebhookUrl", () => {
  it("keeps origin and plain path segments", () => {
    expect(maskWebhookUrl("https://hooks.example.com/deploys")).toBe(
      "https://hooks.example.com/deploys",
    );
  });

  it("hides userinfo, query, fragment and token-like path segments", () => {
    expect(
      maskWebhookUrl(
        "https://user:pw@hooks.example.com/services/T0001/B0002/abcdEFGH1234ijklMNOP5678?token=s#f",
      ),
    ).toBe("https://***@hooks.example.com/services/T0001/B0002/***?***#***");
    expect(maskWebhookUrl("https://example.com/hook/6f1c2a9e-3b7d-4c1e-9a2f-0d8e7b6c5a41")).toBe(
      "https://example.com/hook/***",
    );
  });

  it("never echoes an unparsable URL", () => {
    expect(maskWebhookUrl("http://user:secret@")).toBe("(invalid URL)");
  });
});
