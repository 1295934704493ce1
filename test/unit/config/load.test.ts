import { createHash } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  configContentOf,
  loadConfigContent,
  loadConfigFile,
  loadConfigText,
} from "../../../src/config/load.ts";
import type { ConfigProblem } from "../../../src/config/load.ts";
import {
  configFixture,
  loadProblems,
  loadValidConfig,
  yamlLines,
} from "../../support/config-fixtures.ts";

/** Lines 1-5 of most cases below: two valid upstreams. */
const TWO_UPSTREAMS = [
  "upstreams:",
  "  stable:",
  "    endpoints: [http://127.0.0.1:9001]",
  "  canary:",
  "    endpoints: [http://127.0.0.1:9002]",
];

type ExpectedProblem = Omit<ConfigProblem, "file" | "message"> & { message: string | RegExp };

interface ProblemCase {
  name: string;
  yaml: string;
  env?: NodeJS.ProcessEnv;
  expected: ExpectedProblem;
}

const problemCases: ProblemCase[] = [
  {
    name: "YAML syntax error",
    yaml: yamlLines(
      "upstreams:",
      "  stable:",
      "    endpoints: [http://127.0.0.1:9001",
      "routes: []",
    ),
    expected: { line: 4, column: 1, path: "routes", message: /must be sufficiently indented/ },
  },
  {
    name: "duplicate key",
    yaml: yamlLines(...TWO_UPSTREAMS, "  stable:", "    endpoints: [http://127.0.0.1:9003]"),
    expected: { line: 6, column: 3, path: "upstreams.stable", message: "map keys must be unique" },
  },
  {
    name: "unknown key, pointed at the key, with a hint",
    yaml: yamlLines(
      "upstreams:",
      "  stable:",
      "    endpoints: [http://127.0.0.1:9001]",
      "    tmeouts: { connect: 2s }",
      "routes:",
      "  - name: web",
      "    split: { stable: 100 }",
    ),
    expected: {
      line: 4,
      column: 5,
      path: "upstreams.stable.tmeouts",
      message: 'unknown key "tmeouts"; did you mean "timeouts"?',
    },
  },
  {
    name: "unknown key with nothing close lists the allowed keys",
    yaml: yamlLines(
      "upstreams:",
      "  stable:",
      "    endpoints: [http://127.0.0.1:9001]",
      "    timeouts: { connect: 2s, zzz: 1s }",
      "routes:",
      "  - name: web",
      "    split: { stable: 100 }",
    ),
    expected: {
      line: 4,
      column: 30,
      path: "upstreams.stable.timeouts.zzz",
      message: 'unknown key "zzz" (allowed: connect, response, idle)',
    },
  },
  {
    name: "wrong type",
    yaml: yamlLines(
      "upstreams:",
      "  stable:",
      "    endpoints: [http://127.0.0.1:9001]",
      "    maxConnections: many",
      "routes:",
      "  - name: web",
      "    split: { stable: 100 }",
    ),
    expected: {
      line: 4,
      column: 21,
      path: "upstreams.stable.maxConnections",
      message: 'expected a number, got "many"',
    },
  },
  {
    name: "missing key, pointed at the parent mapping",
    yaml: yamlLines(
      "upstreams:",
      "  stable:",
      "    maxConnections: 10",
      "routes:",
      "  - name: web",
      "    split: { stable: 100 }",
    ),
    expected: {
      line: 2,
      column: 3,
      path: "upstreams.stable.endpoints",
      message: 'required key "endpoints" is missing',
    },
  },
  {
    name: "bad duration",
    yaml: yamlLines(
      "upstreams:",
      "  stable:",
      "    endpoints: [http://127.0.0.1:9001]",
      "    timeouts: { connect: 2x }",
      "routes:",
      "  - name: web",
      "    split: { stable: 100 }",
    ),
    expected: {
      line: 4,
      column: 26,
      path: "upstreams.stable.timeouts.connect",
      message: '"2x" is not a duration; write it like 250ms, 5s, 1m or 1h',
    },
  },
  {
    name: "duration without a unit",
    yaml: yamlLines(
      "upstreams:",
      "  stable:",
      "    endpoints: [http://127.0.0.1:9001]",
      "    timeouts: { connect: 2 }",
      "routes:",
      "  - name: web",
      "    split: { stable: 100 }",
    ),
    expected: {
      line: 4,
      column: 26,
      path: "upstreams.stable.timeouts.connect",
      message: "2 has no unit; write a duration like 2ms or 2s",
    },
  },
  {
    name: "percentage with three decimals",
    yaml: yamlLines(
      ...TWO_UPSTREAMS,
      "routes:",
      "  - name: web",
      "    split: { stable: 95, canary: 5.001 }",
    ),
    expected: {
      line: 8,
      column: 34,
      path: "routes[0].split.canary",
      message: "5.001 has more than two decimals",
    },
  },
  {
    name: "split not summing to 100",
    yaml: yamlLines(
      ...TWO_UPSTREAMS,
      "routes:",
      "  - name: web",
      "    split: { stable: 90, canary: 5 }",
    ),
    expected: {
      line: 8,
      column: 5,
      path: "routes[0].split",
      message: "weights sum to 95, not 100",
    },
  },
  {
    name: "unknown upstream in a split, pointed at its name",
    yaml: yamlLines(
      ...TWO_UPSTREAMS,
      "routes:",
      "  - name: web",
      "    split: { stable: 95, canry: 5 }",
    ),
    expected: {
      line: 8,
      column: 26,
      path: "routes[0].split.canry",
      message: 'unknown upstream "canry"; did you mean "canary"?',
    },
  },
  {
    name: "unknown upstream in a rule",
    yaml: yamlLines(
      ...TWO_UPSTREAMS,
      "routes:",
      "  - name: web",
      "    split: { stable: 95, canary: 5 }",
      "    rules:",
      "      - { match: { headers: { x-canary: always } }, to: beta }",
    ),
    expected: {
      line: 10,
      column: 57,
      path: "routes[0].rules[0].to",
      message: 'unknown upstream "beta" (defined: stable, canary)',
    },
  },
  {
    name: "regular expression that does not compile",
    yaml: yamlLines(
      ...TWO_UPSTREAMS,
      "routes:",
      "  - name: web",
      "    split: { stable: 95, canary: 5 }",
      "    rules:",
      '      - { match: { headers: { x-canary: "~([" } }, to: canary }',
    ),
    expected: {
      line: 10,
      column: 41,
      path: "routes[0].rules[0].match.headers.x-canary",
      message: '"([" is not a valid regular expression: Unterminated character class',
    },
  },
  {
    name: "missing environment variable",
    yaml: yamlLines(
      "admin:",
      "  tokens:",
      '    - { name: ops, scope: write, token: "${SWITCHYARD_ADMIN_TOKEN}" }',
      "upstreams:",
      "  stable:",
      "    endpoints: [http://127.0.0.1:9001]",
      "routes:",
      "  - name: web",
      "    split: { stable: 100 }",
    ),
    expected: {
      line: 3,
      column: 41,
      path: "admin.tokens[0].token",
      message:
        "environment variable SWITCHYARD_ADMIN_TOKEN is not set (set it, or write ${SWITCHYARD_ADMIN_TOKEN:-default} for a fallback)",
    },
  },
  {
    name: "route defined twice",
    yaml: yamlLines(
      ...TWO_UPSTREAMS,
      "routes:",
      "  - name: web",
      "    split: { stable: 100 }",
      "  - name: web",
      "    split: { canary: 100 }",
    ),
    expected: {
      line: 9,
      column: 11,
      path: "routes[1].name",
      message: 'route "web" is defined twice',
    },
  },
  {
    name: "rollout target not in the split",
    yaml: yamlLines(
      ...TWO_UPSTREAMS,
      "  beta:",
      "    endpoints: [http://127.0.0.1:9003]",
      "routes:",
      "  - name: web",
      "    split: { stable: 95, canary: 5 }",
      "    rollout: { target: beta, baseline: stable }",
    ),
    expected: {
      line: 11,
      column: 24,
      path: "routes[0].rollout.target",
      message: `"beta" is not in this route's split`,
    },
  },
  {
    name: "invalid upstream name, pointed at the key",
    yaml: yamlLines(
      "upstreams:",
      "  stable:",
      "    endpoints: [http://127.0.0.1:9001]",
      "  canary one:",
      "    endpoints: [http://127.0.0.1:9002]",
      "routes:",
      "  - name: web",
      "    split: { stable: 100 }",
    ),
    expected: {
      line: 4,
      column: 3,
      path: 'upstreams["canary one"]',
      message: `key "canary one" must start with a letter or digit and hold only letters, digits, '_', '.', '-'`,
    },
  },
  {
    name: "misspelt enum value",
    yaml: yamlLines(
      ...TWO_UPSTREAMS,
      "routes:",
      "  - name: web",
      "    split: { stable: 95, canary: 5 }",
      "    rollout:",
      "      target: canary",
      "      baseline: stable",
      "      checks: [{ metric: errRate, max: 0.1 }]",
    ),
    expected: {
      line: 12,
      column: 26,
      path: "routes[0].rollout.checks[0].metric",
      message:
        /^must be one of errorRate, availability, .*, got "errRate"; did you mean "errorRate"\?$/,
    },
  },
  {
    name: "approval gate on a step that does not exist",
    yaml: yamlLines(
      ...TWO_UPSTREAMS,
      "routes:",
      "  - name: web",
      "    split: { stable: 95, canary: 5 }",
      "    rollout:",
      "      target: canary",
      "      baseline: stable",
      "      steps: [10, 50, 100]",
      "      approvalBefore: [25]",
    ),
    expected: {
      line: 13,
      column: 24,
      path: "routes[0].rollout.approvalBefore[0]",
      message: "25 is not one of the steps (10, 50, 100)",
    },
  },
  {
    name: "YAML 1.1 booleans are strings",
    yaml: yamlLines(
      "upstreams:",
      "  stable:",
      "    endpoints: [http://127.0.0.1:9001]",
      "routes:",
      "  - name: web",
      "    split: { stable: 100 }",
      "    fallback: yes",
    ),
    expected: {
      line: 7,
      column: 15,
      path: "routes[0].fallback",
      message: 'expected true or false, got "yes"',
    },
  },
  {
    name: "interpolated numbers stay strings",
    yaml: yamlLines(
      "upstreams:",
      "  stable:",
      "    endpoints: [http://127.0.0.1:9001]",
      "    maxConnections: ${MAX_CONNECTIONS}",
      "routes:",
      "  - name: web",
      "    split: { stable: 100 }",
    ),
    env: { MAX_CONNECTIONS: "64" },
    expected: {
      line: 4,
      column: 21,
      path: "upstreams.stable.maxConnections",
      message: 'expected a number, got "64"',
    },
  },
  {
    name: "server.maxConnections of 0",
    yaml: yamlLines(
      "upstreams:",
      "  stable:",
      "    endpoints: [http://127.0.0.1:9001]",
      "routes:",
      "  - name: web",
      "    split: { stable: 100 }",
      "server:",
      "  maxConnections: 0",
    ),
    expected: {
      line: 8,
      column: 19,
      path: "server.maxConnections",
      message: "must be more than 0",
    },
  },
  {
    name: "server.maxConnections that is not a whole number",
    yaml: yamlLines(
      "upstreams:",
      "  stable:",
      "    endpoints: [http://127.0.0.1:9001]",
      "routes:",
      "  - name: web",
      "    split: { stable: 100 }",
      "server: { maxConnections: 1.5 }",
    ),
    expected: {
      line: 7,
      column: 27,
      path: "server.maxConnections",
      message: "expected a whole number, got 1.5",
    },
  },
  {
    name: "empty file",
    yaml: "# nothing but a comment\n",
    expected: {
      line: 1,
      column: 1,
      path: "(root)",
      message: "the file is empty; it needs at least upstreams and routes",
    },
  },
];

describe("loadConfigText problems", () => {
  it.each(problemCases)("$name", ({ yaml, env, expected }) => {
    const problems = loadProblems(yaml, env);
    expect(problems).toHaveLength(1);
    const { message, ...where } = problems[0]!;
    const { message: expectedMessage, ...expectedWhere } = expected;
    expect(where).toEqual({ file: "test.yaml", ...expectedWhere });
    if (typeof expectedMessage === "string") expect(message).toBe(expectedMessage);
    else expect(message).toMatch(expectedMessage);
  });

  it("reports field, cross-reference and environment problems together, in file order", () => {
    const problems = loadProblems(
      yamlLines(
        "admin:",
        '  tokens: [{ name: ops, scope: write, token: "${TOKEN}" }]',
        "upstreams:",
        "  stable:",
        "    endpoints: [http://127.0.0.1:9001]",
        "    breaker: { window: soon }",
        "  canary:",
        "    endpoint: [http://127.0.0.1:9002]",
        "routes:",
        "  - name: web",
        "    split: { stable: 90, canary: 5 }",
        "    rules:",
        "      - { match: { cookies: { c: x } }, to: beta }",
        "  - name: web",
        "    split: { stable: 100.5 }",
      ),
    );
    expect(problems.map((p) => [p.line, p.column, p.path])).toEqual([
      [2, 46, "admin.tokens[0].token"],
      [6, 24, "upstreams.stable.breaker.window"],
      [7, 3, "upstreams.canary.endpoints"],
      [8, 5, "upstreams.canary.endpoint"],
      [11, 5, "routes[0].split"],
      [13, 45, "routes[0].rules[0].to"],
      [14, 11, "routes[1].name"],
      [15, 22, "routes[1].split.stable"],
    ]);
    expect(problems.map((p) => p.message)).toEqual([
      "environment variable TOKEN is not set (set it, or write ${TOKEN:-default} for a fallback)",
      '"soon" is not a duration; write it like 250ms, 5s, 1m or 1h',
      'required key "endpoints" is missing',
      'unknown key "endpoint"; did you mean "endpoints"?',
      "weights sum to 95, not 100",
      'unknown upstream "beta" (defined: stable, canary)',
      'route "web" is defined twice',
      "must be at most 100",
    ]);
  });

  it("does not pile a field error on a value whose variable is missing", () => {
    const problems = loadProblems(
      yamlLines(
        "upstreams:",
        '  stable: { endpoints: ["${BACKEND}"] }',
        "routes:",
        "  - name: web",
        "    split: { stable: 100 }",
      ),
    );
    expect(problems.map((p) => p.path)).toEqual(["upstreams.stable.endpoints[0]"]);
    expect(problems[0]?.message).toMatch(/^environment variable BACKEND is not set/);
  });

  it("suggests quoting ${...} inside a flow collection", () => {
    const problems = loadProblems(
      yamlLines(
        "upstreams:",
        "  stable: { endpoints: [http://127.0.0.1:9001], timeouts: { connect: ${T} } }",
        "routes: [{ name: web, split: { stable: 100 } }]",
      ),
      { T: "2s" },
    );
    expect(problems[0]?.message).toMatch(/quote a value that uses \$\{\.\.\.\}/);
    expect(problems[0]?.line).toBe(2);
  });

  it("places a syntax error after a line break the YAML lexer swallowed on its real line", () => {
    // The lexer reads `${X}listen\n0` as one broken token, so yaml's own line count misses the
    // line break and used to report the unclosed map at 1:14, past the end of line 1.
    const problems = loadProblems("{${X}listen\n0");
    expect(problems.at(-1)).toMatchObject({
      line: 2,
      column: 2,
      message: "flow map must end with a }",
    });
  });

  it("refuses a second YAML document", () => {
    const problems = loadProblems(yamlLines("upstreams: {}", "---", "routes: []"));
    expect(problems[0]).toMatchObject({ line: 2, column: 1 });
    expect(problems[0]?.message).toMatch(/multiple documents/);
  });
});

describe("loadConfigText on a valid config", () => {
  const text = yamlLines(
    ...TWO_UPSTREAMS,
    "    healthCheck: { path: /ready }",
    "routes:",
    "  - name: web",
    "    split: { stable: 99.99, canary: 0.01 }",
    "    rollout: { target: canary, baseline: stable, interval: 90s }",
  );

  it("applies the defaults and normalises units", () => {
    const config = loadValidConfig(text);
    expect(config.listen).toEqual({
      proxy: { host: "0.0.0.0", port: 8080 },
      admin: { host: "127.0.0.1", port: 9901 },
    });
    expect(config.admin).toEqual({ tokens: [], publicMetrics: true, allowedHosts: [] });
    expect(config.state).toBeUndefined();
    expect(config.forwarded).toEqual({ trust: false });
    expect(config.server).toEqual({
      headersTimeout: 10_000,
      requestTimeout: 300_000,
      keepAliveTimeout: 65_000,
      maxHeaderSize: 16_384,
      drainDelay: 5000,
      drainTimeout: 30_000,
      maxConnections: 10_000,
    });
    expect(config.upstreams["stable"]).toEqual({
      endpoints: ["http://127.0.0.1:9001"],
      outlierDetection: {
        consecutiveFailures: 5,
        baseEjectionTime: 30_000,
        maxEjectionPercent: 50,
      },
      breaker: {
        errorThresholdPercentage: 50,
        volumeThreshold: 20,
        window: 10_000,
        resetTimeout: 30_000,
      },
      timeouts: { connect: 2000, response: 30_000, idle: 60_000 },
      maxConnections: 256,
    });
    expect(config.upstreams["canary"]?.healthCheck).toEqual({
      path: "/ready",
      interval: 5000,
      timeout: 1000,
      healthyThreshold: 2,
      unhealthyThreshold: 3,
      expectStatus: [{ from: 200, to: 299 }],
    });
    const [route] = config.routes;
    expect(route).toMatchObject({
      name: "web",
      match: { pathPrefix: "/" },
      split: { stable: 9999, canary: 1 },
      rules: [],
      fallback: true,
      retries: { attempts: 1, methods: ["GET", "HEAD", "OPTIONS"], budgetPercent: 20 },
    });
    expect(route?.sticky).toBeUndefined();
    expect(route?.rollout).toEqual({
      target: "canary",
      baseline: "stable",
      steps: [5, 10, 25, 50, 100],
      interval: 90_000,
      minRequests: 200,
      failureLimit: 2,
      checks: [
        { metric: "errorRate", max: 0.05, action: "rollback" },
        { metric: "latencyP95Ratio", max: 2, action: "hold" },
        { metric: "availability", min: 0.95, window: 120_000, action: "rollback" },
      ],
      approvalBefore: [100],
      webhooks: [],
    });
  });

  it("freezes the whole config", () => {
    const config = loadValidConfig(text);
    const route = config.routes[0]!;
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.routes)).toBe(true);
    expect(Object.isFrozen(route.split)).toBe(true);
    expect(Object.isFrozen(route.rollout?.checks[0])).toBe(true);
    expect(Object.isFrozen(config.upstreams["stable"]?.endpoints)).toBe(true);
    expect(Reflect.set(route.split, "canary", 5000)).toBe(false);
    expect(() => {
      config.routes.push(route);
    }).toThrow(TypeError);
    expect(route.split["canary"]).toBe(1);
  });

  it("returns the text and the sha256 of its bytes", () => {
    const result = loadConfigText(text, "x.yaml", {});
    expect(result).toMatchObject({
      ok: true,
      text,
      hash: createHash("sha256").update(text, "utf8").digest("hex"),
    });
  });

  it("accepts sticky by header and YAML anchors", () => {
    const config = loadValidConfig(
      yamlLines(
        "upstreams:",
        "  stable: { endpoints: [http://127.0.0.1:9001], timeouts: &fast { connect: 1s } }",
        "  canary: { endpoints: [http://127.0.0.1:9002], timeouts: *fast }",
        "routes:",
        "  - { name: web, split: { stable: 50, canary: 50 }, sticky: { header: x-user-id } }",
      ),
    );
    expect(config.routes[0]?.sticky).toEqual({ header: "x-user-id" });
    expect(config.upstreams["canary"]?.timeouts.connect).toBe(1000);
  });

  it("refuses sticky with both a cookie and a header", () => {
    const problems = loadProblems(
      yamlLines(
        "upstreams: { stable: { endpoints: [http://127.0.0.1:9001] } }",
        "routes:",
        "  - name: web",
        "    split: { stable: 100 }",
        "    sticky: { cookie: sy_id, header: x-user-id }",
      ),
    );
    expect(problems).toMatchObject([
      {
        line: 5,
        column: 5,
        path: "routes[0].sticky",
        message: "sticky needs exactly one of cookie or header",
      },
    ]);
  });
});

describe("loadConfigFile", () => {
  it("loads a file and hashes its raw bytes", async () => {
    const path = configFixture("minimal.yaml");
    const result = await loadConfigFile(path, {});
    const bytes = await readFile(path);
    expect(result).toMatchObject({
      ok: true,
      text: bytes.toString("utf8"),
      hash: createHash("sha256").update(bytes).digest("hex"),
    });
  });

  it.each([
    [
      "a missing file",
      "does-not-exist.yaml",
      "cannot read the file: no such file (check the path)",
    ],
    ["a directory", "", "cannot read the file: it is a directory, not a file"],
  ])("turns %s into one problem at 0:0", async (_what, name, message) => {
    const path = configFixture(name);
    expect(await loadConfigFile(path, {})).toEqual({
      ok: false,
      problems: [{ file: path, line: 0, column: 0, path: "(file)", message }],
    });
  });

  it("refuses bytes that are not UTF-8, and hashes the raw bytes of a file with a BOM", async () => {
    const dir = await mkdtemp(join(tmpdir(), "switchyard-config-"));
    try {
      const latin1 = join(dir, "latin1.yaml");
      const latin1Bytes = Buffer.from([0x61, 0x3a, 0x20, 0xe9, 0x0a]);
      await writeFile(latin1, latin1Bytes);
      expect(await loadConfigFile(latin1, {})).toEqual({
        ok: false,
        // The refused content's hash: a watcher seeing the same bytes again is no new failure.
        hash: createHash("sha256").update(latin1Bytes).digest("hex"),
        problems: [
          {
            file: latin1,
            line: 0,
            column: 0,
            path: "(file)",
            message: "the file is not valid UTF-8 text",
          },
        ],
      });
      const withBom = join(dir, "bom.yaml");
      const bytes = Buffer.concat([
        Buffer.from([0xef, 0xbb, 0xbf]),
        await readFile(configFixture("minimal.yaml")),
      ]);
      await writeFile(withBom, bytes);
      expect(await loadConfigFile(withBom, {})).toMatchObject({
        ok: true,
        hash: createHash("sha256").update(bytes).digest("hex"),
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("gives the same result for content already read as for reading the file", async () => {
    const dir = await mkdtemp(join(tmpdir(), "switchyard-config-"));
    try {
      const cases = [
        Buffer.concat([
          Buffer.from([0xef, 0xbb, 0xbf]),
          await readFile(configFixture("minimal.yaml")),
        ]),
        Buffer.from("upstreams: {\n"),
        Buffer.from([0x61, 0x3a, 0x20, 0xe9, 0x0a]),
      ];
      for (const [index, bytes] of cases.entries()) {
        const file = join(dir, `${String(index)}.yaml`);
        await writeFile(file, bytes);
        expect(loadConfigContent(configContentOf(bytes), file, {})).toEqual(
          await loadConfigFile(file, {}),
        );
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("reports the problems of a file with the file's name", async () => {
    const path = configFixture("many-problems.yaml");
    const result = await loadConfigFile(path, {});
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.problems.map((p) => `${p.line}:${p.column} ${p.path}`)).toEqual([
      "5:5 upstreams.stable.tmeouts",
      "8:24 upstreams.canary.breaker.window",
      "11:5 routes[0].split",
      "13:57 routes[0].rules[0].to",
    ]);
    expect(result.problems.every((p) => p.file === path)).toBe(true);
  });

  it("validates config/switchyard.yaml with no environment set", async () => {
    const path = fileURLToRepo("config/switchyard.yaml");
    const result = await loadConfigFile(path, {});
    if (!result.ok) expect(result.problems).toEqual([]);
    expect(result.ok).toBe(true);
  });

  it("uses the environment in config/switchyard.yaml", async () => {
    const token = "a-real-secret-from-the-environment";
    const result = await loadConfigFile(fileURLToRepo("config/switchyard.yaml"), {
      SWITCHYARD_ADMIN_TOKEN: token,
    });
    expect(result.ok && result.config.admin.tokens[0]?.token).toBe(token);
  });
});

function fileURLToRepo(relative: string): string {
  return new URL(`../../../${relative}`, import.meta.url).pathname;
}
