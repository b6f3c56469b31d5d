/**
 * The post-LN transformer encoder shared by DistilBERT and RoBERTa/XLM-R (KerasHub `TransformerEncoder`
 * with `normalize_first=False`, spec §4): token + learned position embeddings, LayerNorm, then blocks of
 * key-padding-masked multi-head attention and an exact-GELU feed-forward network, each followed by
 * residual + LayerNorm. The families differ only in names, LayerNorm epsilon and presets.
 */
import { z } from "zod";
import { Backbone, type BackboneArgs, type GraphInputs, type GraphResult, type VariableSpec } from "../../backbone/backbone.js";
import { parseConfig } from "../../backbone/config.js";
import type { GraphBuilder } from "../../graph/graph-builder.js";
import { additiveMask, attention, dense, embeddingLookup, gelu, keyPaddingMask, layerNorm, seqLength, splitLast } from "../../graph/layers.js";
import { concatLast, reshape } from "../../tensor/ops.js";
import type { Tensor } from "../../tensor/tensor.js";
import type { Initializer } from "../../tensor/random.js";
import type { LoraTarget } from "../../lora/adapter.js";

const positiveInt = z.number().int().positive();

const encoderConfigSchema = z
  .object({
    vocabularySize: positiveInt,
    numLayers: positiveInt,
    numHeads: positiveInt,
    hiddenDim: positiveInt,
    intermediateDim: positiveInt,
    dropout: z.number().min(0).lt(1).default(0.1),
    maxSequenceLength: positiveInt.default(512),
  })
  .strict()
  .refine((c) => c.hiddenDim % c.numHeads === 0, {
    message: "hiddenDim must be divisible by numHeads",
    path: ["hiddenDim"],
  });

export type EncoderConfig = z.output<typeof encoderConfigSchema>;

/** A contiguous piece of the encoder's forward pass (see `EncoderBackbone.buildStage`). */
export interface EncoderStage {
  /** Start with the embeddings, from token ids or from token vectors; null: start from `hidden`. */
  embed: "ids" | "vectors" | null;
  /** Blocks [from, to). */
  blocks: [number, number];
  /** Take LoRA adapters as inputs (for the stage's blocks). */
  lora: boolean;
}
export type EncoderArgs = z.input<typeof encoderConfigSchema> & BackboneArgs;

const KERNEL_INIT: Initializer = { kind: "truncated_normal", stddev: 0.02 };
const ZEROS: Initializer = { kind: "zeros" };
const ONES: Initializer = { kind: "ones" };

export abstract class EncoderBackbone extends Backbone {
  readonly config: EncoderConfig;
  /** Name of the embedding layer: DistilBERT `token_and_position_embedding`, RoBERTa `embeddings`. */
  protected abstract readonly embeddingName: string;
  abstract readonly layerNormEpsilon: number;
  /** Hugging Face module of a layer's query/value projection (for PEFT adapters). */
  protected abstract hfAttentionModule(layer: number, projection: "query" | "value"): string;

  protected constructor(args: EncoderArgs, defaultName: string) {
    super(args, defaultName);
    const { dtype: _d, name: _n, trainable: _t, seed: _s, ...config } = args;
    this.config = parseConfig((this.constructor as typeof Backbone).className, encoderConfigSchema, config);
  }

  get hiddenDim() {
    return this.config.hiddenDim;
  }
  get vocabularySize() {
    return this.config.vocabularySize;
  }
  get maxSequenceLength() {
    return this.config.maxSequenceLength;
  }
  get tokenEmbeddingPath(): string {
    return `${this.embeddingName}/token_embedding/embeddings`;
  }
  get tokenEmbedding(): Tensor {
    return this.weight(this.tokenEmbeddingPath);
  }

  variables(): VariableSpec[] {
    const { vocabularySize: V, numLayers, numHeads, hiddenDim: H, intermediateDim: I, maxSequenceLength: P } = this.config;
    const dh = H / numHeads;
    const e = this.embeddingName;
    const vars: VariableSpec[] = [
      { path: `${e}/token_embedding/embeddings`, shape: [V, H], init: KERNEL_INIT },
      { path: `${e}/position_embedding/embeddings`, shape: [P, H], init: KERNEL_INIT },
      { path: "embeddings_layer_norm/gamma", shape: [H], init: ONES },
      { path: "embeddings_layer_norm/beta", shape: [H], init: ZEROS },
    ];
    for (let i = 0; i < numLayers; i++) {
      const l = `transformer_layer_${i}`;
      for (const proj of ["query", "key", "value"]) {
        vars.push({ path: `${l}/self_attention_layer/${proj}/kernel`, shape: [H, numHeads, dh], init: KERNEL_INIT });
        vars.push({ path: `${l}/self_attention_layer/${proj}/bias`, shape: [numHeads, dh], init: ZEROS });
      }
      vars.push(
        { path: `${l}/self_attention_layer/attention_output/kernel`, shape: [numHeads, dh, H], init: KERNEL_INIT },
        { path: `${l}/self_attention_layer/attention_output/bias`, shape: [H], init: ZEROS },
        { path: `${l}/self_attention_layer_norm/gamma`, shape: [H], init: ONES },
        { path: `${l}/self_attention_layer_norm/beta`, shape: [H], init: ZEROS },
        { path: `${l}/feedforward_layer_norm/gamma`, shape: [H], init: ONES },
        { path: `${l}/feedforward_layer_norm/beta`, shape: [H], init: ZEROS },
        { path: `${l}/feedforward_intermediate_dense/kernel`, shape: [H, I], init: KERNEL_INIT },
        { path: `${l}/feedforward_intermediate_dense/bias`, shape: [I], init: ZEROS },
        { path: `${l}/feedforward_output_dense/kernel`, shape: [I, H], init: KERNEL_INIT },
        { path: `${l}/feedforward_output_dense/bias`, shape: [H], init: ZEROS },
      );
    }
    return vars;
  }

  loraTargets(): LoraTarget[] {
    const { numLayers, numHeads, hiddenDim: H } = this.config;
    const headDim = H / numHeads;
    return Array.from({ length: numLayers }, (_, layer) =>
      (["query", "value"] as const).map((projection) => ({
        kernelPath: `transformer_layer_${layer}/self_attention_layer/${projection}/kernel`,
        projection, layer, kernelShape: [H, numHeads, headDim], heads: numHeads, headDim, inputDim: H,
        headsFirst: false, hfModule: this.hfAttentionModule(layer, projection),
      })),
    ).flat();
  }

  /** [embeddings(0), position(1), token(2), layer norm(3)], then 10 entries per encoder: value at 7, query at 9. */
  kerasLoraIndex(target: LoraTarget): number {
    return 4 + 10 * target.layer + (target.projection === "value" ? 7 : 9);
  }

  kerasH5Paths(): Map<string, string[]> {
    // The embedding layer is a TokenAndPositionEmbedding whatever its name (RoBERTa calls it `embeddings`).
    const emb = "layers/token_and_position_embedding";
    const paths = new Map<string, string[]>([
      [`${this.embeddingName}/token_embedding/embeddings`, [`${emb}/token_embedding/vars/0`]],
      [`${this.embeddingName}/position_embedding/embeddings`, [`${emb}/position_embedding/vars/0`]],
      ["embeddings_layer_norm/gamma", ["layers/layer_normalization/vars/0"]],
      ["embeddings_layer_norm/beta", ["layers/layer_normalization/vars/1"]],
    ]);
    const sublayer: Record<string, string> = {
      "self_attention_layer/query": "_self_attention_layer/query_dense",
      "self_attention_layer/key": "_self_attention_layer/key_dense",
      "self_attention_layer/value": "_self_attention_layer/value_dense",
      "self_attention_layer/attention_output": "_self_attention_layer/output_dense",
      self_attention_layer_norm: "_self_attention_layer_norm",
      feedforward_layer_norm: "_feedforward_layer_norm",
      feedforward_intermediate_dense: "_feedforward_intermediate_dense",
      feedforward_output_dense: "_feedforward_output_dense",
    };
    for (let i = 0; i < this.config.numLayers; i++) {
      const group = `layers/transformer_encoder${i ? `_${i}` : ""}`;
      for (const [name, attr] of Object.entries(sublayer)) {
        // Older Keras exposes MHA sublayers only as private attributes (`_query_dense`).
        const candidates = [attr, attr.replace(/\/(\w+_dense)$/, "/_$1")].filter((a, k, all) => all.indexOf(a) === k);
        const isNorm = name.endsWith("_norm");
        for (const [slot, variable] of (isNorm ? ["gamma", "beta"] : ["kernel", "bias"]).entries()) {
          paths.set(`transformer_layer_${i}/${name}/${variable}`, candidates.map((c) => `${group}/${c}/vars/${slot}`));
        }
      }
    }
    return paths;
  }

  protected buildGraph(g: GraphBuilder, inputs: GraphInputs): GraphResult {
    let x = this.embed(g, { tokenIds: inputs.tokenIds });
    const hiddenStates = [x];
    const mask = additiveMask(g, keyPaddingMask(g, inputs.paddingMask));
    for (let i = 0; i < this.config.numLayers; i++) {
      x = this.block(g, x, mask, i, inputs);
      hiddenStates.push(x);
    }
    return { sequenceOutput: x, hiddenStates };
  }

  /**
   * One stage of the forward pass as its own graph (edge artifacts and isolate pipelines): the embeddings, from
   * `token_ids` or from `token_vectors` [B, T, H] looked up outside the graph, and/or blocks [from, to) on
   * `hidden`. Inputs: that, `padding_mask` and, with LoRA, `adapter_ids` plus the stage's adapter factors; output
   * `hidden_out` [B, T, H] (the next stage's `hidden`).
   */
  buildStage(g: GraphBuilder, stage: EncoderStage): void {
    const H = this.config.hiddenDim;
    const paddingMask = g.input("padding_mask", "int32", ["batch", "sequence"]);
    const adapterIds = stage.lora ? g.input("adapter_ids", "int32", ["batch"]) : undefined;
    let x: string;
    if (stage.embed === "ids") x = this.embed(g, { tokenIds: g.input("token_ids", "int32", ["batch", "sequence"]) });
    else if (stage.embed === "vectors") x = this.embed(g, { tokenVectors: g.input("token_vectors", "float32", ["batch", "sequence", H]) });
    else x = g.input("hidden", "float32", ["batch", "sequence", H]);
    const [from, to] = stage.blocks;
    if (to > from) {
      const mask = additiveMask(g, keyPaddingMask(g, paddingMask));
      for (let i = from; i < to; i++) x = this.block(g, x, mask, i, { tokenIds: "", paddingMask, adapterIds });
    }
    g.output(x, "hidden_out", "float32", ["batch", "sequence", H]);
  }

  /** Token + position embeddings and their LayerNorm. Token vectors may come from outside (an edge lookup). */
  private embed(g: GraphBuilder, tokens: { tokenIds: string } | { tokenVectors: string }): string {
    const w = (path: string) => this.weight(path);
    const x = g.scope(this.embeddingName, () => {
      const vectors = "tokenIds" in tokens ? embeddingLookup(g, this.tokenEmbedding, tokens.tokenIds, "token_embedding") : tokens.tokenVectors;
      // Positions 0..T-1: slice the table rather than gather (KerasHub `PositionEmbedding`).
      const table = g.floatWeight("position_embedding", w(`${this.embeddingName}/position_embedding/embeddings`));
      const t = g.op("Unsqueeze", [seqLength(g, vectors), g.constInt64([0])]);
      const positions = g.op("Slice", [table, g.constInt64([0]), t, g.constInt64([0])]);
      return g.op("Add", [vectors, positions]);
    });
    return g.scope("embeddings_layer_norm", () => layerNorm(g, x, w("embeddings_layer_norm/gamma"), w("embeddings_layer_norm/beta"), this.layerNormEpsilon));
  }

  /** Encoder block `i`: self-attention, residual + LayerNorm, exact-GELU feed-forward, residual + LayerNorm. */
  private block(g: GraphBuilder, x: string, mask: string, i: number, inputs: GraphInputs): string {
    const { numHeads, hiddenDim: H } = this.config;
    const eps = this.layerNormEpsilon;
    const headDim = H / numHeads;
    const l = `transformer_layer_${i}`;
    const w = (path: string) => this.weight(path);
    return g.scope(l, () => {
      const a = (name: string) => w(`${l}/self_attention_layer/${name}`);
      const attended = g.scope("self_attention_layer", () => {
        // One [H, 3H] projection instead of three.
        const kernel = concatLast(["query", "key", "value"].map((p) => reshape(a(`${p}/kernel`), [H, H])));
        const bias = concatLast(["query", "key", "value"].map((p) => reshape(a(`${p}/bias`), [H])));
        const [q0, k, v0] = splitLast(g, dense(g, x, kernel, bias, "attention", "qkv"), [H, H, H]);
        const q = this.adaptProjection(g, inputs, x, q0, `${l}/self_attention_layer/query/kernel`);
        const v = this.adaptProjection(g, inputs, x, v0, `${l}/self_attention_layer/value/kernel`);
        const ctx = attention(g, {
          q, k, v, numQueryHeads: numHeads, numKeyValueHeads: numHeads, headDim,
          queryScale: 1 / Math.sqrt(headDim), mask,
        });
        return dense(g, ctx, reshape(a("attention_output/kernel"), [H, H]), a("attention_output/bias"), "attention", "attention_output");
      });
      const h = layerNorm(g, g.op("Add", [x, attended]), w(`${l}/self_attention_layer_norm/gamma`), w(`${l}/self_attention_layer_norm/beta`), eps);
      const inner = gelu(g, dense(g, h, w(`${l}/feedforward_intermediate_dense/kernel`), w(`${l}/feedforward_intermediate_dense/bias`), "ffn", "feedforward_intermediate_dense"), "none");
      const ffn = dense(g, inner, w(`${l}/feedforward_output_dense/kernel`), w(`${l}/feedforward_output_dense/bias`), "ffn", "feedforward_output_dense");
      return layerNorm(g, g.op("Add", [h, ffn]), w(`${l}/feedforward_layer_norm/gamma`), w(`${l}/feedforward_layer_norm/beta`), eps);
    });
  }
}
