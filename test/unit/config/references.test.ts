import { describe, expect, it } from "vitest";
import {
  findReferenceIssues,
  readBasisPointWeight,
  readPercentWeight,
} from "../../../src/config/references.ts";
import { configSchema } from "../../../src/config/schema.ts";

const upstreams = {
  stable: { endpoints: ["http://127.0.0.1:9001"] },
  canary: { endpoints: ["http://127.0.0.1:9002"] },
};

describe("findReferenceIssues on the file as written", () => {
  it("finds every cross-reference problem of every route", () => {
    const issues = findReferenceIssues(
      {
        upstreams,
        routes: [
          {
            name: "web",
            split: { stable: 60, canary: 30, beta: 5 },
            rules: [{ match: {}, to: "gamma" }],
            rollout: { target: "beta2", baseline: "beta2" },
          },
          { name: "web", split: { stable: 100 } },
        ],
      },
      readPercentWeight,
    );
    expect(issues).toEqual([
      {
        path: ["routes", 0, "split", "beta"],
        message: 'unknown upstream "beta" (defined: stable, canary)',
        isAtKey: true,
      },
      { path: ["routes", 0, "split"], message: "weights sum to 95, not 100" },
      {
        path: ["routes", 0, "rules", 0, "to"],
        message: 'unknown upstream "gamma" (defined: stable, canary)',
      },
      { path: ["routes", 0, "rollout", "target"], message: `"beta2" is not in this route's split` },
      {
        path: ["routes", 0, "rollout", "baseline"],
        message: `"beta2" is not in this route's split`,
      },
      { path: ["routes", 0, "rollout", "baseline"], message: "target and baseline must differ" },
      {
        path: ["routes", 0, "split"],
        message: "a rollout needs a split of exactly its target and baseline",
      },
      { path: ["routes", 1, "name"], message: 'route "web" is defined twice' },
    ]);
  });

  it("adds two-decimal percentages exactly", () => {
    const route = { name: "web", split: { stable: 33.33, canary: 66.67 } };
    expect(findReferenceIssues({ upstreams, routes: [route] }, readPercentWeight)).toEqual([]);
  });

  it("skips the sum when a weight is itself invalid", () => {
    for (const bad of [5.001, 150, -1, "5"]) {
      const route = { name: "web", split: { stable: 95, canary: bad } };
      expect(findReferenceIssues({ upstreams, routes: [route] }, readPercentWeight)).toEqual([]);
    }
  });

  it("does not call every upstream unknown when the upstreams block is broken", () => {
    const routes = [{ name: "web", split: { stable: 100 }, rules: [{ to: "canary" }] }];
    expect(findReferenceIssues({ upstreams: "oops", routes }, readPercentWeight)).toEqual([]);
  });

  it("survives any shape", () => {
    for (const input of [null, 3, [], { routes: "x" }, { routes: [null, 1, { split: [] }] }]) {
      expect(findReferenceIssues(input, readPercentWeight)).toEqual([]);
    }
  });
});

describe("configSchema cross-references", () => {
  it("reads parsed weights as basis points", () => {
    const parsed = configSchema.safeParse({
      upstreams,
      routes: [{ name: "web", split: { stable: 90, canary: 5 } }],
    });
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues.map((i) => i.message)).toEqual(["weights sum to 95, not 100"]);
    expect(readBasisPointWeight(9500)).toBe(9500);
  });

  it("does not add a weight the field check rejected to the sum", () => {
    // 150 is a percentage the field check refused, not 150 basis points: no sum of 51.5.
    const parsed = configSchema.safeParse({
      upstreams,
      routes: [{ name: "web", split: { stable: 150, canary: 50 } }],
    });
    expect(parsed.error?.issues.map((i) => i.message)).toEqual([
      "Too big: expected number to be <=100",
    ]);
  });
});
