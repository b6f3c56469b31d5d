/**
 * Gemma and Gemma 2 (KerasHub `GemmaBackbone`, spec §3): scaled token embeddings, decoder blocks of
 * (1+w) RMSNorm → RoPE attention with grouped KV heads (optional logit soft cap and sliding window on even
 * blocks) → GeGLU FFN, optional post norms, and a final RMSNorm. Causal + key-padding mask.
 */
import { z } from "zod";
import { Backbone, type BackboneArgs, type GraphInputs, type GraphResult, type VariableSpec } from "../../backbone/backbone.js";
import { parseConfig } from "../../backbone/config.js";
import type { GraphBuilder } from "../../graph/graph-builder.js";
import { additiveMask, attention, dense, embeddingLookup, gelu, keyPaddingMask, rmsNorm, rotaryEmbedding, seqLength, splitLast } from "../../graph/layers.js";
import { concatLast, onePlus, reshape, transpose } from "../../tensor/ops.js";
import type { Tensor } from "../../tensor/tensor.js";
import type { Initializer } from "../../tensor/random.js";
import type { LoraTarget } from "../../lora/adapter.js";

const positiveInt = z.number().int().positive();
const softCap = z.number().positive().nullable().default(null);

export const gemmaConfigSchema = z
  .object({
    vocabularySize: positiveInt,
    numLayers: positiveInt,
    numQueryHeads: positiveInt,
    numKeyValueHeads: positiveInt,
    hiddenDim: positiveInt,
    intermediateDim: positiveInt,
    headDim: positiveInt,
    queryHeadDimNormalize: z.boolean().default(true),
    usePostFfwNorm: z.boolean().default(false),
    usePostAttentionNorm: z.boolean().default(false),
    attentionLogitSoftCap: softCap,
    finalLogitSoftCap: softCap,
    useSlidingWindowAttention: z.boolean().default(false),
    slidingWindowSize: positiveInt.default(4096),
    layerNormEpsilon: z.number().positive().default(1e-6),
    dropout: z.number().min(0).lt(1).default(0),
    /**
     * Edgebone extension: HF Gemma 2's `query_pre_attn_scalar`, kept only when `queryHeadDimNormalize`
     * cannot express it (queries are then scaled by scalar^-0.5). Omitted from config.json when null.
     */
    queryPreAttnScalar: z.number().positive().nullable().default(null),
  })
  .strict()
  .superRefine((c, ctx) => {
    if (c.numQueryHeads % c.numKeyValueHeads !== 0) {
      ctx.addIssue({ code: "custom", path: ["numQueryHeads"], message: `numQueryHeads (${c.numQueryHeads}) must be a multiple of numKeyValueHeads (${c.numKeyValueHeads})` });
    }
    if (c.intermediateDim % 2 !== 0) {
      ctx.addIssue({ code: "custom", path: ["intermediateDim"], message: "intermediateDim must be even (each GeGLU branch is intermediateDim / 2 wide)" });
    }
    if (c.headDim % 2 !== 0) {
      ctx.addIssue({ code: "custom", path: ["headDim"], message: "headDim must be even (rotary embeddings rotate half-dims)" });
    }
  });

export type GemmaConfig = z.output<typeof gemmaConfigSchema>;
export type GemmaArgs = z.input<typeof gemmaConfigSchema> & BackboneArgs;

const GLOROT: Initializer = { kind: "glorot_uniform" };
const ZEROS: Initializer = { kind: "zeros" };

export class GemmaBackbone extends Backbone {
  static override readonly className: string = "GemmaBackbone";
  static override readonly module: string = "keras_hub.src.models.gemma.gemma_backbone";
  readonly config: GemmaConfig;

  constructor(args: GemmaArgs) {
    super(args, "gemma_backbone");
    const { dtype: _d, name: _n, trainable: _t, seed: _s, ...config } = args;
    this.config = parseConfig("GemmaBackbone", gemmaConfigSchema, config);
  }

  get hiddenDim() {
    return this.config.hiddenDim;
  }
  get vocabularySize() {
    return this.config.vocabularySize;
  }
  get maxSequenceLength() {
    return null; // RoPE has no position table
  }
  get tokenEmbedding(): Tensor {
    return this.weight("token_embedding/embeddings");
  }

  /** Multiplier applied to queries before the dot product. */
  get queryScale(): number {
    const c = this.config;
    if (c.queryPreAttnScalar !== null) return c.queryPreAttnScalar ** -0.5;
    // keras-hub 0.18 ignores query_head_dim_normalize=False (spec §3.4 quirk 2); we honour it, as the
    // reference Gemma 2 27B does (1/sqrt(hidden / heads) = 1/sqrt(144)).
    return c.queryHeadDimNormalize ? c.headDim ** -0.5 : Math.floor(c.hiddenDim / c.numQueryHeads) ** -0.5;
  }

  override getConfig(): Record<string, unknown> {
    const config = super.getConfig();
    if (config.query_pre_attn_scalar === null) delete config.query_pre_attn_scalar;
    return config;
  }

  variables(): VariableSpec[] {
    const c = this.config;
    const { hiddenDim: H, headDim: hd, numQueryHeads: nq, numKeyValueHeads: nkv } = c;
    const ffw = c.intermediateDim / 2;
    const vars: VariableSpec[] = [
      { path: "token_embedding/embeddings", shape: [c.vocabularySize, H], init: { kind: "variance_scaling_fan_in_normal", scale: 1 } },
    ];
    for (let i = 0; i < c.numLayers; i++) {
      const b = `decoder_block_${i}`;
      vars.push(
        { path: `${b}/pre_attention_norm/scale`, shape: [H], init: ZEROS },
        { path: `${b}/attention/query/kernel`, shape: [nq, H, hd], init: GLOROT },
        { path: `${b}/attention/key/kernel`, shape: [nkv, H, hd], init: GLOROT },
        { path: `${b}/attention/value/kernel`, shape: [nkv, H, hd], init: GLOROT },
        { path: `${b}/attention/attention_output/kernel`, shape: [nq, hd, H], init: GLOROT },
      );
      if (c.usePostAttentionNorm) vars.push({ path: `${b}/post_attention_norm/scale`, shape: [H], init: ZEROS });
      vars.push({ path: `${b}/pre_ffw_norm/scale`, shape: [H], init: ZEROS });
      if (c.usePostFfwNorm) vars.push({ path: `${b}/post_ffw_norm/scale`, shape: [H], init: ZEROS });
      vars.push(
        { path: `${b}/ffw_gating/kernel`, shape: [H, ffw], init: GLOROT },
        { path: `${b}/ffw_gating_2/kernel`, shape: [H, ffw], init: GLOROT },
        { path: `${b}/ffw_linear/kernel`, shape: [ffw, H], init: GLOROT },
      );
    }
    vars.push({ path: "final_normalization/scale", shape: [H], init: ZEROS });
    return vars;
  }

  loraTargets(): LoraTarget[] {
    const { numLayers, numQueryHeads, numKeyValueHeads, hiddenDim: H, headDim } = this.config;
    return Array.from({ length: numLayers }, (_, layer) =>
      (["query", "value"] as const).map((projection) => {
        const heads = projection === "query" ? numQueryHeads : numKeyValueHeads;
        return {
          kernelPath: `decoder_block_${layer}/attention/${projection}/kernel`,
          projection, layer, kernelShape: [heads, H, headDim], heads, headDim, inputDim: H, headsFirst: true,
          hfModule: `layers.${layer}.self_attn.${projection === "query" ? "q_proj" : "v_proj"}`,
        };
      }),
    ).flat();
  }

  /**
   * Block k starts at 1 + k·n (n = 11 entries, + 1 per post norm) and lists
   * [block, ffw_linear, ffw_gating_2, ffw_gating, (post_ffw_norm), pre_ffw_norm, attention, attention_output, value, key, query, …].
   */
  kerasLoraIndex(target: LoraTarget): number {
    const { usePostFfwNorm, usePostAttentionNorm } = this.config;
    const perBlock = 11 + Number(usePostFfwNorm) + Number(usePostAttentionNorm);
    const value = 1 + perBlock * target.layer + 7 + Number(usePostFfwNorm);
    return target.projection === "value" ? value : value + 2;
  }

  kerasH5Paths(): Map<string, string[]> {
    const paths = new Map<string, string[]>([
      ["token_embedding/embeddings", ["layers/reversible_embedding/vars/0"]],
      ["final_normalization/scale", ["layers/rms_normalization/vars/0"]],
    ]);
    // Variable name → attribute path in the block (EinsumDense layers are exposed as `*_dense` properties).
    const inBlock: Record<string, string> = {
      "pre_attention_norm/scale": "pre_attention_norm",
      "attention/query/kernel": "attention/query_dense",
      "attention/key/kernel": "attention/key_dense",
      "attention/value/kernel": "attention/value_dense",
      "attention/attention_output/kernel": "attention/output_dense",
      "post_attention_norm/scale": "post_attention_norm",
      "pre_ffw_norm/scale": "pre_ffw_norm",
      "post_ffw_norm/scale": "post_ffw_norm",
      "ffw_gating/kernel": "gating_ffw",
      "ffw_gating_2/kernel": "gating_ffw_2",
      "ffw_linear/kernel": "ffw_linear",
    };
    for (const { path } of this.variables()) {
      const match = /^decoder_block_(\d+)\/(.+)$/.exec(path);
      if (!match) continue;
      const [, i, variable] = match;
      const group = `layers/gemma_decoder_block${i === "0" ? "" : `_${i}`}`;
      const attr = inBlock[variable];
      paths.set(path, [`${group}/${attr}/vars/0`, `${group}/${attr.replace(/([^/]+)$/, "_$1")}/vars/0`]);
    }
    return paths;
  }

  protected buildGraph(g: GraphBuilder, inputs: GraphInputs): GraphResult {
    const { tokenIds, paddingMask } = inputs;
    const c = this.config;
    const { hiddenDim: H, headDim: hd, numQueryHeads: nq, numKeyValueHeads: nkv } = c;
    const eps = c.layerNormEpsilon;
    const w = (path: string) => this.weight(path);
    const norm = (x: string, path: string) => g.scope(path.split("/").slice(-2, -1)[0], () => rmsNorm(g, x, onePlus(w(path)), eps));

    let x = g.scope("token_embedding", () => {
      const embedded = embeddingLookup(g, this.tokenEmbedding, tokenIds, "embeddings");
      return g.op("Mul", [embedded, g.constFloat(Math.fround(Math.sqrt(H)))]);
    });
    const hiddenStates = [x];

    // Masks: key j is visible from query i iff pad[j] and j <= i (and i - j < window on local blocks).
    const { globalMask, localMask } = g.scope("attention_mask", () => {
      const idx = g.op("Range", [g.constInt64([0], true), seqLength(g, tokenIds), g.constInt64([1], true)]);
      const rows = g.op("Unsqueeze", [idx, g.constInt64([1])]);
      const cols = g.op("Unsqueeze", [idx, g.constInt64([0])]);
      const visible = g.op("And", [g.op("GreaterOrEqual", [rows, cols]), keyPaddingMask(g, paddingMask)]);
      const inWindow = g.op("Less", [g.op("Sub", [rows, cols]), g.constInt64([c.slidingWindowSize], true)]);
      return {
        globalMask: additiveMask(g, visible),
        localMask: c.useSlidingWindowAttention ? additiveMask(g, g.op("And", [visible, inWindow])) : null,
      };
    });
    const rope = g.scope("rotary_embedding", () => rotaryEmbedding(g, tokenIds, hd));

    for (let i = 0; i < c.numLayers; i++) {
      const b = `decoder_block_${i}`;
      x = g.scope(b, () => {
        const n = norm(x, `${b}/pre_attention_norm/scale`);
        const attended = g.scope("attention", () => {
          // Keras kernels are (heads, H, hd); one fused [H, (Nq + 2·Nkv)·hd] projection.
          const toColumns = (name: string, heads: number) => reshape(transpose(w(`${b}/attention/${name}/kernel`), [1, 0, 2]), [H, heads * hd]);
          const kernel = concatLast([toColumns("query", nq), toColumns("key", nkv), toColumns("value", nkv)]);
          const qkv = dense(g, n, kernel, undefined, "attention", "qkv");
          const [q0, k, v0] = splitLast(g, qkv, [nq * hd, nkv * hd, nkv * hd]);
          const q = this.adaptProjection(g, inputs, n, q0, `${b}/attention/query/kernel`);
          const v = this.adaptProjection(g, inputs, n, v0, `${b}/attention/value/kernel`);
          const local = localMask !== null && i % 2 === 0;
          const ctx = attention(g, {
            q, k, v, numQueryHeads: nq, numKeyValueHeads: nkv, headDim: hd,
            queryScale: this.queryScale, mask: local ? localMask : globalMask,
            softCap: c.attentionLogitSoftCap, rotate: rope,
          });
          return dense(g, ctx, reshape(w(`${b}/attention/attention_output/kernel`), [nq * hd, H]), undefined, "attention", "attention_output");
        });
        const a = c.usePostAttentionNorm ? norm(attended, `${b}/post_attention_norm/scale`) : attended;
        const h = g.op("Add", [x, a]);

        const n2 = norm(h, `${b}/pre_ffw_norm/scale`);
        const gateUp = concatLast([w(`${b}/ffw_gating/kernel`), w(`${b}/ffw_gating_2/kernel`)]);
        const ffw = c.intermediateDim / 2;
        const [gate, up] = splitLast(g, dense(g, n2, gateUp, undefined, "ffn", "ffw_gating"), [ffw, ffw]);
        const f0 = dense(g, g.op("Mul", [gelu(g, gate, "tanh"), up]), w(`${b}/ffw_linear/kernel`), undefined, "ffn", "ffw_linear");
        const f = c.usePostFfwNorm ? norm(f0, `${b}/post_ffw_norm/scale`) : f0;
        return g.op("Add", [h, f]);
      });
      if (i < c.numLayers - 1) hiddenStates.push(x);
    }
    const out = norm(x, "final_normalization/scale");
    hiddenStates.push(out);
    return { sequenceOutput: out, hiddenStates };
  }
}
