/** Built-in presets (spec §5), preset resolution and its errors. */
import { describe, expect, it } from "vitest";
import {
  Backbone,
  DistilBertBackbone,
  GemmaBackbone,
  MemoryPresetStore,
  PresetNotFoundError,
  RobertaBackbone,
  XLMRobertaBackbone,
  formatParams,
  parsePresetHandle,
} from "../shared/node/index.js";
import { GOLDEN_DIR } from "./helpers/golden.js";

const SEED_TABLE: Record<string, [string, string]> = {
  // name: [class, parameters as printed in the KerasHub preset tables]
  gemma_2b_en: ["GemmaBackbone", "2.51B"],
  gemma_7b_en: ["GemmaBackbone", "8.54B"],
  gemma2_2b_en: ["GemmaBackbone", "2.61B"],
  gemma2_9b_en: ["GemmaBackbone", "9.24B"],
  gemma2_27b_en: ["GemmaBackbone", "27.23B"],
  shieldgemma_2b_en: ["GemmaBackbone", "2.61B"],
  code_gemma_7b_en: ["GemmaBackbone", "8.54B"],
  distil_bert_base_en_uncased: ["DistilBertBackbone", "66.36M"],
  distil_bert_base_en: ["DistilBertBackbone", "65.19M"],
  distil_bert_base_multi: ["DistilBertBackbone", "134.73M"],
  roberta_base_en: ["RobertaBackbone", "124.05M"],
  roberta_large_en: ["RobertaBackbone", "354.31M"],
  xlm_roberta_base_multi: ["XLMRobertaBackbone", "277.45M"],
  xlm_roberta_large_multi: ["XLMRobertaBackbone", "558.84M"],
};

describe("Backbone.presets", () => {
  const all = Backbone.presets;

  it("lists every Gemma, Gemma 2, CodeGemma, ShieldGemma, DistilBERT, RoBERTa and XLM-R preset", () => {
    expect(Object.keys(all)).toHaveLength(27);
    for (const [name, [className, parameters]] of Object.entries(SEED_TABLE)) {
      expect(all[name], name).toMatchObject({ className, parameters });
    }
  });

  it("computes parameter counts from the config that equal KerasHub's exactly", () => {
    for (const p of Object.values(all)) {
      expect(formatParams(p.params), p.name).toBe(p.parameters);
    }
    const countOf = (name: string) => Object.values(all).find((p) => p.name === name)!;
    expect(countOf("gemma_2b_en").params).toBe(2_506_172_416);
    expect(countOf("gemma2_27b_en").params).toBe(27_227_128_320);
    expect(countOf("distil_bert_base_en_uncased").params).toBe(66_362_880);
  });

  it("filters by class: subclasses list their own family", () => {
    expect(Object.keys(GemmaBackbone.presets)).toHaveLength(20);
    expect(Object.keys(DistilBertBackbone.presets)).toEqual(["distil_bert_base_en_uncased", "distil_bert_base_en", "distil_bert_base_multi"]);
    // XLM-R is a RoBERTa subclass, as in KerasHub.
    expect(Object.keys(RobertaBackbone.presets)).toHaveLength(4);
    expect(Object.keys(XLMRobertaBackbone.presets)).toEqual(["xlm_roberta_base_multi", "xlm_roberta_large_multi"]);
  });

  it("carries descriptions and Kaggle handles", () => {
    expect(all.gemma_2b_en.description).toBe("2 billion parameter, 18-layer, base Gemma model.");
    expect(all.gemma_2b_en.kaggleHandle).toBe("kaggle://keras/gemma/keras/gemma_2b_en/2");
    expect(all.shieldgemma_9b_en.kaggleHandle).toBe("kaggle://google/shieldgemma/keras/shieldgemma_9b_en/1");
  });
});

describe("fromPreset", () => {
  const store = new MemoryPresetStore();

  it("builds a built-in preset with random weights without fetching anything", async () => {
    const backbone = await Backbone.fromPreset("gemma2_2b_en", { loadWeights: false, store });
    expect(backbone).toBeInstanceOf(GemmaBackbone);
    expect((backbone as GemmaBackbone).config).toMatchObject({ numLayers: 26, numKeyValueHeads: 4, attentionLogitSoftCap: 50 });
    expect(backbone.countParams()).toBe(2_614_341_888);
  });

  it("returns the right subclass from the base class and rejects another family on a subclass", async () => {
    expect(await Backbone.fromPreset(`${GOLDEN_DIR}roberta`)).toBeInstanceOf(RobertaBackbone);
    expect(await Backbone.fromPreset("xlm_roberta_base_multi", { loadWeights: false })).toBeInstanceOf(XLMRobertaBackbone);
    await expect(GemmaBackbone.fromPreset(`${GOLDEN_DIR}distilbert`)).rejects.toThrow(/is a DistilBertBackbone, not a GemmaBackbone/);
    await expect(DistilBertBackbone.fromPreset("gemma_2b_en", { loadWeights: false })).rejects.toThrow(/is a GemmaBackbone, not a DistilBertBackbone/);
    // A subclass accepts its own subclasses' presets (XLM-R is a RoBERTa).
    expect(await RobertaBackbone.fromPreset("xlm_roberta_base_multi", { loadWeights: false })).toBeInstanceOf(XLMRobertaBackbone);
  });

  it("fails clearly for built-in, hf:// and kaggle:// presets that are not in the store", async () => {
    await expect(Backbone.fromPreset("gemma_2b_en", { store })).rejects.toThrow(PresetNotFoundError);
    await expect(Backbone.fromPreset("gemma_2b_en", { store })).rejects.toThrow(/not installed in in-memory preset store .*"kaggle\/keras\/gemma\/keras\/gemma_2b_en\/2"/);
    // An explicit store is where the preset must be: nothing is downloaded unless asked (hub-*.test.ts download).
    await expect(Backbone.fromPreset("hf://google/gemma-2b", { store })).rejects.toThrow(/"hf:\/\/google\/gemma-2b" is not installed in in-memory preset store \(looked under "hf\/google\/gemma-2b"\)\. Downloading is off/);
    await expect(Backbone.fromPreset("kaggle://keras/gemma/keras/gemma_2b_en/2", { store })).rejects.toThrow(/preset:install -- kaggle:\/\/keras\/gemma\/keras\/gemma_2b_en\/2/);
    await expect(Backbone.fromPreset("kaggle://keras/gemma/keras/gemma_2b_en/v2", { store })).rejects.toThrow(/invalid Kaggle handle/);
    await expect(Backbone.fromPreset("hf://org/model@../../etc", { store })).rejects.toThrow(/invalid Hugging Face handle/);
    await expect(Backbone.fromPreset("kaggle://keras/gemma", { store })).rejects.toThrow(/invalid Kaggle handle/);
    await expect(Backbone.fromPreset("hf://justonepart", { store })).rejects.toThrow(/invalid Hugging Face handle/);
    await expect(Backbone.fromPreset("gs://bucket/x", { store })).rejects.toThrow(/unsupported preset scheme/);
    await expect(Backbone.fromPreset("no_such_preset")).rejects.toThrow(/unknown preset "no_such_preset"/);
    await expect(Backbone.fromPreset("/nonexistent/dir/x")).rejects.toThrow(/has no config.json/);
  });

  it("resolves hf:// and kaggle:// handles through the store interface", async () => {
    const source = await Backbone.fromPreset(`${GOLDEN_DIR}gemma`);
    await source.saveToPreset(store.open("hf/acme/tiny-gemma"));
    await source.saveToPreset(store.open("kaggle/acme/gemma/keras/tiny/3"));
    expect(await Backbone.fromPreset("hf://acme/tiny-gemma", { store })).toBeInstanceOf(GemmaBackbone);
    expect(await Backbone.fromPreset("kaggle://acme/gemma/keras/tiny/3", { store })).toBeInstanceOf(GemmaBackbone);
  });

  it("finds an installed built-in preset under its name or its Kaggle handle", async () => {
    const tiny = new DistilBertBackbone({ vocabularySize: 10, numLayers: 1, numHeads: 2, hiddenDim: 4, intermediateDim: 8 });
    await tiny.saveToPreset(store.open("kaggle/keras/distil_bert/keras/distil_bert_base_en/2"));
    const loaded = await Backbone.fromPreset("distil_bert_base_en", { store });
    expect(loaded.countParams()).toBe(tiny.countParams());
  });
});

describe("parsePresetHandle", () => {
  const builtins = new Map(Object.values(Backbone.presets).map((p) => [p.name, p]));
  it("parses each kind", () => {
    expect(parsePresetHandle("gemma_2b_en", builtins).kind).toBe("builtin");
    expect(parsePresetHandle("hf://google/gemma-2b", builtins)).toEqual({ kind: "hf", handle: "hf://google/gemma-2b", repo: "google/gemma-2b" });
    expect(parsePresetHandle("hf://google/gemma-2b@refs/pr/3", builtins)).toMatchObject({ repo: "google/gemma-2b", revision: "refs/pr/3" });
    expect(parsePresetHandle("kaggle://keras/gemma/keras/gemma_2b_en", builtins)).toMatchObject({ kind: "kaggle", path: "keras/gemma/keras/gemma_2b_en" });
    expect(parsePresetHandle("./my/preset", builtins)).toEqual({ kind: "path", path: "./my/preset" });
    expect(() => parsePresetHandle("", builtins)).toThrow(/must not be empty/);
  });
});
