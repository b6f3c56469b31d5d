/**
 * Pipeline plans (shared/edge/pipeline.ts) and the partial loads a pipeline's stages make (EdgeModel over a range
 * of artifact stages, EdgeEmbedding over a range of token rows, read with ranged reads): the stages chained by hand
 * equal the whole edge model exactly, adapters included (each stage applies its blocks' factors), and the plan
 * keeps every stage within the budget and says where each weight lives.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  EDGE_MANIFEST,
  EdgeEmbedding,
  EdgeModel,
  PipelinePlanError,
  RobertaBackbone,
  readEdgeManifest,
  buildEdgeArtifact,
  directoryFiles,
  initLora,
  parsePlan,
  pipelineLayout,
  planPipeline,
  rowActivationBytes,
  toFloat32,
  wasmRuntime,
  type EdgeManifest,
  type LoraAdapter,
  type PipelineCosts,
  type PipelinePlan,
} from "../shared/node/index.js";
import { writeFileParts } from "../shared/presets/store.js";
import { writeEdgeArtifact } from "../shared/node/edge-build.js";
import { fidelityBatch, smallEncoder } from "./helpers/quant-models.js";

const wasm = wasmRuntime();
const backbone = smallEncoder("roberta", { vocabularySize: 8000, numLayers: 4 });
/** Costs without the fixed overheads, so that a small model needs several stages under a small budget. */
const BARE: PipelineCosts = { allowanceBytes: 0, ortBaseBytes: 0, wasmPerFileByte: 1, activationBytes: 0, correction: { embedding: 1, blocks: 1 } };

let dir: string;
let manifest: EdgeManifest;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "edgebone-pipeline-"));
  const files = directoryFiles(dir);
  await backbone.saveToPreset(files);
  const artifact = await buildEdgeArtifact(backbone, { plan: parsePlan("int8"), stageBytes: 150_000, onnxruntimeWeb: "1.30.0" });
  for (const [file, chunks] of artifact.files) await writeFileParts(files, file, chunks);
  await files.write(EDGE_MANIFEST, new TextEncoder().encode(JSON.stringify(artifact.manifest)));
  manifest = artifact.manifest;
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const maxAbsDiff = (a: Float32Array, b: Float32Array) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);
/** A budget each artifact stage fits alone (its files, plus the largest once more while loading), but no two do. */
const smallBudget = () => {
  const files = manifest.stages.map((s) => s.graph.bytes + s.data.bytes);
  return Math.ceil(Math.max(...files) * 2.05);
};

describe("pipeline plans", () => {
  it("cut the artifact into shards and block runs that each fit the budget, covering every row and stage once", async () => {
    const plan = await planPipeline(manifest, smallBudget(), BARE);
    const shards = plan.stages.filter((s) => s.kind === "embedding");
    const blocks = plan.stages.filter((s) => s.kind === "blocks");
    expect(shards.length).toBe(Math.ceil(manifest.embedding!.bytes / plan.budget_bytes));
    expect(shards[0].rows[0]).toBe(0);
    shards.forEach((s, k) => k && expect(s.rows[0]).toBe(shards[k - 1].rows[1]));
    expect(shards[shards.length - 1].rows[1]).toBe(8000);
    expect(blocks.length).toBe(manifest.stages.length); // no two artifact stages fit together
    blocks.forEach((s, k) => expect(s.stages).toEqual([k, k + 1]));
    for (const s of plan.stages) expect(s.estimated_bytes).toBeLessThanOrEqual(plan.budget_bytes);
    expect(plan).toMatchObject({ basis: "sizes", id: expect.stringMatching(/^[0-9a-f]{16}$/) });

    const layout = pipelineLayout(plan);
    expect(layout.get("embeddings/token_embedding/embeddings")).toEqual(shards.map((s, k) => `stage ${k} rows [${s.rows[0]}, ${s.rows[1]})`));
    expect(layout.get("embeddings_layer_norm/gamma")).toEqual([`stage ${shards.length}`]);
    expect(layout.get("transformer_layer_3/self_attention_layer/query/kernel")).toEqual([`stage ${plan.stages.length - 1}`]);
    expect(layout.get("transformer_layer_13/self_attention_layer/query/kernel")).toEqual([]);
  });

  it("balance the block stages, and refuse budgets nothing fits", async () => {
    const files = manifest.stages.map((s) => s.graph.bytes + s.data.bytes);
    const total = files.reduce((a, b) => a + b, 0);
    // two runs: the balanced cut is the one whose larger run is the smallest
    const plan = await planPipeline(manifest, total, BARE);
    const runs = plan.stages.filter((s) => s.kind === "blocks");
    expect(runs.length).toBe(2);
    const cost = (from: number, to: number) => files.slice(from, to).reduce((a, b) => a + b, 0) + Math.max(...files.slice(from, to));
    const best = Math.min(...[1, 2, 3].map((k) => Math.max(cost(0, k), cost(k, 4))));
    expect(Math.max(...runs.map((s) => s.estimated_bytes))).toBe(best);
    await expect(planPipeline(manifest, Math.max(...files), BARE)).rejects.toThrow(/artifact stage \d+ alone needs .* over the .* budget: rebuild the artifact with smaller stages/);
    await expect(planPipeline(manifest, 10, BARE)).rejects.toBeInstanceOf(PipelinePlanError);
    await expect(planPipeline({ ...manifest, embedding: null }, 2 ** 30, BARE)).rejects.toThrow(/needs the token table looked up in JavaScript/);
  });

  it("the default costs include onnxruntime's base, the isolate's allowance and a longest row's activations", async () => {
    const activationBytes = rowActivationBytes(backbone.config, backbone.maxSequenceLength);
    const plan = await planPipeline(manifest, 128 * 2 ** 20, { ...BARE, allowanceBytes: 16 * 2 ** 20, ortBaseBytes: 16 * 2 ** 20, activationBytes });
    expect(plan.stages.map((s) => s.kind)).toEqual(["embedding", "blocks"]);
    expect(plan.stages[1].estimated_bytes).toBeGreaterThan(32 * 2 ** 20 + activationBytes);
  });
});

describe("stages loaded apart and chained", () => {
  let plan: PipelinePlan;
  let whole: EdgeModel;
  let stages: EdgeModel[];
  let shards: EdgeEmbedding[];
  beforeAll(async () => {
    plan = await planPipeline(manifest, smallBudget(), BARE);
    const files = directoryFiles(dir);
    expect(files.readRange).toBeDefined(); // shards are read with ranged reads
    whole = await EdgeModel.load(files, backbone, wasm);
    stages = [];
    shards = [];
    for (const s of plan.stages) {
      if (s.kind === "embedding") shards.push(await EdgeEmbedding.load(files, manifest, s.rows));
      else stages.push(await EdgeModel.load(files, backbone, wasm, { stages: s.stages }));
    }
  });
  afterAll(async () => {
    await Promise.all([whole, ...stages].map((m) => m.release()));
  });

  const chain = async (ids: Int32Array, adapter: LoraAdapter | null) => {
    const H = backbone.hiddenDim;
    let hidden: Float32Array = new Float32Array(ids.length * H);
    ids.forEach((id, i) => hidden.set(shards.find((s) => id >= s.rows[0] && id < s.rows[1])!.lookup([id]), i * H));
    const mask = new Int32Array(ids.length).fill(1);
    for (const stage of stages) hidden = await stage.forwardHidden(hidden, mask, adapter);
    return hidden;
  };

  it("equal the whole model exactly, with and without adapters (mixed rows)", async () => {
    const { batch } = await fidelityBatch(8000);
    const targets = backbone.loraTargets();
    const a = initLora(targets, 4, 1, true);
    // an adapter of the last layers only: earlier stages run it as the base model
    const late = { ...a, factors: new Map([...a.factors].filter(([path]) => path.startsWith("transformer_layer_3/"))) };
    const adapterIds = [0, null, 1, 0];
    const expected = toFloat32((await whole.forward(batch, { adapters: [a, late], adapterIds })).sequenceOutput);
    const T = batch.sequenceLength;
    const H = backbone.hiddenDim;
    for (let b = 0; b < batch.batchSize; b++) {
      const length = batch.paddingMask.subarray(b * T, (b + 1) * T).lastIndexOf(1) + 1;
      const adapter = adapterIds[b] === null ? null : [a, late][adapterIds[b]!];
      const got = await chain(batch.tokenIds.subarray(b * T, b * T + length), adapter);
      expect(maxAbsDiff(got, expected.subarray(b * T * H, (b * T + length) * H)), `row ${b}`).toBe(0);
    }
    const base = await chain(batch.tokenIds.subarray(0, 5), null);
    expect(maxAbsDiff(base, await chain(batch.tokenIds.subarray(0, 5), a))).toBeGreaterThan(1e-3);
  });

  it("a shard holds only its rows and refuses others; a stage model refuses token ids", async () => {
    expect(shards[0].bytes).toBeLessThan(manifest.embedding!.bytes * 0.6);
    expect(() => shards[1].lookup([5])).toThrow(new RegExp(`token id 5 is not in rows \\[${shards[1].rows[0]}, ${shards[1].rows[1]}\\)`));
    await expect(stages[0].forward({ batchSize: 1, sequenceLength: 1, tokenIds: Int32Array.of(5), paddingMask: Int32Array.of(1) })).rejects.toThrow(/forwardHidden/);
    await expect(stages[0].forwardHidden(new Float32Array(3), Int32Array.of(1), null)).rejects.toThrow(/3 values are not 1 positions × 128/);
  });

  it("a truncated token table fails the ranged read", async () => {
    const files = directoryFiles(dir);
    const table = manifest.embedding!;
    const cut = { ...files, readRange: async (file: string, offset: number, length: number) => (await files.readRange!(file, offset, length))!.subarray(0, file === table.file && offset + length === table.bytes ? length - 4 : length) };
    await expect(EdgeEmbedding.load(cut, manifest, [7000, 8000])).rejects.toThrow(/embedding\.bin is shorter than the manifest says/);
  });
});

describe("install", () => {
  it("cuts an int8 artifact that does not fit one isolate into a pipeline, each stage measured within the budget", async () => {
    // a large vocabulary and small blocks: the token table alone is most of the model (like XLM-R's)
    const large = new RobertaBackbone({ vocabularySize: 250002, numLayers: 2, numHeads: 2, hiddenDim: 64, intermediateDim: 128, maxSequenceLength: 130, seed: 3 });
    const presetDir = mkdtempSync(join(tmpdir(), "edgebone-pipeline-install-"));
    try {
      await large.saveToPreset(directoryFiles(presetDir));
      const budget = 40 * 2 ** 20;
      const lines: string[] = [];
      const { manifest } = await writeEdgeArtifact(large, presetDir, { plan: "int8", budgetBytes: budget, log: (l) => lines.push(l) });
      expect(Math.max(...Object.values(manifest!.measured!.peak_bytes))).toBeGreaterThan(budget); // one isolate: over
      const plan = manifest!.pipeline!;
      expect(plan.basis).toBe("measured");
      expect(plan.stages.map((s) => s.kind)).toContain("embedding");
      for (const s of plan.stages) expect(s.measured_bytes).toBeLessThanOrEqual(budget);
      expect(lines.join("\n")).toMatch(/stage 0 \(token rows 0-\d+\): measured [\d.]+ MiB, predicted [\d.]+ MiB/);
      // a plan whose stages measured well under their predictions is re-planned tighter; never more isolates
      const first = Number(/pipeline of (\d+) isolates/.exec(lines.join("\n"))![1]);
      expect(plan.stages.length).toBeLessThanOrEqual(first);
      expect(lines.join("\n")).toContain(`kept the pipeline of ${plan.stages.length} isolates`);
      expect((await readEdgeManifest(directoryFiles(presetDir)))!.pipeline).toEqual(plan);
    } finally {
      rmSync(presetDir, { recursive: true, force: true });
    }
  });
});
