/** Micro-benchmarks of the routing hot path: route match, rule match and the upstream pick. */
import { test } from "vitest";
import { configSchema } from "../../src/config/schema.ts";
import { compileRouteTable } from "../../src/routing/route-table.ts";

const config = configSchema.parse({
  upstreams: {
    stable: { endpoints: ["http://127.0.0.1:1"] },
    canary: { endpoints: ["http://127.0.0.1:2"] },
  },
  routes: [
    { name: "admin", match: { hosts: ["admin.example.com"] }, split: { stable: 100 } },
    {
      name: "api",
      match: { hosts: ["*.example.com"], pathPrefix: "/api" },
      split: { stable: 100 },
    },
    {
      name: "web",
      match: { hosts: ["shop.example.com"] },
      split: { stable: 95, canary: 5 },
      rules: [
        { match: { headers: { "x-canary": "always" } }, to: "canary" },
        { match: { cookies: { canary: "never" } }, to: "stable" },
        { match: { query: { preview: "1" } }, to: "canary" },
      ],
    },
    {
      name: "sticky",
      match: { hosts: ["sticky.example.com"] },
      split: { stable: 90, canary: 10 },
      sticky: { cookie: "sy_id" },
    },
  ],
});

const table = compileRouteTable(config);
const web = table.get("web")!;
const sticky = table.get("sticky")!;
const plainRequest = {
  headers: { host: "shop.example.com", accept: "*/*", cookie: "theme=dark; session=abc123" },
  rawQuery: "page=2&sort=price",
};
const canaryRequest = {
  headers: { host: "shop.example.com", accept: "*/*", "x-canary": "always" },
  rawQuery: "",
};
const stickyRequest = {
  headers: { cookie: "theme=dark; sy_id=3f1c2a9e-5b7d-4c1e-9a2b-8d6f0e4c7b1a" },
  rawQuery: "",
};
let sink = "";

test("routing hot path", async ({ bench }) => {
  await bench.compare(
    bench("match route (4 routes, wildcard)", () => {
      sink = table.match("Shop.Example.com:8080", "/products/42")?.name ?? "";
    }),
    bench("pick: 3 rules miss, random split", () => {
      sink = web.pickUpstream(plainRequest, Math.random).upstream;
    }),
    bench("pick: first rule (header) hits", () => {
      sink = web.pickUpstream(canaryRequest, Math.random).upstream;
    }),
    bench("pick: sticky cookie", () => {
      sink = sticky.pickUpstream(stickyRequest, Math.random).upstream;
    }),
    { time: 300 },
  );
  if (sink === "unreachable") throw new Error(sink);
});
