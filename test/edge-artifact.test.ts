/**
 * Edge artifacts (shared/edge): staged, quantized graphs built once and loaded by the same code the worker runs.
 * The staged model equals the single quantized graph of the same plan; LoRA adapters (mixed per row) work on the
 * quantized base; a broken artifact fails with an error that names the file and the fix.
 */
import { describe, expect, it } from "vitest";
import { concatBytes as concat } from "../shared/weights/safetensors.js";
import {
  EDGE_MANIFEST,
  EdgeArtifactError,
  EdgeMemoryError,
  EdgeModel,
  FIDELITY_BARS,
  MemoryPresetStore,
  QuantizedWeights,
  buildEdgeArtifact,
  calibrate,
  calibrationBatches,
  fidelity,
  initLora,
  parsePlan,
  toFloat32,
  tokenBatch,
  nodeRuntime,
  wasmRuntime,
  type EdgeArtifact,
  type PresetFiles,
} from "../shared/node/index.js";
import { fidelityBatch, smallEncoder, withOutliers } from "./helpers/quant-models.js";

const wasm = wasmRuntime();
const ORT = "1.30.0";

async function store(artifact: EdgeArtifact, edit?: (file: string, bytes: Uint8Array) => Uint8Array | null): Promise<PresetFiles> {
  const files = new MemoryPresetStore().open("preset");
  for (const [file, chunks] of artifact.files) {
    const bytes = edit ? edit(file, concat(chunks)) : concat(chunks);
    if (bytes) await files.write(file, bytes);
  }
  await files.write(EDGE_MANIFEST, new TextEncoder().encode(JSON.stringify(artifact.manifest)));
  return files;
}

const maxAbsDiff = (a: Float32Array, b: Float32Array) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);

describe("edge artifacts", () => {
  const backbone = smallEncoder("distilbert", { vocabularySize: 2000, numLayers: 4 });
  const plan = parsePlan("int8");

  it.each(["js", "graph"] as const)("staged (%s token lookup) equals the single quantized graph of the same plan", async (lookup) => {
    const calibration = await calibrate(backbone, nodeRuntime({ threads: 1 }), calibrationBatches(backbone, null, 8, 32));
    // ~1 block per stage: several sessions chained; the JavaScript table in GatherBlockQuantized's blocks of 32
    // (its default is one scale per row) so that both read the same values.
    const artifact = await buildEdgeArtifact(backbone, { plan, calibration, lookup, tableBlock: 32, stageBytes: 300_000, onnxruntimeWeb: ORT });
    expect(artifact.manifest.stages.length).toBeGreaterThanOrEqual(3);
    expect(artifact.manifest.embedding !== null).toBe(lookup === "js");
    const model = await EdgeModel.load(await store(artifact), backbone, wasm);
    const { batch } = await fidelityBatch(2000);
    const staged = toFloat32((await model.forward(batch)).sequenceOutput);
    // The staged model runs row by row (int8 activations are quantized per tensor): compare with single rows.
    const single = await backbone.createSession(wasm, { weights: new QuantizedWeights(plan, calibration) });
    const H = backbone.hiddenDim;
    const T = batch.sequenceLength;
    for (let b = 0; b < batch.batchSize; b++) {
      const length = batch.paddingMask.subarray(b * T, (b + 1) * T).lastIndexOf(1) + 1;
      const row = tokenBatch([Array.from(batch.tokenIds.subarray(b * T, b * T + length))]);
      const whole = toFloat32((await single.forward(row)).sequenceOutput);
      expect(maxAbsDiff(staged.subarray(b * T * H, (b * T + length) * H), whole), `row ${b}`).toBeLessThanOrEqual(1e-5);
      expect(staged.subarray((b * T + length) * H, (b + 1) * T * H).every((v) => v === 0)).toBe(true);
    }
    await model.release();
  });

  it("the int8 artifact as shipped (one scale per token-table row) meets the fidelity bars, outlier channels included", async () => {
    const { batch, realText } = await fidelityBatch(30522);
    for (const [label, model] of [["plain", smallEncoder("roberta")], ["outliers", withOutliers(smallEncoder("roberta"))]] as const) {
      const calibration = await calibrate(model, nodeRuntime({ threads: 1 }), calibrationBatches(model, null, 16, 48));
      const artifact = await buildEdgeArtifact(model, { plan, calibration, onnxruntimeWeb: ORT });
      expect(artifact.manifest.embedding).toMatchObject({ bits: 8, block_size: model.hiddenDim });
      const graph = new TextDecoder().decode(artifact.files.get(artifact.manifest.stages[0].graph.file)![0]);
      expect(graph).toContain("FastGelu"); // the tanh GELU of quantized feed-forwards, within the same bars
      const edge = await EdgeModel.load(await store(artifact), model, wasm);
      const reference = await model.createSession(wasm);
      const f = fidelity(toFloat32((await reference.forward(batch)).sequenceOutput), toFloat32((await edge.forward(batch)).sequenceOutput), batch.paddingMask, batch.batchSize);
      expect(f.minPooled, `${label}: pooled (real text: ${realText})`).toBeGreaterThanOrEqual(FIDELITY_BARS.pooled);
      expect(f.minToken, `${label}: per token (real text: ${realText})`).toBeGreaterThanOrEqual(FIDELITY_BARS.token);
      await Promise.all([edge.release(), reference.release()]);
    }
  });

  it("serves LoRA adapters on the quantized base: a mixed batch equals each row alone, and adapters change the output", async () => {
    const artifact = await buildEdgeArtifact(backbone, { plan, onnxruntimeWeb: ORT });
    const model = await EdgeModel.load(await store(artifact), backbone, wasm);
    const targets = backbone.loraTargets();
    const a = initLora(targets, 4, 1, true);
    const b = initLora(targets, 8, 2, true);
    const { batch } = await fidelityBatch(2000);
    const mixed = toFloat32((await model.forward(batch, { adapters: [a, b], adapterIds: [0, 1, null, 0] })).sequenceOutput);
    const H = backbone.hiddenDim;
    const rowSize = batch.sequenceLength * H;
    for (const [row, adapters] of [[0, [a]], [1, [b]], [2, []], [3, [a]]] as const) {
      const alone = toFloat32((await model.forward(batch, { adapters: [...adapters], adapterIds: Array(batch.batchSize).fill(adapters.length ? 0 : null) })).sequenceOutput);
      expect(maxAbsDiff(mixed.subarray(row * rowSize, (row + 1) * rowSize), alone.subarray(row * rowSize, (row + 1) * rowSize)), `row ${row}`).toBeLessThanOrEqual(1e-5);
    }
    const base = toFloat32((await model.forward(batch)).sequenceOutput);
    expect(maxAbsDiff(base.subarray(0, rowSize), mixed.subarray(0, rowSize))).toBeGreaterThan(1e-3);
    await model.release();
  });

  describe("failure modes", () => {
    let artifact: EdgeArtifact;
    const load = async (edit: Parameters<typeof store>[1], options = {}) => EdgeModel.load(await store(artifact, edit), backbone, wasm, { verify: true, ...options });
    it("truncated, corrupted, missing or incompatible files are refused with the file and the fix", async () => {
      artifact ??= await buildEdgeArtifact(backbone, { plan, stageBytes: 300_000, onnxruntimeWeb: ORT });
      const stage = artifact.manifest.stages[1].data.file;
      await expect(load((f, b) => (f === stage ? b.subarray(0, b.byteLength - 100) : b))).rejects.toThrow(new RegExp(`${stage} has \\d+ bytes, the manifest says \\d+: the artifact is truncated`));
      await expect(load((f, b) => (f === stage ? Uint8Array.from(b, (v, i) => (i === 5000 ? v ^ 1 : v)) : b))).rejects.toThrow(new RegExp(`${stage} does not match its sha256`));
      await expect(load((f, b) => (f === stage ? null : b))).rejects.toThrow(new RegExp(`${stage} is missing: reinstall the preset`));
      await expect(load((f, b) => (f === "edge/embedding.bin" ? null : b))).rejects.toBeInstanceOf(EdgeArtifactError);

      const withManifest = async (change: (m: Record<string, unknown>) => void) => {
        const files = await store(artifact);
        const manifest = JSON.parse(JSON.stringify(artifact.manifest));
        change(manifest);
        await files.write(EDGE_MANIFEST, new TextEncoder().encode(JSON.stringify(manifest)));
        return EdgeModel.load(files, backbone, wasm);
      };
      await expect(withManifest((m) => (m.onnxruntime_web = "1.29.0"))).rejects.toThrow(/built for onnxruntime-web 1\.29\.0; this runtime is onnxruntime-web 1\.30\.0: rebuild the edge artifact/);
      await expect(withManifest((m) => (m.version = 99))).rejects.toThrow(/edge format version 99; this Edgebone reads version 1/);
      await expect(withManifest((m) => (m.num_layers = 12))).rejects.toThrow(/was built for a DistilBertBackbone with 12 layers/);
      await expect(withManifest((m) => delete m.stages)).rejects.toThrow(/manifest.json: stages:/);
      const files = await store(artifact);
      await files.write(EDGE_MANIFEST, new TextEncoder().encode("{not json"));
      await expect(EdgeModel.load(files, backbone, wasm)).rejects.toThrow(/manifest.json is not valid JSON/);
    });

    it("refuses to grow onnxruntime's memory past the limit, before creating the stage that would", async () => {
      artifact ??= await buildEdgeArtifact(backbone, { plan, stageBytes: 300_000, onnxruntimeWeb: ORT });
      const used = wasm.memoryBytes!();
      expect(used).toBeGreaterThan(0); // the hook found ORT's WebAssembly.Memory
      await expect(load(undefined, { memoryLimitBytes: used + 1000 })).rejects.toBeInstanceOf(EdgeMemoryError);
      await expect(load(undefined, { memoryLimitBytes: used + 1000 })).rejects.toThrow(/\([\d.]+ MiB\) would grow onnxruntime's memory \([\d.]+ MiB\) past the limit of [\d.]+ MiB/);
    });
  });
});
