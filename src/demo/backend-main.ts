/**
 * Runs one demo backend as a process of its own, e.g. for benchmarks that keep the backends
 * out of the proxy's process:
 *
 *   node src/demo/backend-main.ts --name v2 --version 2.0.0 --port 9002 \
 *     --error-rate 0.1 --latency-ms 50 --latency-jitter-ms 20
 *
 * Prints one line with its URL once listening; SIGTERM or SIGINT stop it.
 */
import { parseArgs } from "node:util";
import { startDemoBackend, type DemoBackendOptions } from "./backend.ts";

const USAGE =
  "usage: backend-main.ts --name NAME --version VERSION [--port N] [--host H] " +
  "[--error-rate 0..1] [--latency-ms N] [--latency-jitter-ms N]";

function parseNumber(flag: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (text.trim() === "" || !Number.isFinite(value)) {
    throw new TypeError(`--${flag} must be a number, got "${text}"`);
  }
  return value;
}

function parseOptions(args: string[]): DemoBackendOptions {
  const { values } = parseArgs({
    args,
    strict: true,
    options: {
      name: { type: "string" },
      version: { type: "string" },
      port: { type: "string" },
      host: { type: "string" },
      "error-rate": { type: "string" },
      "latency-ms": { type: "string" },
      "latency-jitter-ms": { type: "string" },
    },
  });
  if (values.name === undefined || values.version === undefined) {
    throw new TypeError("--name and --version are required");
  }
  const options: DemoBackendOptions = { name: values.name, version: values.version };
  const port = parseNumber("port", values.port);
  const errorRate = parseNumber("error-rate", values["error-rate"]);
  const latencyMs = parseNumber("latency-ms", values["latency-ms"]);
  const latencyJitterMs = parseNumber("latency-jitter-ms", values["latency-jitter-ms"]);
  if (port !== undefined) options.port = port;
  if (values.host !== undefined) options.host = values.host;
  if (errorRate !== undefined) options.errorRate = errorRate;
  if (latencyMs !== undefined) options.latencyMs = latencyMs;
  if (latencyJitterMs !== undefined) options.latencyJitterMs = latencyJitterMs;
  return options;
}

async function main(): Promise<void> {
  let options: DemoBackendOptions;
  try {
    options = parseOptions(process.argv.slice(2));
  } catch (error) {
    console.error(`${error instanceof Error ? error.message : String(error)}\n${USAGE}`);
    process.exitCode = 2;
    return;
  }
  const backend = await startDemoBackend(options).catch((error: unknown) => {
    const code = (error as NodeJS.ErrnoException).code;
    const reason =
      code === "EADDRINUSE"
        ? `port ${options.port ?? 0} is already in use; pick another with --port`
        : error instanceof Error
          ? error.message
          : String(error);
    console.error(`demo backend ${options.name} could not start: ${reason}`);
    // An out-of-range option is a usage error, anything else a failure to start.
    process.exitCode = error instanceof RangeError ? 2 : 1;
    return undefined;
  });
  if (backend === undefined) return;
  console.log(`demo backend ${options.name} (${options.version}) listening on ${backend.url}`);
  const stop = (): void => {
    void backend.close();
  };
  process.once("SIGTERM", stop);
  process.once("SIGINT", stop);
}

await main();
