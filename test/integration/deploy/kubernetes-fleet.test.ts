/**
 * deploy/kubernetes/fleet/ beyond what kubernetes.test.ts checks of every variant: the fleet
 * block and where its values come from, three replicas, the Redis the replicas share and the
 * Service in front of it, the admin Service for the CLI, and that the files copied from the
 * base differ from it only where fleet mode needs it.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { AllowedHosts, parseHostHeader } from "../../../src/admin/admin-hosts.ts";
import {
  BASE_ENV,
  containerPort,
  FLEET_DIR,
  FLEET_ENV,
  K8S_DIR,
  loadConfig,
  loadVariant,
  named,
  REDIS_URL,
  selects,
  type Container,
  type Deployment,
  type Service,
  type Variant,
} from "./kubernetes-manifests.ts";

const REDIS_SECRET = "switchyard-redis";

let fleet: Variant;
let base: Variant;
let redis: Deployment;
let redisContainer: Container;

/** The Secret key a container's variable comes from. */
function secretOf(container: Container, name: string): { name: string; key: string } | undefined {
  return container.env?.find((e) => e.name === name)?.valueFrom?.secretKeyRef;
}

/** Every label selector of switchyard's own manifests: its pods' labels must match each. */
function switchyardSelectors(): Record<string, string>[] {
  const services = fleet.manifests
    .filter((m): m is Service => m.kind === "Service" && m.metadata.name !== "redis")
    .map((s) => s.spec.selector);
  const spread = fleet.deployment.spec.template.spec.topologySpreadConstraints ?? [];
  return [
    fleet.deployment.spec.selector.matchLabels,
    fleet.pdb.spec.selector.matchLabels,
    ...services,
    ...spread.map((c) => c.labelSelector?.matchLabels ?? {}),
  ];
}

beforeAll(async () => {
  fleet = await loadVariant(FLEET_DIR, FLEET_ENV);
  base = await loadVariant(K8S_DIR, BASE_ENV);
  redis = named(fleet.manifests, "Deployment", "redis") as Deployment;
  expect(redis.spec.template.spec.containers).toHaveLength(1);
  redisContainer = redis.spec.template.spec.containers[0]!;
});

describe("deploy/kubernetes/fleet", () => {
  it("runs three replicas of switchyard, spread over nodes", () => {
    expect(fleet.deployment.spec.replicas).toBe(3);
    const spread = fleet.deployment.spec.template.spec.topologySpreadConstraints ?? [];
    expect(spread.map((c) => c.topologyKey)).toEqual(["kubernetes.io/hostname"]);
    // Its selector is checked with the others in "keeps switchyard's pods and Redis's apart".
  });

  it("configures one fleet, with the pod's HOSTNAME as the replica's id", () => {
    expect(fleet.config.fleet).toEqual({
      redis: REDIS_URL,
      name: "shop",
      replica: "pod-a",
      leaseTtl: 10_000,
      syncTimeout: 10_000,
    });
    // Another pod: another replica id, the same fleet and Redis.
    const other = loadConfig(fleet.configText, { ...FLEET_ENV, HOSTNAME: "pod-b" });
    expect(other.fleet?.replica).toBe("pod-b");
    expect(other.fleet?.name).toBe(fleet.config.fleet?.name);
    expect(other.fleet?.redis).toBe(fleet.config.fleet?.redis);
  });

  it("takes the Redis URL from the Secret through SWITCHYARD_REDIS_URL", () => {
    expect(secretOf(fleet.container, "SWITCHYARD_REDIS_URL")).toEqual({
      name: REDIS_SECRET,
      key: "url",
    });
    const elsewhere = "rediss://:other@redis.example:6380/2";
    const config = loadConfig(fleet.configText, { ...FLEET_ENV, SWITCHYARD_REDIS_URL: elsewhere });
    expect(config.fleet?.redis).toBe(elsewhere);
  });

  it("has one Redis, behind the Service that the URL names, on the URL's port", () => {
    const url = new URL(REDIS_URL);
    const service = named(fleet.manifests, "Service", url.hostname) as Service;
    expect(redis.spec.replicas).toBe(1);
    // Never two at once: a rolling update would split the fleet's state between two Redis.
    expect(redis.spec.strategy?.type).toBe("Recreate");
    const labels = redis.spec.template.metadata.labels;
    expect(selects(redis.spec.selector.matchLabels, labels)).toBe(true);
    expect(selects(service.spec.selector, labels)).toBe(true);
    expect(service.spec.ports).toHaveLength(1);
    const port = service.spec.ports[0]!;
    expect(port.port).toBe(Number(url.port));
    expect(port.port).toBe(6379);
    expect(containerPort(redisContainer, port.targetPort)).toBe(6379);
  });

  it("runs Redis with a password from the Secret and an append-only file on a volume", () => {
    expect(redisContainer.image).toMatch(/^redis:7(\.\d+)*$/);
    const args = redisContainer.args ?? [];
    expect(args.slice(args.indexOf("--appendonly"), args.indexOf("--appendonly") + 2)).toEqual([
      "--appendonly",
      "yes",
    ]);
    const password = /^\$\(([A-Z_]+)\)$/.exec(args[args.indexOf("--requirepass") + 1] ?? "");
    expect(password).not.toBeNull();
    expect(secretOf(redisContainer, password?.[1] ?? "")).toEqual({
      name: REDIS_SECRET,
      key: "password",
    });
    const data = redisContainer.volumeMounts?.find((m) => m.mountPath === "/data");
    const volume = redis.spec.template.spec.volumes?.find((v) => v.name === data?.name);
    expect(volume?.emptyDir).toBeDefined();
    expect(redis.spec.template.spec.securityContext?.runAsNonRoot).toBe(true);
    expect(redisContainer.securityContext?.readOnlyRootFilesystem).toBe(true);
    expect(redisContainer.securityContext?.allowPrivilegeEscalation).toBe(false);
  });

  it("keeps switchyard's pods and Redis's apart", () => {
    const switchyardPods = fleet.deployment.spec.template.metadata.labels;
    const redisPods = redis.spec.template.metadata.labels;
    for (const selector of switchyardSelectors()) {
      expect(selects(selector, switchyardPods), JSON.stringify(selector)).toBe(true);
      expect(selects(selector, redisPods), JSON.stringify(selector)).toBe(false);
    }
    const redisService = named(fleet.manifests, "Service", "redis") as Service;
    for (const selector of [redis.spec.selector.matchLabels, redisService.spec.selector]) {
      expect(selects(selector, switchyardPods), JSON.stringify(selector)).toBe(false);
    }
  });

  it("has a ClusterIP admin Service whose name the admin API answers to", () => {
    const admin = named(fleet.manifests, "Service", "switchyard-admin") as Service;
    expect(admin.spec.type ?? "ClusterIP").toBe("ClusterIP");
    expect(admin.spec.ports).toHaveLength(1);
    const port = admin.spec.ports[0]!;
    expect(containerPort(fleet.container, port.targetPort)).toBe(fleet.config.listen.admin.port);
    // `switchyard status --admin http://switchyard-admin:9901` sends that Host header.
    const host = parseHostHeader(`${admin.metadata.name}:${port.port}`);
    expect(host).toBeDefined();
    expect(new AllowedHosts(fleet.config.admin.allowedHosts).accepts(host!)).toBe(true);
    expect(new AllowedHosts(base.config.admin.allowedHosts).accepts(host!)).toBe(false);
  });

  it("differs from the base only where fleet mode needs it", () => {
    // Deployment: the replica count, the spread over nodes, the Redis URL.
    const { replicas: _replicas, template, ...spec } = fleet.deployment.spec;
    const { replicas: _baseReplicas, template: baseTemplate, ...baseSpec } = base.deployment.spec;
    expect(fleet.deployment.metadata).toEqual(base.deployment.metadata);
    expect(spec).toEqual(baseSpec);
    expect(template.metadata).toEqual(baseTemplate.metadata);
    const { containers: _c, topologySpreadConstraints: _t, ...pod } = template.spec;
    const { containers: _bc, ...basePod } = baseTemplate.spec;
    expect(pod).toEqual(basePod);
    const { env, ...container } = fleet.container;
    const { env: baseEnv, ...baseContainer } = base.container;
    expect(container).toEqual(baseContainer);
    expect(env?.filter((e) => e.name !== "SWITCHYARD_REDIS_URL")).toEqual(baseEnv);
    // The proxy's Service is the base's; the budget keeps all replicas but one.
    expect(fleet.service).toEqual(base.service);
    expect({ ...fleet.pdb, spec: { ...fleet.pdb.spec, minAvailable: 0 } }).toEqual({
      ...base.pdb,
      spec: { ...base.pdb.spec, minAvailable: 0 },
    });
    // The config: the fleet block and the admin Service's name.
    expect(fleet.configMap.metadata).toEqual(base.configMap.metadata);
    const admin = { ...fleet.config.admin, allowedHosts: base.config.admin.allowedHosts };
    expect({ ...fleet.config, fleet: undefined, admin }).toEqual(base.config);
  });
});
