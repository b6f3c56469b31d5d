/** Constructor signatures, defaults, validation, and the KerasHub docs' custom-config examples. */
import { describe, expect, it } from "vitest";
import { ConfigError, DistilBertBackbone, GemmaBackbone, RobertaBackbone, tokenBatch, wasmRuntime } from "../shared/node/index.js";

// The KerasHub docs' `input_data` for the custom-config examples.
const SEED_INPUT = tokenBatch([Array(12).fill(1)], [[1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0]]);

describe("custom-config examples from the KerasHub docs", () => {
  it.each([
    ["GemmaBackbone", () => new GemmaBackbone({ vocabularySize: 50257, numLayers: 12, numQueryHeads: 12, numKeyValueHeads: 1, hiddenDim: 768, intermediateDim: 3072, headDim: 64 }), 768],
    ["DistilBertBackbone", () => new DistilBertBackbone({ vocabularySize: 30552, numLayers: 4, numHeads: 4, hiddenDim: 256, intermediateDim: 512, maxSequenceLength: 128 }), 256],
    ["RobertaBackbone", () => new RobertaBackbone({ vocabularySize: 50265, numLayers: 4, numHeads: 4, hiddenDim: 256, intermediateDim: 512, maxSequenceLength: 128 }), 256],
  ] as const)("%s gives [1, 12, hidden] finite outputs", async (_, make, hidden) => {
    const session = await make().createSession(wasmRuntime());
    const { sequenceOutput } = await session.forward(SEED_INPUT);
    expect(sequenceOutput.shape).toEqual([1, 12, hidden]);
    expect(sequenceOutput.data.every(Number.isFinite)).toBe(true);
  });
});

describe("defaults and get_config", () => {
  it("fills KerasHub defaults and serialises snake_case like get_config()", () => {
    const gemma = new GemmaBackbone({ vocabularySize: 20, numLayers: 2, numQueryHeads: 4, numKeyValueHeads: 1, hiddenDim: 16, intermediateDim: 32, headDim: 4 });
    expect(gemma.getConfig()).toEqual({
      name: "gemma_backbone", trainable: true,
      vocabulary_size: 20, num_layers: 2, num_query_heads: 4, num_key_value_heads: 1, hidden_dim: 16,
      intermediate_dim: 32, head_dim: 4, query_head_dim_normalize: true, use_post_ffw_norm: false,
      use_post_attention_norm: false, attention_logit_soft_cap: null, final_logit_soft_cap: null,
      use_sliding_window_attention: false, sliding_window_size: 4096, layer_norm_epsilon: 1e-6, dropout: 0,
    });
    const bert = new DistilBertBackbone({ vocabularySize: 10, numLayers: 1, numHeads: 2, hiddenDim: 4, intermediateDim: 8 });
    expect(bert.getConfig()).toEqual({
      name: "distil_bert_backbone", trainable: true, vocabulary_size: 10, num_layers: 1, num_heads: 2,
      hidden_dim: 4, intermediate_dim: 8, dropout: 0.1, max_sequence_length: 512,
    });
    expect(bert.dtype).toBe("float32");
  });

  it("counts 3216 parameters for KerasHub's tiny Gemma test config", () => {
    const tiny = new GemmaBackbone({ vocabularySize: 20, numLayers: 2, numQueryHeads: 4, numKeyValueHeads: 1, hiddenDim: 16, intermediateDim: 32, headDim: 4 });
    expect(tiny.countParams()).toBe(3216);
  });

  it("names every variable by its KerasHub path", () => {
    const gemma2 = new GemmaBackbone({ vocabularySize: 20, numLayers: 1, numQueryHeads: 2, numKeyValueHeads: 1, hiddenDim: 8, intermediateDim: 16, headDim: 4, usePostAttentionNorm: true, usePostFfwNorm: true });
    expect(gemma2.variables().map((v) => `${v.path} [${v.shape}]`)).toEqual([
      "token_embedding/embeddings [20,8]",
      "decoder_block_0/pre_attention_norm/scale [8]",
      "decoder_block_0/attention/query/kernel [2,8,4]",
      "decoder_block_0/attention/key/kernel [1,8,4]",
      "decoder_block_0/attention/value/kernel [1,8,4]",
      "decoder_block_0/attention/attention_output/kernel [2,4,8]",
      "decoder_block_0/post_attention_norm/scale [8]",
      "decoder_block_0/pre_ffw_norm/scale [8]",
      "decoder_block_0/post_ffw_norm/scale [8]",
      "decoder_block_0/ffw_gating/kernel [8,8]",
      "decoder_block_0/ffw_gating_2/kernel [8,8]",
      "decoder_block_0/ffw_linear/kernel [8,8]",
      "final_normalization/scale [8]",
    ]);
  });
});

describe("config validation", () => {
  const gemma = { vocabularySize: 20, numLayers: 2, numQueryHeads: 4, numKeyValueHeads: 2, hiddenDim: 16, intermediateDim: 32, headDim: 4 };
  const bert = { vocabularySize: 10, numLayers: 1, numHeads: 2, hiddenDim: 4, intermediateDim: 8 };

  it.each([
    [{ ...gemma, numKeyValueHeads: 3 }, /numQueryHeads \(4\) must be a multiple of numKeyValueHeads \(3\)/],
    [{ ...gemma, numLayers: 0 }, /numLayers: Too small/],
    [{ ...gemma, hiddenDim: -16 }, /hiddenDim: Too small/],
    [{ ...gemma, headDim: 2.5 }, /headDim: Invalid input: expected int/],
    [{ ...gemma, headDim: 3 }, /headDim must be even/],
    [{ ...gemma, intermediateDim: 31 }, /intermediateDim must be even/],
    [{ ...gemma, attentionLogitSoftCap: 0 }, /attentionLogitSoftCap: Too small/],
    [{ ...gemma, numHeads: 4 }, /Unrecognized key: "numHeads"/],
    [{ ...gemma, vocabularySize: undefined }, /vocabularySize: Invalid input/],
  ])("GemmaBackbone rejects %o", (args, message) => {
    expect(() => new GemmaBackbone(args as never)).toThrow(ConfigError);
    expect(() => new GemmaBackbone(args as never)).toThrow(message);
  });

  it.each([
    [{ ...bert, hiddenDim: 5 }, /hiddenDim must be divisible by numHeads/],
    [{ ...bert, dropout: 1.5 }, /dropout: Too big/],
    [{ ...bert, maxSequenceLength: 0 }, /maxSequenceLength: Too small/],
  ])("DistilBertBackbone and RobertaBackbone reject %o", (args, message) => {
    expect(() => new DistilBertBackbone(args as never)).toThrow(message);
    expect(() => new RobertaBackbone(args as never)).toThrow(/^invalid RobertaBackbone config: /);
  });
});
