/**
 * deploy/kubernetes, offline: both overlays rendered (test/helpers/kustomize.ts; checked against the real
 * kustomize when a binary is on PATH) and every object validated — Kubernetes kinds against the API's OpenAPI
 * schemas shipped by kubernetes-models, HTTPRoute against @kubernetes-models/gateway-api, InferencePool against
 * deploy/kubernetes/schemas (ajv) — then checked for what ties them together: the probes and ports the runner
 * serves, the drain inside the grace period, the secrets it reads, the pool's selector, the HPA's metric from the
 * prometheus-adapter rule, and an endpoint-picker config whose metric names the runner exposes.
 */
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Ajv } from "ajv";
import { HTTPRoute } from "@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1";
import { ConfigMap, Service, ServiceAccount } from "kubernetes-models/v1";
import { Deployment } from "kubernetes-models/apps/v1";
import { HorizontalPodAutoscaler } from "kubernetes-models/autoscaling/v2";
import { PodDisruptionBudget } from "kubernetes-models/policy/v1";
import { Role, RoleBinding } from "kubernetes-models/rbac.authorization.k8s.io/v1";
import { parse } from "yaml";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../gpu-runner/config.js";
import { byIdentity, kustomize, readYamlDocuments, type Manifest } from "./helpers/kustomize.js";
import { tmp } from "./helpers/runner-fixtures.js";
import { ROOT } from "./helpers/runner-process.js";

const DIR = join(ROOT, "deploy/kubernetes");
const OVERLAYS = ["cpu", "gpu"] as const;
const rendered = Object.fromEntries(OVERLAYS.map((o) => [o, kustomize(join(DIR, "overlays", o))])) as Record<(typeof OVERLAYS)[number], Manifest[]>;

const inferencePool = new Ajv({ allErrors: true }).compile(JSON.parse(readFileSync(join(DIR, "schemas/inferencepool-v1.schema.json"), "utf8")));
const MODELS: Record<string, { validate(): void } & (new (data: object) => { validate(): void })> = {
  "v1/ConfigMap": ConfigMap,
  "v1/Service": Service,
  "v1/ServiceAccount": ServiceAccount,
  "apps/v1/Deployment": Deployment,
  "autoscaling/v2/HorizontalPodAutoscaler": HorizontalPodAutoscaler,
  "policy/v1/PodDisruptionBudget": PodDisruptionBudget,
  "rbac.authorization.k8s.io/v1/Role": Role,
  "rbac.authorization.k8s.io/v1/RoleBinding": RoleBinding,
  "gateway.networking.k8s.io/v1/HTTPRoute": HTTPRoute,
} as never;

/** Schema errors of one object ([] when valid). */
function schemaErrors(o: Manifest): string[] {
  const type = `${o.apiVersion}/${o.kind}`;
  if (type === "inference.networking.k8s.io/v1/InferencePool") return inferencePool(o) ? [] : inferencePool.errors!.map((e) => `${e.instancePath} ${e.message}`);
  const Model = MODELS[type];
  if (!Model) return [`no schema for ${type}`];
  try {
    new Model(o).validate();
    return [];
  } catch (e) {
    return [(e as Error).message];
  }
}

const find = (objects: Manifest[], kind: string, name: string) => {
  const o = objects.find((x) => x.kind === kind && x.metadata.name === name);
  if (!o) throw new Error(`no ${kind} ${name}`);
  return o as Manifest & { spec: any }; // eslint-disable-line @typescript-eslint/no-explicit-any
};
const runnerOf = (objects: Manifest[]) => find(objects, "Deployment", "edgebone-runner");
const containerOf = (objects: Manifest[]) => runnerOf(objects).spec.template.spec.containers.find((c: { name: string }) => c.name === "runner");

/** The runner's environment in the pod: the ConfigMap it loads plus literal env values (secrets as placeholders). */
function podEnv(objects: Manifest[]): Record<string, string> {
  const c = containerOf(objects);
  const env: Record<string, string> = {};
  for (const from of c.envFrom ?? []) Object.assign(env, (find(objects, "ConfigMap", from.configMapRef.name) as unknown as { data: Record<string, string> }).data);
  for (const e of c.env) env[e.name] = e.value ?? (e.valueFrom?.secretKeyRef ? "k".repeat(40) : "from-field");
  return env;
}

describe.each(OVERLAYS)("deploy/kubernetes/overlays/%s", (overlay) => {
  const objects = rendered[overlay];

  it("every object validates against its schema", () => {
    expect(objects.length).toBeGreaterThanOrEqual(12);
    for (const o of objects) expect(schemaErrors(o), `${o.kind} ${o.metadata.name}`).toEqual([]);
    expect(new Set(objects.map((o) => o.metadata.namespace))).toEqual(new Set(["edgebone"]));
  });

  it("the runner's env is a configuration the runner accepts, with secrets from the Secret", () => {
    const env = podEnv(objects);
    expect(() => loadConfig(env)).not.toThrow();
    const secretRefs = containerOf(objects).env.filter((e: { valueFrom?: { secretKeyRef?: unknown } }) => e.valueFrom?.secretKeyRef).map((e: { name: string }) => e.name);
    expect(secretRefs.sort()).toEqual(["RUNNER_S3_ACCESS_KEY_ID", "RUNNER_S3_SECRET_ACCESS_KEY", "RUNNER_SIGNING_KEY"]);
    const data = (find(objects, "ConfigMap", "edgebone-runner-config") as unknown as { data: Record<string, string> }).data;
    expect(Object.keys(data).filter((k) => /KEY|SECRET|TOKEN/.test(k))).toEqual([]);
  });

  it("probes, ports and the pool agree with the runner: /ready, /health, one port, selectors that match the pods", () => {
    const deployment = runnerOf(objects);
    const c = containerOf(objects);
    const port = c.ports.find((p: { name: string }) => p.name === "http").containerPort;
    expect(port).toBe(loadConfig({ RUNNER_SIGNING_KEY: "k".repeat(40) }).port); // the image's RUNNER_PORT default
    expect(c.readinessProbe.httpGet).toEqual({ path: "/ready", port: "http" });
    expect(c.livenessProbe.httpGet).toEqual({ path: "/health", port: "http" });
    const podLabels = deployment.spec.template.metadata.labels;
    const selects = (selector: Record<string, string>) => Object.entries(selector).every(([k, v]) => podLabels[k] === v);
    const pool = find(objects, "InferencePool", "edgebone-runner");
    expect(pool.spec.targetPorts).toEqual([{ number: port }]);
    expect(selects(pool.spec.selector.matchLabels)).toBe(true);
    expect(selects(find(objects, "Service", "edgebone-runner").spec.selector)).toBe(true);
    expect(selects(find(objects, "PodDisruptionBudget", "edgebone-runner").spec.selector.matchLabels)).toBe(true);
    expect(find(objects, "HorizontalPodAutoscaler", "edgebone-runner").spec.scaleTargetRef).toMatchObject({ kind: "Deployment", name: deployment.metadata.name });
    const epp = find(objects, "Service", pool.spec.endpointPickerRef.name);
    expect(epp.spec.ports.map((p: { port: number }) => p.port)).toContain(pool.spec.endpointPickerRef.port.number);
    const route = find(objects, "HTTPRoute", "edgebone-runner");
    expect(route.spec.rules[0].backendRefs).toEqual([{ group: "inference.networking.k8s.io", kind: "InferencePool", name: pool.metadata.name }]);
  });

  it("the grace period covers the preStop delay, the runner's drain and closing its connections", () => {
    const deployment = runnerOf(objects);
    const c = containerOf(objects);
    const preStopMs = Number(/setTimeout\(\(\) => \{\}, (\d+)\)/.exec(c.lifecycle.preStop.exec.command.join(" "))![1]);
    const drainMs = loadConfig(podEnv(objects)).drainTimeoutMs;
    const closeMs = Number(/const SERVER_CLOSE_MS = ([\d_]+);/.exec(readFileSync(join(ROOT, "gpu-runner/main.ts"), "utf8"))![1].replace(/_/g, ""));
    expect(deployment.spec.template.spec.terminationGracePeriodSeconds * 1000).toBeGreaterThan(preStopMs + drainMs + closeMs);
    // The picker outlives the pool's drains.
    expect(find(objects, "Deployment", "edgebone-runner-epp").spec.template.spec.terminationGracePeriodSeconds).toBeGreaterThanOrEqual(deployment.spec.template.spec.terminationGracePeriodSeconds);
  });

  it("runs as non-root with a read-only root filesystem; the cache and /tmp are volumes", () => {
    const spec = runnerOf(objects).spec.template.spec;
    const c = containerOf(objects);
    expect(spec.securityContext.runAsNonRoot).toBe(true);
    expect(c.securityContext).toMatchObject({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false });
    const mounts = Object.fromEntries(c.volumeMounts.map((m: { name: string; mountPath: string }) => [m.mountPath, m.name]));
    expect(Object.keys(mounts).sort()).toEqual(["/tmp", "/var/cache/edgebone"]);
    expect(spec.volumes.map((v: { name: string }) => v.name).sort()).toEqual(Object.values(mounts).sort());
  });
});

describe("the overlays differ where they must", () => {
  it("gpu: one NVIDIA GPU per pod, GPU nodes only, the image's GPU variant and CUDA", () => {
    const gpu = containerOf(rendered.gpu);
    expect(gpu.resources.limits["nvidia.com/gpu"]).toBe(1);
    expect(gpu.image).toBe("edgebone-runner:0.1.0-gpu");
    expect(podEnv(rendered.gpu).RUNNER_EXECUTION_PROVIDER).toBe("cuda");
    const spec = runnerOf(rendered.gpu).spec.template.spec;
    expect(spec.nodeSelector).toEqual({ "nvidia.com/gpu.present": "true" });
    expect(spec.tolerations).toEqual([{ key: "nvidia.com/gpu", operator: "Exists", effect: "NoSchedule" }]);
    // the patch added to the base's env and kept its secrets
    expect(podEnv(rendered.gpu).RUNNER_SIGNING_KEY).toBeDefined();
  });

  it("cpu: no GPU request, no GPU scheduling", () => {
    const cpu = containerOf(rendered.cpu);
    expect(cpu.resources.limits["nvidia.com/gpu"]).toBeUndefined();
    expect(cpu.image).toBe("edgebone-runner:0.1.0-cpu");
    expect(runnerOf(rendered.cpu).spec.template.spec.nodeSelector).toBeUndefined();
    expect(podEnv(rendered.cpu).RUNNER_EXECUTION_PROVIDER).toBe("cpu");
  });

  it("the renderer refuses a kustomization field it does not implement", () => {
    const dir = tmp("edgebone-kustomize-");
    writeFileSync(join(dir, "kustomization.yaml"), "resources: []\ncommonLabels:\n  team: ml\n");
    expect(() => kustomize(dir)).toThrow(/commonLabels not supported/);
  });
});

describe("endpoint picker and autoscaling wiring", () => {
  const objects = rendered.cpu;
  const eppConfig = parse((find(objects, "ConfigMap", "edgebone-runner-epp") as unknown as { data: Record<string, string> }).data["plugins.yaml"]);

  it("the picker's config references only plugins it declares, parses /v1/forward untouched, and reads the runners' /metrics", () => {
    const declared = new Set(eppConfig.plugins.map((p: { name?: string; type: string }) => p.name ?? p.type));
    for (const profile of eppConfig.schedulingProfiles) for (const p of profile.plugins) expect(declared).toContain(p.pluginRef);
    expect(eppConfig.requestHandler.parsers.map((p: { pluginRef: string }) => p.pluginRef)).toEqual(["passthrough-parser"]);
    const source = eppConfig.plugins.find((p: { type: string }) => p.type === "metrics-data-source");
    expect(source.parameters.path).toBe("/metrics");
    const epp = find(objects, "Deployment", "edgebone-runner-epp").spec.template.spec.containers[0];
    expect(epp.args).toEqual(expect.arrayContaining(["--pool-name", "edgebone-runner", "--config-file", "/config/plugins.yaml"]));
    expect(epp.image).toMatch(/:v\d+\.\d+\.\d+$/);
  });

  it("the schemas catch mistakes: an unknown InferencePool field, a Service picker without a port, a string port", () => {
    const pool = find(objects, "InferencePool", "edgebone-runner");
    expect(schemaErrors({ ...pool, spec: { ...pool.spec, targetPort: 8790 } })).toEqual([expect.stringMatching(/additional properties/)]);
    const { port: _, ...noPort } = pool.spec.endpointPickerRef;
    expect(schemaErrors({ ...pool, spec: { ...pool.spec, endpointPickerRef: noPort } }).join()).toMatch(/must have required property 'port'/);
    const deployment = structuredClone(runnerOf(objects));
    deployment.spec.template.spec.containers[0].ports[0].containerPort = "8790";
    expect(schemaErrors(deployment).join()).toMatch(/containerPort must be integer/);
  });

  it("the HPA's metric is the one the prometheus-adapter rule serves", () => {
    const [adapter] = readYamlDocuments(join(DIR, "prometheus-adapter/rules.yaml")) as unknown as [{ rules: { seriesQuery: string; name: { as: string } }[] }];
    const hpaMetric = find(objects, "HorizontalPodAutoscaler", "edgebone-runner").spec.metrics[0].pods.metric.name;
    const rule = adapter.rules.find((r) => r.name.as === hpaMetric)!;
    expect(rule.seriesQuery).toMatch(/^'?vllm:num_requests_waiting\{/);
  });
});

// The renderer above against the real kustomize, wherever one is installed (not in CI: neither npm nor Debian
// bookworm packages it).
const realKustomize = [
  { probe: ["kustomize", "version"], render: ["kustomize", "build"] },
  { probe: ["kubectl", "version", "--client"], render: ["kubectl", "kustomize"] },
].find(({ probe: [bin, ...args] }) => spawnSync(bin, args, { timeout: 20_000 }).status === 0)?.render;
describe.skipIf(!realKustomize)(`test/helpers/kustomize.ts agrees with \`${realKustomize?.join(" ") ?? "kustomize"}\``, () => {
  it.each(OVERLAYS)("overlays/%s", (overlay) => {
    const out = spawnSync(realKustomize![0], [...realKustomize!.slice(1), join(DIR, "overlays", overlay)], { encoding: "utf8", timeout: 60_000 });
    expect(out.status, out.stderr).toBe(0);
    const real = byIdentity(out.stdout.split(/^---$/m).map((d) => parse(d) as Manifest).filter(Boolean));
    expect(byIdentity(rendered[overlay])).toEqual(real);
  });
});
if (!realKustomize) console.warn("kubernetes-manifests: no kustomize or kubectl on PATH; the renderer is not compared with the real tool");
