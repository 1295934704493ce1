/**
 * `npm run bench`: the direct backend and switchyard driven by autocannon in alternating rounds
 * within one run, so the ratio compares like with like. Prints req/s and latency medians.
 *
 *   npm run bench -- --rounds 3 --duration 5 --connections 50
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import autocannon from "autocannon";

interface RoundResult {
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
}

const { values } = parseArgs({
  options: {
    rounds: { type: "string", default: "3" },
    duration: { type: "string", default: "5" },
    connections: { type: "string", default: "50" },
  },
});
const rounds = Number(values.rounds);
const durationSeconds = Number(values.duration);
const connections = Number(values.connections);

const children: ChildProcess[] = [];

async function main(): Promise<void> {
  const backendPort = await startChild(["bench/backend.ts", "0"], /^(\d+)$/m);
  const proxyPort = 18080 + Math.floor(Math.random() * 1000);
  const dir = mkdtempSync(join(tmpdir(), "switchyard-bench-"));
  const configFile = join(dir, "bench.yaml");
  writeFileSync(
    configFile,
    [
      "listen: { proxy: 127.0.0.1:" + String(proxyPort) + ", admin: 127.0.0.1:0 }",
      "upstreams:",
      `  stable: { endpoints: [http://127.0.0.1:${backendPort}] }`,
      `  canary: { endpoints: [http://127.0.0.1:${backendPort}] }`,
      "routes:",
      "  - name: web",
      "    split: { stable: 90, canary: 10 }",
      "    rules: [{ match: { headers: { x-canary: always } }, to: canary }]",
      "",
    ].join("\n"),
  );
  await startChild(["src/cli/main.ts", "serve", "--config", configFile], /proxy listening/, {
    SWITCHYARD_LOG_LEVEL: "info",
  });

  const targets = [
    { name: "direct backend", url: `http://127.0.0.1:${backendPort}/` },
    { name: "switchyard", url: `http://127.0.0.1:${proxyPort}/` },
  ];
  const results = new Map<string, RoundResult[]>(targets.map((t) => [t.name, []]));
  for (const target of targets) await measure(target.url, 1); // warm-up
  for (let round = 1; round <= rounds; round++) {
    for (const target of targets) {
      const result = await measure(target.url, durationSeconds);
      results.get(target.name)?.push(result);
      process.stderr.write(
        `round ${round} ${target.name}: ${result.requestsPerSecond.toFixed(0)} req/s\n`,
      );
    }
  }
  const direct = median((results.get("direct backend") ?? []).map((r) => r.requestsPerSecond));
  process.stdout.write(
    `\n${connections} connections, ${durationSeconds}s x ${rounds} rounds, medians\n\n`,
  );
  process.stdout.write("| target | req/s | p50 ms | p99 ms | errors | ratio to direct |\n");
  process.stdout.write("|---|---:|---:|---:|---:|---:|\n");
  for (const [name, list] of results) {
    const rps = median(list.map((r) => r.requestsPerSecond));
    process.stdout.write(
      `| ${name} | ${rps.toFixed(0)} | ${median(list.map((r) => r.p50Ms)).toFixed(2)} | ` +
        `${median(list.map((r) => r.p99Ms)).toFixed(2)} | ${list.reduce((s, r) => s + r.errors, 0)} | ` +
        `${(rps / direct).toFixed(3)} |\n`,
    );
  }
}

function measure(url: string, seconds: number): Promise<RoundResult> {
  return new Promise((resolve, reject) => {
    autocannon({ url, connections, duration: seconds, pipelining: 1 }, (error, result) => {
      if (error !== null && error !== undefined) {
        reject(error instanceof Error ? error : new Error(String(error)));
        return;
      }
      resolve({
        requestsPerSecond: result.requests.average,
        p50Ms: result.latency.p50,
        p99Ms: result.latency.p99,
        errors: result.errors + result.non2xx,
      });
    });
  });
}

function startChild(
  args: string[],
  ready: RegExp,
  env: Record<string, string> = {},
): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, {
      stdio: ["ignore", "pipe", "inherit"],
      env: { ...process.env, ...env },
    });
    children.push(child);
    let seen = "";
    child.stdout.on("data", (chunk: Buffer) => {
      seen += chunk.toString();
      const found = ready.exec(seen);
      if (found) resolve(found[1] ?? "");
    });
    child.once("exit", (code) => {
      reject(new Error(`${args.join(" ")} exited with ${String(code)}`));
    });
  });
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[mid] ?? 0)
    : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

main()
  .catch((error: unknown) => {
    process.stderr.write(`bench: ${String(error)}\n`);
    process.exitCode = 1;
  })
  .finally(() => {
    for (const child of children) child.kill("SIGTERM");
  });
