/** saveToPreset ↔ fromPreset round trips, KerasHub config.json compatibility, dtypes, HF checkpoint layouts. */
import { mkdtempSync, readFileSync, writeFileSync, mkdirSync, cpSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  Backbone,
  GemmaBackbone,
  RobertaBackbone,
  nodeRuntime,
  readSafetensors,
  tokenBatch,
  writeSafetensors,
  type Tensor,
} from "../shared/node/index.js";
import { GOLDEN_DIR, GOLDEN_MODELS, loadGolden, maxAbsDiff } from "./helpers/golden.js";

const runtime = nodeRuntime({ threads: 1 });
const tmp = () => mkdtempSync(join(tmpdir(), "edgebone-"));

async function run(backbone: Backbone, model: (typeof GOLDEN_MODELS)[number]): Promise<Tensor> {
  const golden = loadGolden(model);
  return (await (await backbone.createSession(runtime)).forward(tokenBatch(golden.inputIds, golden.attentionMask))).sequenceOutput;
}

describe.each(GOLDEN_MODELS)("%s: HF dir → saveToPreset → fromPreset", (model) => {
  it("gives identical outputs and a KerasHub-compatible config.json", async () => {
    const original = await Backbone.fromPreset(`${GOLDEN_DIR}${model}`);
    const dir = tmp();
    await original.saveToPreset(dir);
    const config = JSON.parse(readFileSync(join(dir, "config.json"), "utf8"));
    expect(config).toMatchObject({
      module: (original.constructor as typeof GemmaBackbone).module,
      class_name: original.className,
      registered_name: `keras_hub>${original.className}`,
      config: original.getConfig(),
    });
    expect(Object.keys(config.config)).not.toContain("query_pre_attn_scalar");
    const metadata = JSON.parse(readFileSync(join(dir, "metadata.json"), "utf8"));
    expect(metadata.parameter_count).toBe(original.countParams());
    expect(metadata.date_saved).toMatch(/^\d{4}-\d\d-\d\d@\d\d:\d\d:\d\d$/);
    const weights = readSafetensors(readFileSync(join(dir, "model.safetensors"))).tensors;
    expect([...weights.keys()].sort()).toEqual(original.variables().map((v) => v.path).sort());

    const reloaded = await Backbone.fromPreset(dir);
    expect(reloaded.constructor).toBe(original.constructor);
    expect(maxAbsDiff(await run(reloaded, model), await run(original, model))).toBe(0);
  });
});

describe("KerasHub config.json variants", () => {
  it("accepts keras_nlp> registered names, legacy keys and a serialised dtype policy", async () => {
    const dir = tmp();
    await (await Backbone.fromPreset(`${GOLDEN_DIR}roberta`)).saveToPreset(dir);
    const config = JSON.parse(readFileSync(join(dir, "config.json"), "utf8"));
    config.registered_name = "keras_nlp>RobertaBackbone";
    config.module = "keras_nlp.src.models.roberta.roberta_backbone";
    config.assets = [];
    config.weights = "model.weights.h5";
    config.config.dtype = { module: "keras", class_name: "DTypePolicy", config: { name: "bfloat16" }, registered_name: null };
    writeFileSync(join(dir, "config.json"), JSON.stringify(config));
    const loaded = await RobertaBackbone.fromPreset(dir);
    expect(loaded.dtype).toBe("bfloat16");
    expect(loaded.tokenEmbedding.dtype).toBe("bfloat16");
  });

  it("fails clearly on a broken model.weights.h5, a missing weights file or a missing config", async () => {
    const small = tmp();
    const tiny = await Backbone.fromPreset(`${GOLDEN_DIR}distilbert`);
    await tiny.saveToPreset(small);
    const h5 = tmp();
    cpSync(join(small, "config.json"), join(h5, "config.json"));
    writeFileSync(join(h5, "model.weights.h5"), "");
    await expect(Backbone.fromPreset(h5)).rejects.toThrow(/model.weights.h5 is not an HDF5 file/);
    expect(await Backbone.fromPreset(h5, { loadWeights: false })).toBeDefined();
    const { rmSync } = await import("node:fs");
    rmSync(join(h5, "model.weights.h5"));
    await expect(Backbone.fromPreset(h5)).rejects.toThrow(/has no model.safetensors or model.weights.h5/);
    await expect(Backbone.fromPreset(tmp())).rejects.toThrow(/has no config.json/);
    const neither = tmp();
    writeFileSync(join(neither, "config.json"), "{}");
    await expect(Backbone.fromPreset(neither)).rejects.toThrow(/neither a KerasHub config/);
    writeFileSync(join(neither, "config.json"), "{not json");
    await expect(Backbone.fromPreset(neither)).rejects.toThrow(/config.json is not a valid JSON object/);
    writeFileSync(join(neither, "config.json"), JSON.stringify({ model_type: "bert" }));
    await expect(Backbone.fromPreset(neither)).rejects.toThrow(/model_type "bert" is not supported \(supported: gemma, gemma2, distilbert, roberta, xlm-roberta\)/);
  });
});

describe("dtype", () => {
  it("keeps float16 / bfloat16 weights 16-bit and computes in float32 close to the float32 model", async () => {
    const reference = await run(await Backbone.fromPreset(`${GOLDEN_DIR}gemma2`), "gemma2");
    for (const dtype of ["float16", "bfloat16"] as const) {
      const backbone = await Backbone.fromPreset(`${GOLDEN_DIR}gemma2`, { dtype });
      expect(backbone.dtype).toBe(dtype);
      expect(backbone.tokenEmbedding.data).toBeInstanceOf(Uint16Array);
      const out = await run(backbone, "gemma2");
      expect(maxAbsDiff(out, reference, loadGolden("gemma2").validLengths)).toBeLessThan(dtype === "float16" ? 0.02 : 0.2);
      // Saved in the storage dtype, reloaded as such.
      const dir = tmp();
      await backbone.saveToPreset(dir);
      const stored = readSafetensors(readFileSync(join(dir, "model.safetensors"))).tensors;
      expect(stored.get("token_embedding/embeddings")!.dtype).toBe(dtype);
      const reloaded = await Backbone.fromPreset(dir);
      expect(reloaded.dtype).toBe(dtype);
      expect(maxAbsDiff(await run(reloaded, "gemma2"), out)).toBe(0);
    }
  });

  it("upcasts a bfloat16 HF checkpoint to float32 by default", async () => {
    const dir = tmp();
    cpSync(`${GOLDEN_DIR}distilbert`, dir, { recursive: true });
    const { tensors } = readSafetensors(readFileSync(join(dir, "model.safetensors")));
    const { castTensor } = await import("../shared/node/index.js");
    writeFileSync(join(dir, "model.safetensors"), writeSafetensors([...tensors].map(([k, t]) => [k, castTensor(t, "bfloat16")])));
    const backbone = await Backbone.fromPreset(dir);
    expect(backbone.dtype).toBe("float32");
    expect(backbone.tokenEmbedding.dtype).toBe("float32");
    const golden = loadGolden("distilbert");
    expect(maxAbsDiff(await run(backbone, "distilbert"), golden.lastHiddenState, golden.validLengths)).toBeLessThan(0.1);
  });
});

describe("HF checkpoint layouts", () => {
  it("reads task-prefixed keys (distilbert., roberta., model.) and sharded checkpoints", async () => {
    for (const [model, prefix] of [["distilbert", "distilbert."], ["roberta", "roberta."], ["gemma", "model."]] as const) {
      const dir = tmp();
      cpSync(join(GOLDEN_DIR, model, "config.json"), join(dir, "config.json"));
      const { tensors } = readSafetensors(readFileSync(join(GOLDEN_DIR, model, "model.safetensors")));
      const entries = [...tensors].map(([k, t]) => [prefix + k, t] as [string, Tensor]);
      // Two shards plus an index, as transformers writes big checkpoints.
      const half = Math.ceil(entries.length / 2);
      const shards = [entries.slice(0, half), entries.slice(half)];
      const weightMap: Record<string, string> = {};
      shards.forEach((shard, i) => {
        const file = `model-0000${i + 1}-of-00002.safetensors`;
        writeFileSync(join(dir, file), writeSafetensors(shard));
        for (const [k] of shard) weightMap[k] = file;
      });
      writeFileSync(join(dir, "model.safetensors.index.json"), JSON.stringify({ metadata: {}, weight_map: weightMap }));
      const golden = loadGolden(model);
      const out = await run(await Backbone.fromPreset(dir), model);
      expect(maxAbsDiff(out, golden.lastHiddenState, golden.validLengths), model).toBeLessThanOrEqual(1e-4);
    }
  });

  it("names what is missing or unsupported", async () => {
    const dir = tmp();
    const config = JSON.parse(readFileSync(join(GOLDEN_DIR, "gemma", "config.json"), "utf8"));
    writeFileSync(join(dir, "config.json"), JSON.stringify({ ...config, rope_theta: 500000 }));
    await expect(Backbone.fromPreset(dir)).rejects.toThrow(/rope_theta=500000 is not supported/);
    writeFileSync(join(dir, "config.json"), JSON.stringify(config));
    await expect(Backbone.fromPreset(dir)).rejects.toThrow(/has no model.safetensors/);
    const { tensors } = readSafetensors(readFileSync(join(GOLDEN_DIR, "gemma", "model.safetensors")));
    tensors.delete("norm.weight");
    writeFileSync(join(dir, "model.safetensors"), writeSafetensors(tensors));
    await expect(Backbone.fromPreset(dir)).rejects.toThrow(/checkpoint has no tensor "norm.weight"/);
  });

  it("honours query_pre_attn_scalar that the KerasHub flag cannot express", async () => {
    const dir = tmp();
    cpSync(`${GOLDEN_DIR}gemma2`, dir, { recursive: true });
    const config = JSON.parse(readFileSync(join(dir, "config.json"), "utf8"));
    writeFileSync(join(dir, "config.json"), JSON.stringify({ ...config, query_pre_attn_scalar: 12 }));
    const backbone = (await Backbone.fromPreset(dir)) as GemmaBackbone;
    expect(backbone.queryScale).toBeCloseTo(12 ** -0.5, 12);
    expect(backbone.getConfig().query_pre_attn_scalar).toBe(12);
    // Query scaling matters: the output differs from the head_dim-scaled golden model.
    const golden = loadGolden("gemma2");
    expect(maxAbsDiff(await run(backbone, "gemma2"), golden.lastHiddenState, golden.validLengths)).toBeGreaterThan(1e-3);
  });
});

describe("random initialisation", () => {
  it("is seeded, reproducible and follows KerasHub initialisers", () => {
    const make = (seed: number) => new GemmaBackbone({ vocabularySize: 1000, numLayers: 1, numQueryHeads: 2, numKeyValueHeads: 1, hiddenDim: 64, intermediateDim: 128, headDim: 32, seed });
    const a = make(1);
    expect(a.tokenEmbedding.data).toEqual(make(1).tokenEmbedding.data);
    expect(a.tokenEmbedding.data).not.toEqual(make(2).tokenEmbedding.data);
    const std = (t: Tensor) => Math.sqrt(Array.from(t.data as Float32Array).reduce((s, x) => s + x * x, 0) / t.data.length);
    expect(std(a.tokenEmbedding)).toBeCloseTo(Math.sqrt(1 / 1000), 3); // VarianceScaling fan_in, normal
    const q = a.weight("decoder_block_0/attention/query/kernel").data as Float32Array;
    const limit = Math.sqrt(6 / (2 * 64 + 2 * 32)); // glorot over Keras fans of (2, 64, 32)
    expect(Math.max(...q.map(Math.abs))).toBeLessThanOrEqual(limit);
    expect(Math.max(...q.map(Math.abs))).toBeGreaterThan(limit * 0.95);
    expect(a.weight("decoder_block_0/pre_attention_norm/scale").data.every((x) => x === 0)).toBe(true);
  });
});
