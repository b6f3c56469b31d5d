/**
 * Forward passes match Hugging Face transformers (fp32, eager) on tiny random checkpoints, loaded through
 * the same HF-directory `fromPreset` path a user's checkpoint takes, on both onnxruntime builds.
 */
import { describe, expect, it } from "vitest";
import { Backbone, GemmaBackbone, nodeRuntime, tiedLogits, tokenBatch, wasmRuntime } from "../shared/node/index.js";
import { GOLDEN_MODELS, loadGolden, maxAbsDiff } from "./helpers/golden.js";

const TOLERANCE = 1e-4;
const runtimes = [wasmRuntime(), nodeRuntime({ threads: 1 })];

describe.each(GOLDEN_MODELS)("golden %s", (model) => {
  const golden = loadGolden(model);

  it.each(runtimes.map((r) => [r.name, r] as const))("matches HF last_hidden_state and every hidden state on %s", async (_, runtime) => {
    const backbone = await Backbone.fromPreset(golden.dir);
    const session = await backbone.createSession(runtime, { hiddenStates: true });
    const { sequenceOutput, hiddenStates } = await session.forward(tokenBatch(golden.inputIds, golden.attentionMask));
    expect(sequenceOutput.shape).toEqual(golden.lastHiddenState.shape);
    expect(maxAbsDiff(sequenceOutput, golden.lastHiddenState, golden.validLengths)).toBeLessThanOrEqual(TOLERANCE);
    expect(hiddenStates).toHaveLength(golden.hiddenStates.length);
    hiddenStates!.forEach((h, i) => {
      expect(maxAbsDiff(h, golden.hiddenStates[i], golden.validLengths), `hidden_states.${i}`).toBeLessThanOrEqual(TOLERANCE);
    });
  });

  it("runs identically on onnxruntime-web (WASM) and onnxruntime-node", async () => {
    const backbone = await Backbone.fromPreset(golden.dir);
    const batch = tokenBatch(golden.inputIds, golden.attentionMask);
    const [web, node] = await Promise.all(runtimes.map(async (r) => (await (await backbone.createSession(r)).forward(batch)).sequenceOutput));
    expect(maxAbsDiff(web, node)).toBeLessThanOrEqual(1e-5);
  });
});

describe("tokenEmbedding as a tied LM head", () => {
  it.each(["gemma", "gemma2"] as const)("reproduces HF %s logits (with Gemma 2's final soft cap)", async (model) => {
    const golden = loadGolden(model);
    const backbone = await GemmaBackbone.fromPreset(golden.dir);
    const logits = tiedLogits(backbone.tokenEmbedding, golden.lastHiddenState, backbone.config.finalLogitSoftCap);
    expect(maxAbsDiff(logits, golden.logits!, golden.validLengths)).toBeLessThanOrEqual(TOLERANCE);
  });
});
