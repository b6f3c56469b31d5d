/** LoRA: KerasHub semantics, adapter files, PEFT import, and adapters as runtime inputs (mixed batches). */
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import h5wasm, { type Dataset, type Group } from "h5wasm/node";
import { describe, expect, it } from "vitest";
import {
  Backbone,

  GemmaBackbone,
  directoryFiles,
  initLora,
  loraSafetensorsFormat,
  nodeRuntime,
  readPeftAdapter,
  readSafetensors,
  tokenBatch,
  wasmRuntime,
  writeSafetensors,
  type LoraAdapter,
  type Tensor,
} from "../shared/node/index.js";
import { GOLDEN_DIR, GOLDEN_MODELS, loadGolden, maxAbsDiff } from "./helpers/golden.js";

const runtime = nodeRuntime({ threads: 1 });
const tmp = () => mkdtempSync(join(tmpdir(), "edgebone-lora-"));

async function forward(backbone: Backbone, model: (typeof GOLDEN_MODELS)[number], options = {}, rt = runtime): Promise<Tensor> {
  const golden = loadGolden(model);
  const session = await backbone.createSession(rt, { lora: true });
  return (await session.forward(tokenBatch(golden.inputIds, golden.attentionMask), options)).sequenceOutput;
}

async function baseForward(backbone: Backbone, model: (typeof GOLDEN_MODELS)[number]): Promise<Tensor> {
  const golden = loadGolden(model);
  return (await (await backbone.createSession(runtime, { lora: false })).forward(tokenBatch(golden.inputIds, golden.attentionMask))).sequenceOutput;
}

describe("enableLora (KerasHub semantics)", () => {
  it("adapts query and value only: KerasHub's 2-layer Gemma has 8 trainable and 20 frozen weights", () => {
    const gemma = new GemmaBackbone({ vocabularySize: 50, numLayers: 2, numQueryHeads: 2, numKeyValueHeads: 2, hiddenDim: 32, intermediateDim: 16, headDim: 16 });
    expect(gemma.weightSummary()).toMatchObject({ trainableWeights: 20, nonTrainableWeights: 0 });
    gemma.enableLora(4);
    expect(gemma.weightSummary()).toEqual({ trainableWeights: 8, nonTrainableWeights: 20, trainableParams: 4 * (2 * 32 * 4 + 4 * 16), nonTrainableParams: gemma.countParams() });
    const q = gemma.lora!.factors.get("decoder_block_0/attention/query/kernel")!;
    expect(q.a.shape).toEqual([2, 32, 4]); // kernel.shape[:-1] + [rank]
    expect(q.b.shape).toEqual([4, 16]);
    expect(q.b.data.every((x) => x === 0)).toBe(true);
    const limit = Math.sqrt(6 / (32 * 2)); // he_uniform over Keras fans of (2, 32, 4)
    expect(Math.max(...(q.a.data as Float32Array).map(Math.abs))).toBeLessThanOrEqual(limit);
    expect([...gemma.lora!.factors.keys()].filter((p) => /key|attention_output|ffw/.test(p))).toEqual([]);
    expect(() => gemma.enableLora(4)).toThrow(/already enabled/);
  });

  it.each(GOLDEN_MODELS)("%s: B = 0 equals the base model exactly", async (model) => {
    const backbone = await Backbone.fromPreset(`${GOLDEN_DIR}${model}`);
    const base = await baseForward(backbone, model);
    backbone.enableLora(8);
    expect(maxAbsDiff(await forward(backbone, model), base)).toBe(0);
  });

  // A small and a large rank (heads·r above the hidden size).
  it.each(GOLDEN_MODELS.flatMap((m) => [[m, 4], [m, 72]] as const))("%s rank %d: LoRA output equals the merged kernel's (≤ 1e-5), on WASM and node", async (model, rank) => {
    const backbone = await Backbone.fromPreset(`${GOLDEN_DIR}${model}`);
    backbone.enableLora(rank, { randomB: true, seed: 11 });
    const adapted = await forward(backbone, model);
    const web = await forward(backbone, model, {}, wasmRuntime());
    const merged = await Backbone.fromPreset(`${GOLDEN_DIR}${model}`);
    merged.mergeLora(backbone.lora!);
    const reference = await baseForward(merged, model);
    const golden = loadGolden(model);
    // Absolute 1e-5 at rank 4; at rank 72 the random Δ is large, so 1e-5 relative to the output's scale.
    const scale = rank > 8 ? Math.max(1, ...(reference.data as Float32Array).map(Math.abs)) : 1;
    expect(maxAbsDiff(adapted, reference, golden.validLengths)).toBeLessThanOrEqual(1e-5 * scale);
    expect(maxAbsDiff(web, reference, golden.validLengths)).toBeLessThanOrEqual(1e-5 * scale);
    expect(maxAbsDiff(adapted, await baseForward(backbone, model), golden.validLengths)).toBeGreaterThan(1e-3); // it does something
  });
});

describe("adapters as runtime inputs", () => {
  it.each(["gemma2", "roberta"] as const)("%s: a mixed batch equals each row run alone with its own adapter", async (model) => {
    const backbone = await Backbone.fromPreset(`${GOLDEN_DIR}${model}`);
    const targets = backbone.loraTargets();
    const a = initLora(targets, 2, 1, true);
    const b = initLora(targets, 72, 2, true); // different ranks pad to the batch's max
    const c = flatAdapter(backbone, 3, 4, 0.5); // a PEFT-style adapter in the same batch
    const golden = loadGolden(model);
    const session = await backbone.createSession(runtime, { lora: true });
    const ids = [...golden.inputIds, ...golden.inputIds];
    const mask = [...golden.attentionMask, ...golden.attentionMask];
    const adapterIds = [0, 1, 2, null];
    const mixed = (await session.forward(tokenBatch(ids, mask), { adapters: [a, b, c], adapterIds })).sequenceOutput;
    const T = ids[0].length;
    const H = mixed.shape[2];
    for (let row = 0; row < 4; row++) {
      const adapter = adapterIds[row] === null ? [] : [[a, b, c][adapterIds[row]!]];
      const alone = (await session.forward(tokenBatch([ids[row]], [mask[row]]), { adapters: adapter })).sequenceOutput;
      const slice: Tensor = { dtype: "float32", shape: [1, T, H], data: mixed.data.subarray(row * T * H, (row + 1) * T * H) };
      expect(maxAbsDiff(slice, alone, [golden.validLengths[row % 2]]), `row ${row}`).toBeLessThanOrEqual(1e-5);
    }
    // Switching adapters needs no new session, and the base rows equal the plain model.
    const base = await baseForward(backbone, model);
    const none = (await session.forward(tokenBatch(golden.inputIds, golden.attentionMask), { adapters: [] })).sequenceOutput;
    expect(maxAbsDiff(none, base)).toBe(0);
  });

  it("rejects bad adapter selections with clear errors", async () => {
    const backbone = await Backbone.fromPreset(`${GOLDEN_DIR}distilbert`);
    const session = await backbone.createSession(runtime, { lora: true });
    const adapter = initLora(backbone.loraTargets(), 2);
    const batch = tokenBatch([[1, 2], [3, 4]]);
    await expect(session.forward(batch, { adapters: [adapter], adapterIds: [0] })).rejects.toThrow(/adapterIds has 1 entries for a batch of 2/);
    await expect(session.forward(batch, { adapters: [adapter], adapterIds: [0, 1] })).rejects.toThrow(/adapterIds\[1\] = 1 does not name one of the 1 adapters/);
    await expect(session.forward(batch, { adapters: [adapter, adapter] })).rejects.toThrow(/without adapterIds/);
    const gemmaAdapter = initLora((await Backbone.fromPreset(`${GOLDEN_DIR}gemma`)).loraTargets(), 2);
    await expect(session.forward(batch, { adapters: [gemmaAdapter] })).rejects.toThrow(/adapts decoder_block_0\/attention\/query\/kernel.*which the backbone does not have/);
    const plain = await backbone.createSession(runtime);
    await expect(plain.forward(batch, { adapters: [adapter] })).rejects.toThrow(/built without LoRA inputs/);
  });
});

describe(".lora.h5 (KerasHub layout)", () => {
  it.each([
    ["gemma", [8, 10, 19, 21]],
    ["gemma2", [9, 11, 22, 24, 35, 37, 48, 50]],
    ["distilbert", [11, 13, 21, 23]],
    ["roberta", [11, 13, 21, 23]],
  ] as const)("%s: round-trips, with KerasHub's layer indices %j", async (model, indices) => {
    const backbone = await Backbone.fromPreset(`${GOLDEN_DIR}${model}`);
    backbone.enableLora(4, { randomB: true });
    const path = join(tmp(), "adapter.lora.h5");
    await backbone.saveLoraWeights(path);

    await h5wasm.ready;
    const file = new h5wasm.File(path, "r");
    expect(Number((file.get("lora/vars/rank") as Dataset).value)).toBe(4);
    expect((file.get("lora") as Group).keys().filter((k) => k !== "vars").map(Number).sort((x, y) => x - y)).toEqual(indices);
    const first = backbone.loraTargets().find((t) => t.projection === "value" && t.layer === 0)!;
    expect((file.get(`lora/${indices[0]}/vars/lora_kernel_a`) as Dataset).shape).toEqual([...first.kernelShape.slice(0, -1), 4]);
    file.close();

    const fresh = await Backbone.fromPreset(`${GOLDEN_DIR}${model}`);
    await fresh.loadLoraWeights(path);
    expect(fresh.lora!.rank).toBe(4);
    expect(maxAbsDiff(await forward(fresh, model), await forward(backbone, model))).toBe(0);
  });

  it("raises KerasHub's errors: suffix, rank mismatch, nothing enabled", async () => {
    const backbone = await Backbone.fromPreset(`${GOLDEN_DIR}gemma`);
    await expect(backbone.saveLoraWeights(join(tmp(), "x.lora.h5"))).rejects.toThrow(/no LoRA layers are enabled/);
    backbone.enableLora(4);
    await expect(backbone.saveLoraWeights(join(tmp(), "adapter.h5"))).rejects.toThrow(/filename must end in .lora.h5 or .lora.safetensors/);
    const path = join(tmp(), "r4.lora.h5");
    await backbone.saveLoraWeights(path);
    const other = await Backbone.fromPreset(`${GOLDEN_DIR}gemma`);
    other.enableLora(8);
    await expect(other.loadLoraWeights(path)).rejects.toThrow(/Both ranks must match/);
    const encoder = await Backbone.fromPreset(`${GOLDEN_DIR}distilbert`);
    await expect(encoder.loadLoraWeights(path)).rejects.toThrow(/factors are A \[1,64,4\] B \[4,16\], expected A \[64,4,4\]/);
    const notH5 = join(tmp(), "bad.lora.h5");
    writeFileSync(notH5, "not hdf5");
    await expect(other.loadLoraWeights(notH5)).rejects.toThrow(/is not an HDF5 file/);
  });
});

describe(".lora.safetensors (platform form)", () => {
  it("round-trips per-head and flat adapters with their scale", async () => {
    const backbone = await Backbone.fromPreset(`${GOLDEN_DIR}gemma2`);
    for (const adapter of [initLora(backbone.loraTargets(), 3, 5, true), flatAdapter(backbone, 4, 6, 2)]) {
      const bytes = await loraSafetensorsFormat.encode(adapter, backbone);
      expect([...readSafetensors(bytes).tensors.keys()]).toContain("decoder_block_0/attention/query/lora_kernel_a");
      const back = await loraSafetensorsFormat.decode(bytes, backbone, "mem");
      expect(back).toMatchObject({ rank: adapter.rank, scale: adapter.scale, layout: adapter.layout });
      const s1 = await backbone.createSession(runtime, { lora: true });
      const batch = tokenBatch(loadGolden("gemma2").inputIds);
      const x = (await s1.forward(batch, { adapters: [adapter] })).sequenceOutput;
      const y = (await s1.forward(batch, { adapters: [back] })).sequenceOutput;
      expect(maxAbsDiff(x, y)).toBe(0);
    }
  });

  it("converts a flat (PEFT) adapter to .lora.h5 exactly (rank heads·r, scale folded into B)", async () => {
    const backbone = await Backbone.fromPreset(`${GOLDEN_DIR}gemma2`);
    backbone.setLora(flatAdapter(backbone, 2, 8, 1.5));
    const path = join(tmp(), "converted.lora.h5");
    await backbone.saveLoraWeights(path);
    const fresh = await Backbone.fromPreset(`${GOLDEN_DIR}gemma2`);
    await fresh.loadLoraWeights(path);
    expect(fresh.lora!).toMatchObject({ layout: "per_head", scale: 1, rank: 8 }); // 4 query heads × rank 2
    expect(maxAbsDiff(await forward(fresh, "gemma2"), await forward(backbone, "gemma2"))).toBeLessThanOrEqual(1e-5);
  });
});

describe("PEFT import", () => {
  it.each([
    ["gemma", "base_model.model.model.", "q_proj", "v_proj", (i: number, m: string) => `layers.${i}.self_attn.${m}`],
    ["distilbert", "base_model.model.distilbert.", "q_lin", "v_lin", (i: number, m: string) => `transformer.layer.${i}.attention.${m}`],
    ["roberta", "base_model.model.roberta.", "query", "value", (i: number, m: string) => `encoder.layer.${i}.attention.self.${m}`],
  ] as const)("%s: equals the HF checkpoint with W + (alpha/r)·B·A merged in HF layout", async (model, prefix, q, v, module) => {
    const r = 4;
    const alpha = 8;
    const config = JSON.parse(readFileSync(join(GOLDEN_DIR, model, "config.json"), "utf8"));
    const layers = config.num_hidden_layers ?? config.n_layers;
    const { tensors } = readSafetensors(readFileSync(join(GOLDEN_DIR, model, "model.safetensors")));
    const peft = new Map<string, Tensor>();
    const merged = new Map(tensors);
    let seed = 1;
    for (let i = 0; i < layers; i++) {
      for (const m of [q, v]) {
        const weight = tensors.get(`${module(i, m)}.weight`)!;
        const [out, inDim] = weight.shape;
        const A = randomTensor([r, inDim], seed++);
        const B = randomTensor([out, r], seed++);
        peft.set(`${prefix}${module(i, m)}.lora_A.weight`, A);
        peft.set(`${prefix}${module(i, m)}.lora_B.weight`, B);
        // Reference: HF-layout merge, independent of our per-head/flat machinery.
        const w = Float32Array.from(weight.data as Float32Array);
        for (let o = 0; o < out; o++) for (let j = 0; j < inDim; j++) {
          let s = 0;
          for (let k = 0; k < r; k++) s += B.data[o * r + k] * A.data[k * inDim + j];
          w[o * inDim + j] += (alpha / r) * s;
        }
        merged.set(`${module(i, m)}.weight`, { dtype: "float32", shape: weight.shape, data: w });
      }
    }
    const adapterDir = tmp();
    writeFileSync(join(adapterDir, "adapter_config.json"), JSON.stringify({ peft_type: "LORA", r, lora_alpha: alpha, target_modules: [q, v], bias: "none" }));
    writeFileSync(join(adapterDir, "adapter_model.safetensors"), writeSafetensors(peft));
    const mergedDir = tmp();
    cpSync(join(GOLDEN_DIR, model, "config.json"), join(mergedDir, "config.json"));
    writeFileSync(join(mergedDir, "model.safetensors"), writeSafetensors(merged));

    const backbone = await Backbone.fromPreset(`${GOLDEN_DIR}${model}`);
    const adapter = await readPeftAdapter(directoryFiles(adapterDir), backbone.loraTargets());
    expect(adapter).toMatchObject({ layout: "flat", rank: r, scale: alpha / r });
    const golden = loadGolden(model);
    const adapted = await forward(backbone, model, { adapters: [adapter] });
    const reference = await baseForward(await Backbone.fromPreset(mergedDir), model);
    expect(maxAbsDiff(adapted, reference, golden.validLengths)).toBeLessThanOrEqual(1e-5);
    // mergeLora folds a flat adapter into KerasHub kernels the same way.
    backbone.mergeLora(adapter);
    expect(maxAbsDiff(await baseForward(backbone, model), reference, golden.validLengths)).toBeLessThanOrEqual(1e-5);
  });

  it("rejects adapters for modules we do not adapt, naming them", async () => {
    const backbone = await Backbone.fromPreset(`${GOLDEN_DIR}gemma`);
    const dir = tmp();
    writeFileSync(join(dir, "adapter_config.json"), JSON.stringify({ r: 2, lora_alpha: 2, target_modules: ["q_proj", "k_proj", "o_proj"] }));
    writeFileSync(join(dir, "adapter_model.safetensors"), writeSafetensors([]));
    await expect(readPeftAdapter(directoryFiles(dir), backbone.loraTargets())).rejects.toThrow(/targets k_proj, o_proj; only the query and value projections \(q_proj, v_proj\) can be adapted/);
    writeFileSync(join(dir, "adapter_config.json"), JSON.stringify({ r: 2, target_modules: "all-linear" }));
    writeFileSync(join(dir, "adapter_model.safetensors"), writeSafetensors([["base_model.model.model.layers.0.mlp.up_proj.lora_A.weight", randomTensor([2, 64], 1)]]));
    await expect(readPeftAdapter(directoryFiles(dir), backbone.loraTargets())).rejects.toThrow(/adapts modules that are not query\/value projections of this backbone: base_model.model.model.layers.0.mlp.up_proj.lora_A.weight/);
    writeFileSync(join(dir, "adapter_config.json"), JSON.stringify({ r: 2, use_dora: true }));
    await expect(readPeftAdapter(directoryFiles(dir), backbone.loraTargets())).rejects.toThrow(/DoRA/);
    await expect(readPeftAdapter(directoryFiles(tmp()), backbone.loraTargets())).rejects.toThrow(/has no adapter_config.json/);
  });
});

/** A PEFT-style adapter (flat layout) with random factors. */
function flatAdapter(backbone: Backbone, rank: number, seed: number, scale: number): LoraAdapter {
  const factors = new Map(backbone.loraTargets().map((t, i) => [t.kernelPath, { a: randomTensor([t.inputDim, rank], seed * 100 + 2 * i), b: randomTensor([rank, t.heads * t.headDim], seed * 100 + 2 * i + 1) }]));
  return { rank, scale, layout: "flat", factors };
}

function randomTensor(shape: number[], seed: number): Tensor {
  let x = seed * 2654435761;
  const data = Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => {
    x = (x * 1103515245 + 12345) % 2147483648;
    return (x / 2147483648 - 0.5) * 0.2;
  });
  return { dtype: "float32", shape, data };
}

