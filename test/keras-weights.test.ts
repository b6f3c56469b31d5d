/**
 * KerasHub `model.weights.h5` presets (spec §2.6). The files are written here with the group/dataset paths
 * spelled out as the spec gives them (class-name groups with per-class counters, `vars/<i>` by position),
 * not with the reader's own mapping, then loaded through `fromPreset` and checked against Hugging Face.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { Backbone, nodeRuntime, tokenBatch, type Tensor } from "../shared/node/index.js";
import { GOLDEN_DIR, loadGolden, maxAbsDiff, type GoldenModel } from "./helpers/golden.js";
import { encoderLayout, gemmaLayout, writeKerasPreset } from "./helpers/keras-presets.js";

async function forward(backbone: Backbone, model: GoldenModel): Promise<Tensor> {
  const golden = loadGolden(model);
  return (await (await backbone.createSession(nodeRuntime({ threads: 1 }))).forward(tokenBatch(golden.inputIds, golden.attentionMask))).sequenceOutput;
}

describe("KerasHub model.weights.h5 presets", () => {
  it.each([
    ["gemma", gemmaLayout(2, false), ""],
    ["gemma2", gemmaLayout(4, true), "layers/gemma_backbone/"], // nested in a task file
    ["distilbert", encoderLayout("token_and_position_embedding", 2, "query_dense"), ""],
    ["roberta", encoderLayout("embeddings", 2, "_query_dense"), ""], // older Keras: private MHA attributes
  ] as const)("%s: loads and matches Hugging Face", async (model, layout, prefix) => {
    const dir = await writeKerasPreset(model, layout, prefix);
    const backbone = await Backbone.fromPreset(dir);
    const golden = loadGolden(model);
    expect(maxAbsDiff(await forward(backbone, model), golden.lastHiddenState, golden.validLengths)).toBeLessThanOrEqual(1e-4);
  });

  it("names missing variables and rejects non-HDF5 files", async () => {
    const layout = gemmaLayout(2, false);
    delete layout["decoder_block_1/ffw_linear/kernel"];
    await expect(Backbone.fromPreset(await writeKerasPreset("gemma", layout))).rejects.toThrow(/lacks 1 GemmaBackbone variable\(s\): decoder_block_1\/ffw_linear\/kernel \(layers\/gemma_decoder_block_1\/ffw_linear\/vars\/0\)/);
    const dir = await writeKerasPreset("gemma", gemmaLayout(2, false));
    writeFileSync(join(dir, "model.weights.h5"), readFileSync(join(GOLDEN_DIR, "gemma", "config.json")));
    await expect(Backbone.fromPreset(dir)).rejects.toThrow(/model.weights.h5 is not an HDF5 file/);
  });
});
