/**
 * Graph fragments shared by the backbones. Each mirrors one KerasHub layer; the math lives here once.
 * Activations are float32 [batch, seq, features] unless noted.
 */
import type { Tensor } from "../tensor/tensor.js";
import { float, int, ints, type DenseRole, type GraphBuilder } from "./graph-builder.js";

/** Additive mask value used by Keras' masked softmax (finite, so fully-masked rows stay finite). */
const MASK_VALUE = -1e9;

/**
 * x·W (+ b). `kernel` is [in, out]. The graph's dense encoder (quantized weights, calibration probes) may emit it
 * instead; `name` identifies the layer within its scope.
 */
export function dense(g: GraphBuilder, x: string, kernel: Tensor, bias: Tensor | undefined, role: DenseRole, name: string): string {
  const encoded = g.options.weights?.dense(g, x, kernel, bias, role, g.scopePath ? `${g.scopePath}/${name}` : name);
  if (encoded) return encoded;
  let y = g.op("MatMul", [x, g.floatWeight("kernel", kernel)]);
  if (bias) y = g.op("Add", [y, g.floatWeight("bias", bias)]);
  return y;
}

/** Rows of a [V, H] embedding table, in the graph's weight encoding. */
export function embeddingLookup(g: GraphBuilder, table: Tensor, ids: string, name: string): string {
  const encoded = g.options.weights?.gather?.(g, table, ids, g.scopePath ? `${g.scopePath}/${name}` : name);
  return encoded ?? g.op("Gather", [g.floatWeight(name, table), ids], { axis: int(0) });
}

/** Splits the last axis into pieces of the given sizes. */
export function splitLast(g: GraphBuilder, x: string, sizes: readonly number[]): string[] {
  return g.opMulti("Split", [x, g.constInt64(sizes)], { axis: int(-1) }, { outputs: sizes.length });
}

export function layerNorm(g: GraphBuilder, x: string, gamma: Tensor, beta: Tensor, epsilon: number): string {
  return g.op("LayerNormalization", [x, g.floatWeight("gamma", gamma), g.floatWeight("beta", beta)], {
    axis: int(-1),
    epsilon: float(epsilon),
  });
}

/**
 * Gemma RMSNorm: x · rsqrt(mean(x²) + eps) · weight, in float32. `weight` is already (1 + scale).
 * Written as the Pow/ReduceMean/Add/Sqrt/Div/Mul chain that onnxruntime fuses into one kernel.
 */
export function rmsNorm(g: GraphBuilder, x: string, weight: Tensor, epsilon: number): string {
  const sq = g.op("Pow", [x, g.constFloat(2)]);
  const mean = g.op("ReduceMean", [sq, g.constInt64([-1])], { keepdims: int(1) });
  const rms = g.op("Sqrt", [g.op("Add", [mean, g.constFloat(epsilon)])]);
  return g.op("Mul", [g.op("Div", [x, rms]), g.floatWeight("scale", weight)]);
}

/** GELU, exact (erf) or tanh-approximated; the graph's weight encoding may compute the exact one its own way. */
export function gelu(g: GraphBuilder, x: string, approximate: "none" | "tanh"): string {
  const encoded = approximate === "none" ? g.options.weights?.gelu?.(g, x) : null;
  return encoded ?? g.op("Gelu", [x], { approximate: { string: approximate } });
}

/** Reshapes [B, T, heads·dim] to [B, T, heads, dim] (0 copies the dynamic dims). */
function splitHeads(g: GraphBuilder, x: string, heads: number, dim: number): string {
  return g.op("Reshape", [x, g.constInt64([0, 0, heads, dim])]);
}

export interface AttentionSpec {
  /** [B, T, Nq·hd], [B, S, Nkv·hd], [B, S, Nkv·hd] projections. */
  q: string;
  k: string;
  v: string;
  numQueryHeads: number;
  numKeyValueHeads: number;
  headDim: number;
  /** Multiplies q before the dot product. */
  queryScale: number;
  /** Additive float mask broadcastable to [B, 1, T, S] (0 = visible, MASK_VALUE = hidden). */
  mask: string;
  /** tanh(s / cap) · cap on the logits, before masking (Gemma 2). */
  softCap?: number | null;
  /** Applied to q and k laid out as [..., T, hd] (RoPE). */
  rotate?: (x: string) => string;
}

/**
 * Scaled dot-product attention with grouped key/value heads: query head n reads kv head ⌊n / G⌋,
 * G = Nq / Nkv. Queries of one group are stacked along the time axis so each kv head is read by one MatMul.
 * Returns the context [B, T, Nq·hd].
 */
export function attention(g: GraphBuilder, a: AttentionSpec): string {
  const { numQueryHeads: nq, numKeyValueHeads: nkv, headDim: hd } = a;
  const groups = nq / nkv;
  const rotate = a.rotate ?? ((x: string) => x);

  // k: [B, S, Nkv, hd] → [B, Nkv, S, hd] (rotated) → [B, Nkv, hd, S]
  let k = g.op("Transpose", [splitHeads(g, a.k, nkv, hd)], { perm: ints([0, 2, 1, 3]) });
  k = g.op("Transpose", [rotate(k)], { perm: ints([0, 1, 3, 2]) });
  const v = g.op("Transpose", [splitHeads(g, a.v, nkv, hd)], { perm: ints([0, 2, 1, 3]) });

  let q: string;
  let mask = a.mask;
  if (groups === 1) {
    q = rotate(g.op("Transpose", [splitHeads(g, a.q, nq, hd)], { perm: ints([0, 2, 1, 3]) }));
  } else {
    // [B, T, Nkv, G, hd] → [B, Nkv, G, T, hd] → [B, Nkv, G·T, hd]
    const q5 = g.op("Reshape", [a.q, g.constInt64([0, 0, nkv, groups, hd])]);
    const qt = rotate(g.op("Transpose", [q5], { perm: ints([0, 2, 3, 1, 4]) }));
    q = g.op("Reshape", [qt, g.constInt64([0, 0, -1, hd])]);
    // Mask rows follow the same G·T stacking.
    mask = g.op("Tile", [a.mask, g.constInt64([1, 1, groups, 1])]);
  }
  q = g.op("Mul", [q, g.constFloat(a.queryScale)]);

  let logits = g.op("MatMul", [q, k]);
  if (a.softCap) {
    const cap = g.constFloat(a.softCap);
    logits = g.op("Mul", [g.op("Tanh", [g.op("Div", [logits, cap])]), cap]);
  }
  const probs = g.op("Softmax", [g.op("Add", [logits, mask])], { axis: int(-1) });
  const ctx = g.op("MatMul", [probs, v]);

  if (groups === 1) {
    const t = g.op("Transpose", [ctx], { perm: ints([0, 2, 1, 3]) });
    return g.op("Reshape", [t, g.constInt64([0, 0, -1])]);
  }
  const c5 = g.op("Reshape", [ctx, g.constInt64([0, 0, groups, -1, hd])]);
  const t = g.op("Transpose", [c5], { perm: ints([0, 3, 1, 2, 4]) });
  return g.op("Reshape", [t, g.constInt64([0, 0, -1])]);
}

/** The sequence length of [B, T] `ids` as an int64 scalar. */
export function seqLength(g: GraphBuilder, ids: string): string {
  return g.op("Gather", [g.op("Shape", [ids]), g.constInt64([1], true)], { axis: int(0) });
}

/** Key-padding mask [B, 1, 1, S] as a bool tensor from the int padding_mask [B, S]. */
export function keyPaddingMask(g: GraphBuilder, paddingMask: string): string {
  const visible = g.op("Cast", [paddingMask], { to: int(9 /* BOOL */) });
  return g.op("Unsqueeze", [visible, g.constInt64([1, 2])]);
}

/** Turns a bool visibility tensor into an additive float mask. */
export function additiveMask(g: GraphBuilder, visible: string): string {
  return g.op("Where", [visible, g.constFloat(0), g.constFloat(MASK_VALUE)]);
}

/**
 * Half-split ("rotate_half") rotary embedding over the whole head dim, θ = pos · wavelength^(-2i/hd).
 * Returns a function that rotates any [..., T, hd] tensor; cos/sin are computed once per graph.
 */
export function rotaryEmbedding(g: GraphBuilder, ids: string, headDim: number, maxWavelength = 10000): (x: string) => string {
  const half = headDim / 2;
  // Same float32 arithmetic as the references: inv_freq = 1 / base^(2i/hd) rounded to float32.
  const invFreq = Float32Array.from({ length: half }, (_, i) => 1 / Math.pow(maxWavelength, Math.fround((2 * i) / headDim)));
  const t = seqLength(g, ids);
  const positions = g.op("Cast", [g.op("Range", [g.constInt64([0], true), t, g.constInt64([1], true)])], { to: int(1) });
  const theta = g.op("Mul", [
    g.op("Unsqueeze", [positions, g.constInt64([1])]),
    g.weight("rope_inv_freq", { dtype: "float32", shape: [1, half], data: invFreq }),
  ]);
  const angles = g.op("Concat", [theta, theta], { axis: int(-1) });
  const cos = g.op("Cos", [angles]);
  const sin = g.op("Sin", [angles]);
  return (x: string) => {
    const [x1, x2] = splitLast(g, x, [half, half]);
    const rotated = g.op("Concat", [g.op("Neg", [x2]), x1], { axis: int(-1) });
    return g.op("Add", [g.op("Mul", [x, cos]), g.op("Mul", [rotated, sin])]);
  };
}
