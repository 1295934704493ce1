/** The demo's traffic: a few kinds of request, each counted by the version that served it. */
import { Agent, request } from "undici";

export interface TrafficKind {
  label: string;
  headers: Record<string, string>;
  query: string;
}

export const TRAFFIC_KINDS: readonly TrafficKind[] = [
  { label: "split (no rule matches)", headers: {}, query: "" },
  { label: "rule: header x-canary=always", headers: { "x-canary": "always" }, query: "" },
  { label: "rule: cookie canary=never", headers: { cookie: "canary=never" }, query: "" },
  { label: "rule: query preview=1", headers: {}, query: "?preview=1" },
];

/** kind label -> version ("v1", "v2", "error NNN" or `NETWORK_ERROR`) -> count */
export type ServedCounts = Map<string, Map<string, number>>;

/** Counted when no HTTP answer came back at all (refused, reset, timed out). */
export const NETWORK_ERROR = "network error";

/** Sends `requestsPerKind` of each kind, spread evenly over `proxyUrls` (the fleet's replicas). */
export async function runDemoTraffic(
  proxyUrls: readonly string[],
  requestsPerKind: number,
  concurrency = 16,
): Promise<ServedCounts> {
  const dispatcher = new Agent({ connections: concurrency });
  const served: ServedCounts = new Map();
  try {
    for (const kind of TRAFFIC_KINDS) {
      const counts = new Map<string, number>();
      served.set(kind.label, counts);
      let next = 0;
      const worker = async (index: number): Promise<void> => {
        const url = `${proxyUrls[index % proxyUrls.length] ?? ""}/demo${kind.query}`;
        while (next < requestsPerKind) {
          next++;
          const version = await servedBy(dispatcher, url, kind.headers);
          counts.set(version, (counts.get(version) ?? 0) + 1);
        }
      };
      await Promise.all(Array.from({ length: concurrency }, (_, index) => worker(index)));
    }
  } finally {
    await dispatcher.close();
  }
  return served;
}

async function servedBy(
  dispatcher: Agent,
  url: string,
  headers: Record<string, string>,
): Promise<string> {
  let statusCode: number;
  let text: string;
  try {
    const response = await request(url, { dispatcher, headers });
    statusCode = response.statusCode;
    text = await response.body.text();
  } catch {
    return NETWORK_ERROR;
  }
  if (statusCode >= 400) return `error ${statusCode}`;
  try {
    const body = JSON.parse(text) as { version?: unknown };
    return typeof body.version === "string" ? body.version : "unknown";
  } catch {
    return "unknown";
  }
}
