/**
 * Quantization plans: how each kind of weight is stored and computed, chosen per preset. A plan names a scheme
 * for the attention projections, the feed-forward projections and the token embedding table, so that mixed plans
 * (int8 attention + int4 feed-forward, say) fit models that one scheme does not.
 *
 *   float  fp32 MatMul (or the preset's dtype widened in the graph).
 *   int8   int8 weights, one scale per output column, activations quantized per tensor at run time
 *          (com.microsoft DynamicQuantizeMatMul: integer GEMM, the fast path of onnxruntime-web's WASM). Inputs are
 *          smoothed first (SmoothQuant) when calibration statistics are given, so outlier channels survive.
 *   int4   4-bit weights in blocks of 32 along the input axis with a scale and zero point each
 *          (com.microsoft MatMulNBits); activations stay float. The smallest weights; fp32 speed on WASM.
 *   Feed-forward layers in int8 or int4 compute their GELU in the tanh form (FastGelu; QuantizedWeights.gelu).
 *   q8-tensor  the transformers.js q8 recipe (uint8 weights with one scale per tensor; DynamicQuantizeLinear +
 *          MatMulInteger), kept as the peer to measure against.
 * Embedding tables take float, int8 or int4 (rows in blocks with a scale and zero point each).
 */
export const DENSE_SCHEMES = ["float", "int8", "int4", "q8-tensor"] as const;
export const EMBEDDING_SCHEMES = ["float", "int8", "int4"] as const;
export type DenseScheme = (typeof DENSE_SCHEMES)[number];
export type EmbeddingScheme = (typeof EMBEDDING_SCHEMES)[number];

export interface QuantPlan {
  attention: DenseScheme;
  ffn: DenseScheme;
  embedding: EmbeddingScheme;
}

/** Named plans accepted wherever a plan is (`--quantize int8`). */
export const NAMED_PLANS: Readonly<Record<string, QuantPlan>> = {
  float: { attention: "float", ffn: "float", embedding: "float" },
  int8: { attention: "int8", ffn: "int8", embedding: "int8" },
  int4: { attention: "int4", ffn: "int4", embedding: "int4" },
  /** int8 speed where most of the attention time goes, int4 size for the feed-forward and embeddings. */
  mixed: { attention: "int8", ffn: "int4", embedding: "int4" },
  "q8-tensor": { attention: "q8-tensor", ffn: "q8-tensor", embedding: "int8" },
};

const PLAN_KEYS = ["attention", "ffn", "embedding"] as const;

/** `int8`, `int4`, `mixed`, … or `attention=int8,ffn=int4,embedding=int8` (omitted keys are float). */
export function parsePlan(text: string): QuantPlan {
  const named = NAMED_PLANS[text];
  if (named) return { ...named };
  const plan: QuantPlan = { attention: "float", ffn: "float", embedding: "float" };
  for (const part of text.split(",")) {
    const [key, value, ...rest] = part.split("=").map((s) => s.trim());
    if (!PLAN_KEYS.includes(key as (typeof PLAN_KEYS)[number]) || value === undefined || rest.length) {
      throw new Error(`invalid quantization plan "${text}": use one of ${Object.keys(NAMED_PLANS).join(", ")} or attention=…,ffn=…,embedding=…`);
    }
    const allowed: readonly string[] = key === "embedding" ? EMBEDDING_SCHEMES : DENSE_SCHEMES;
    if (!allowed.includes(value)) throw new Error(`invalid quantization plan "${text}": ${key} must be one of ${allowed.join(", ")}`);
    (plan as unknown as Record<string, string>)[key] = value;
  }
  return plan;
}

/** The plan's shortest name: a named plan's name, else `attention=…,ffn=…,embedding=…`. */
export function planName(plan: QuantPlan): string {
  const named = Object.entries(NAMED_PLANS).find(([, p]) => PLAN_KEYS.every((k) => p[k] === plan[k]));
  return named ? named[0] : PLAN_KEYS.map((k) => `${k}=${plan[k]}`).join(",");
}
