/**
 * Isolate pipelines in workerd: a small DistilBERT whose edge artifact has a pipeline plan forced over 3 token-table
 * shards and several block stages (test/workers/global-setup.ts) is served through real PipelineStage Durable
 * Objects (wrangler.toml's binding) that load their parts from R2, and answers what the single-process EdgeModel
 * computes in Node on the same onnxruntime-web build; adapters apply in the stages that hold their projections,
 * with requests of different adapters in the stages at once. Failures: a stage that hangs is retried on another
 * replica; one that fails on both (broken file, no memory beside a co-located stage, past the deadline) sends the
 * request to the runner pool, or answers 503 saying which stage and why; never a hung request.
 */
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, inject, it } from "vitest";
import { PRESET, backboneOf, call, encodeAdapter, putAdapter, tenantWithKey, type Tenant } from "./helpers.js";
import { pipelineAdapters } from "../helpers/pipeline-adapters.js";
import type { PipelineStageRpc } from "../../workers/pipeline-stage.js";

const expected = inject("pipelineExpected");
let t: Tenant;
beforeAll(async () => {
  t = await tenantWithKey("pipeline-tenant");
});

const forward = (preset: string, options: { env?: typeof env; adapter?: string } = {}) =>
  call("POST", `/v1/models/${preset}/forward`, { key: t.key, env: options.env, body: { token_ids: expected.tokenIds, padding_mask: expected.paddingMask, adapter: options.adapter } });

const worstDiff = (got: number[], want: number[]) => got.reduce((m, v, i) => Math.max(m, Math.abs(v - want[i])), 0);

/** The stage namespace with each stub passed through `stub(name, real)`; `names` lists the objects called. */
function spied(stub: (name: string, real: PipelineStageRpc) => PipelineStageRpc = (_, real) => real) {
  const namespace = env.PIPELINE_STAGE!;
  const ids = new Map<unknown, string>();
  const names: string[] = [];
  return {
    names,
    namespace: {
      idFromName(name: string) {
        const id = namespace.idFromName(name);
        ids.set(id, name);
        return id;
      },
      get(id: unknown) {
        names.push(ids.get(id)!);
        return stub(ids.get(id)!, namespace.get(id));
      },
    },
  };
}
const hanging: PipelineStageRpc = { lookup: () => new Promise(() => {}), forward: () => new Promise(() => {}) };
const unreachableRunner = { RUNNER_URLS: "http://127.0.0.1:9", RUNNER_SIGNING_KEY: "test-signing-key-0123456789abcdef", RUNNER_TIMEOUT_MS: "1000" };

describe("isolate pipelines", () => {
  it("serve a preset through its stages, equal to the single-process edge model, and show the plan", async () => {
    const res = await forward("edge-pipeline");
    expect(res.status, JSON.stringify(res.json)).toBe(200);
    expect(res.headers.get("x-edgebone-backend")).toBe("pipeline");
    expect(res.json.sequence_output.shape).toEqual(expected.shape);
    expect(worstDiff(res.json.sequence_output.data, expected.outputs.base)).toBeLessThanOrEqual(1e-6);

    const model = (await call("GET", "/v1/models/edge-pipeline", { key: t.key })).json.edgebone;
    expect(model.backend).toBe("pipeline");
    const stages: { kind: string; rows: [number, number] }[] = model.pipeline.stages;
    const shards = stages.filter((s) => s.kind === "embedding");
    expect(shards.length).toBeGreaterThanOrEqual(2);
    expect(stages.filter((s) => s.kind === "blocks").length).toBeGreaterThanOrEqual(2);
    expect(model.pipeline).toMatchObject({ basis: "sizes", replicas: 1 });
    // where each weight lives, in getLayoutMap's vocabulary: the token table's rows over the shards
    expect(model.pipeline.layout).toContainEqual(["token_embedding/embeddings", shards.map((s, k) => `stage ${k} rows [${s.rows[0]}, ${s.rows[1]})`)]);
    expect(model.footprint_bytes).toBe(Math.max(...model.pipeline.stages.map((s: { estimated_bytes: number }) => s.estimated_bytes)));

    const info = await call("GET", "/info", { env: { ...env, TEI_DEFAULT_PRESET: "edge-pipeline" } });
    expect(info.json.pipeline).toMatchObject({ preset: "edge-pipeline", id: model.pipeline.id, replicas: 1 });
    expect((await call("GET", "/info", { env: { ...env, TEI_DEFAULT_PRESET: PRESET } })).json.pipeline).toBeNull();
  });

  it("apply each request's adapter in the stages holding its projections, requests of different adapters at once", async () => {
    const adapters = pipelineAdapters((await backboneOf("edge-pipeline")).loraTargets());
    for (const [name, adapter] of Object.entries(adapters)) expect((await putAdapter(t.key, name, await encodeAdapter(adapter, "edge-pipeline"), "edge-pipeline")).status).toBe(201);
    const kinds = ["base", "all", "last", "all", "base", "last"] as const;
    const replies = await Promise.all(kinds.map((kind) => forward("edge-pipeline", { adapter: kind === "base" ? undefined : kind })));
    replies.forEach((res, i) => {
      expect(res.status, JSON.stringify(res.json)).toBe(200);
      expect(res.headers.get("x-edgebone-backend")).toBe("pipeline");
      expect(worstDiff(res.json.sequence_output.data, expected.outputs[kinds[i]]), kinds[i]).toBeLessThanOrEqual(1e-6);
    });
    // the last layer's adapter changes the output: it was applied, in the last stage
    expect(worstDiff(expected.outputs.last, expected.outputs.base)).toBeGreaterThan(1e-3);
  });

  it("spread requests over EDGE_PIPELINE_REPLICAS replicas of each stage", async () => {
    const spy = spied();
    const replicated = { ...env, EDGE_PIPELINE_REPLICAS: "3", PIPELINE_STAGE: spy.namespace };
    for (let i = 0; i < 3; i++) expect(worstDiff((await forward("edge-pipeline", { env: replicated })).json.sequence_output.data, expected.outputs.base)).toBeLessThanOrEqual(1e-6);
    const last = (await call("GET", "/v1/models/edge-pipeline", { key: t.key, env: replicated })).json.edgebone.pipeline.stages.length - 1;
    expect(new Set(spy.names.filter((n) => n.startsWith(`edge-pipeline/${last}/`)))).toEqual(new Set([0, 1, 2].map((r) => `edge-pipeline/${last}/${r}`)));
  });

  it("retry a stage that does not answer on another replica, within the deadline", async () => {
    const spy = spied((name, real) => (name === "edge-pipeline/4/0" ? hanging : real));
    const t0 = Date.now();
    const res = await forward("edge-pipeline", { env: { ...env, PIPELINE_STAGE: spy.namespace, EDGE_PIPELINE_TIMEOUT_MS: "3000" } });
    expect(res.status, JSON.stringify(res.json)).toBe(200);
    expect(res.headers.get("x-edgebone-backend")).toBe("pipeline");
    expect(worstDiff(res.json.sequence_output.data, expected.outputs.base)).toBeLessThanOrEqual(1e-6);
    expect(spy.names).toContain("edge-pipeline/4/1");
    expect(Date.now() - t0).toBeLessThan(3000);
  });

  it("answer 503 naming the stage when it hangs on every replica past the deadline, then send the preset to the runner pool", async () => {
    const spy = spied((name, real) => (name.startsWith("edge-pipeline-hang/3/") ? hanging : real));
    const t0 = Date.now();
    const res = await forward("edge-pipeline-hang", { env: { ...env, PIPELINE_STAGE: spy.namespace, EDGE_PIPELINE_TIMEOUT_MS: "1000" } });
    // Two replicas × the 1 s deadline, plus the stages before it on a busy 2-core machine (3.2 s seen in a full
    // run); without the deadline the request would hang until the test's timeout.
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(res.status).toBe(503);
    expect(res.json.error).toMatchObject({ code: "pipeline_failed", message: expect.stringMatching(/isolate pipeline: stage 3 \(blocks [\d-]+\) failed \(replica 0: no answer within \d+ ms; replica 1: no answer within \d+ ms\)/) });
    // remembered: the next request goes straight to the runner pool, with the reason
    const again = await forward("edge-pipeline-hang", { env: { ...env, ...unreachableRunner } });
    expect(again.headers.get("x-edgebone-backend")).toBe("runner");
    expect(again.headers.get("x-edgebone-isolate-failure")).toMatch(/isolate pipeline: stage 3/);
    expect((await call("GET", "/v1/models/edge-pipeline-hang", { key: t.key })).json.edgebone).toMatchObject({ backend: "runner", isolate_load_failure: expect.stringMatching(/stage 3/) });
  });

  it("fall back to the runner pool within the request when a stage fails on both replicas (a truncated file)", async () => {
    const res = await forward("edge-pipeline-broken", { env: { ...env, ...unreachableRunner } });
    expect(res.headers.get("x-edgebone-backend")).toBe("runner");
    expect(res.headers.get("x-edgebone-isolate-failure")).toMatch(/isolate pipeline: stage \d+ \(blocks [\d-]+\) failed \(replica 0: .*stage-\d+\.bin has 1000 bytes, the manifest says \d+/);
    expect(res.status).toBe(503); // the pool here is unreachable
    expect(res.json.error.code).toMatch(/no_healthy_runner|runner_timeout/);
  });

  it("refuse to load a stage that would not fit beside a co-located stage's memory (503 without a runner pool)", async () => {
    const res = await forward("edge-pipeline-heavy");
    expect(res.status).toBe(503);
    expect(res.json.error.code).toBe("pipeline_failed");
    expect(res.json.error.message).toMatch(
      /stage \d+ \(blocks [\d-]+\) of edge-pipeline-heavy needs 127\.0 MiB, and this isolate already holds [\d.]+ MiB of onnxruntime memory and [\d.]+ MiB of other stages' token rows: over the 128\.0 MiB budget \(Durable Objects of one class may share an isolate\)/,
    );
    expect((await forward("edge-pipeline")).status).toBe(200); // the other pipelines keep serving
  });
});
