/**
 * LoRA adapters (spec §1.7). KerasHub adapts the `query` and `value` projections of every attention layer,
 * factorising only the kernel's last axis: A = kernel.shape[:-1] + [r], B = [r, kernel.shape[-1]], so one B
 * is shared by all heads. PEFT adapters are textbook LoRA on the flattened [in, heads·head_dim] kernel, which
 * that form cannot hold without a heads-times larger rank; so an adapter has one of two layouts:
 *
 * - `per_head` (KerasHub): factors stored in KerasHub shapes, e.g. Gemma query A (Nq, H, r), B (r, hd);
 *   DistilBERT/RoBERTa query A (H, heads, r), B (r, dh).
 * - `flat` (PEFT): A [H, r], B [r, heads·hd], output columns in head-major order (as HF and our graphs).
 *
 * Both are exact; the serving graph has a path for each, so a batch may mix them.
 */
import { initializeTensor } from "../tensor/random.js";
import { sizeOf, toFloat32, type Tensor } from "../tensor/tensor.js";

export type LoraLayout = "per_head" | "flat";

/** One adapted projection of a backbone (e.g. `decoder_block_0/attention/query/kernel`). */
export interface LoraTarget {
  /** KerasHub path of the base kernel. */
  kernelPath: string;
  /** `query` or `value`. */
  projection: "query" | "value";
  layer: number;
  /** Kernel shape in KerasHub layout: Gemma (heads, H, hd), encoders (H, heads, hd). */
  kernelShape: readonly number[];
  heads: number;
  headDim: number;
  inputDim: number;
  /** Gemma stores heads first: (heads, H, hd) instead of (H, heads, hd). */
  headsFirst: boolean;
  /** The Hugging Face module of this projection, e.g. `layers.0.self_attn.q_proj` (for PEFT adapters). */
  hfModule: string;
}

export interface LoraFactors {
  a: Tensor;
  b: Tensor;
}

export interface LoraAdapter {
  /** Largest rank over the adapted projections. */
  readonly rank: number;
  /** Multiplier of A·B: 1 for KerasHub, lora_alpha / r for PEFT (lora_alpha / √r with rsLoRA). */
  readonly scale: number;
  readonly layout: LoraLayout;
  /** Factors by base kernel path; a projection without an entry is not adapted. */
  readonly factors: ReadonlyMap<string, LoraFactors>;
}

/** KerasHub variable path of a LoRA factor: `…/query/kernel` → `…/query/lora_kernel_a`. */
export function loraVariablePath(kernelPath: string, factor: "a" | "b"): string {
  return kernelPath.replace(/\/kernel$/, `/lora_kernel_${factor}`);
}

/** Expected factor shapes for a target at rank r. */
export function factorShapes(target: LoraTarget, layout: LoraLayout, rank: number): { a: number[]; b: number[] } {
  if (layout === "per_head") {
    return { a: [...target.kernelShape.slice(0, -1), rank], b: [rank, target.headDim] };
  }
  return { a: [target.inputDim, rank], b: [rank, target.heads * target.headDim] };
}

/** KerasHub `enable_lora(rank)` initial values: A he_uniform over Keras fans, B zeros (or random for tests). */
export function initLora(targets: readonly LoraTarget[], rank: number, seed = 0, randomB = false): LoraAdapter {
  if (!Number.isInteger(rank) || rank <= 0) throw new Error(`LoRA rank must be a positive integer, got ${rank}`);
  const factors = new Map<string, LoraFactors>();
  for (const t of targets) {
    const shapes = factorShapes(t, "per_head", rank);
    const a = initializeTensor(shapes.a, { kind: "he_uniform" }, seed, loraVariablePath(t.kernelPath, "a"));
    const b = randomB
      ? initializeTensor(shapes.b, { kind: "glorot_uniform" }, seed, loraVariablePath(t.kernelPath, "b"))
      : initializeTensor(shapes.b, { kind: "zeros" }, seed, "");
    factors.set(t.kernelPath, { a, b });
  }
  return { rank, scale: 1, layout: "per_head", factors };
}

/** Largest |scale| of an adapter: PEFT's lora_alpha / r is a small number; beyond this outputs overflow. */
const MAX_LORA_SCALE = 1024;

/**
 * Checks an adapter against a backbone's targets: known projections, matching shapes, a rank that is the largest
 * of its factors' (what stacking allocates for), finite values and a bounded scale.
 */
export function validateAdapter(adapter: LoraAdapter, targets: readonly LoraTarget[], source = "adapter"): void {
  if (!Number.isFinite(adapter.scale) || Math.abs(adapter.scale) > MAX_LORA_SCALE) throw new Error(`${source}: LoRA scale must be finite and at most ${MAX_LORA_SCALE} in magnitude, got ${adapter.scale}`);
  const byPath = new Map(targets.map((t) => [t.kernelPath, t]));
  const unknown = [...adapter.factors.keys()].filter((p) => !byPath.has(p));
  if (unknown.length) {
    throw new Error(`${source} adapts ${unknown.slice(0, 3).join(", ")}${unknown.length > 3 ? ", …" : ""}, which the backbone does not have or does not adapt (only query and value projections are)`);
  }
  if (adapter.factors.size === 0) throw new Error(`${source} adapts no projection`);
  let largest = 0;
  for (const [path, { a, b }] of adapter.factors) {
    const t = byPath.get(path)!;
    const r = a.shape[a.shape.length - 1];
    if (!(r >= 1 && r <= adapter.rank)) throw new Error(`${source}: ${path} has rank ${r}, adapter rank is ${adapter.rank}`);
    largest = Math.max(largest, r);
    const want = factorShapes(t, adapter.layout, r);
    if (a.shape.join() !== want.a.join() || b.shape.join() !== want.b.join()) {
      throw new Error(`${source}: ${path} factors are A [${a.shape}] B [${b.shape}], expected A [${want.a}] B [${want.b}] for a ${adapter.layout} adapter of rank ${r}`);
    }
    for (const [factor, tensor] of [["A", a], ["B", b]] as const) {
      const values = toFloat32(tensor);
      const at = values.findIndex((x) => !Number.isFinite(x));
      if (at >= 0) throw new Error(`${source}: ${path} factor ${factor} has a non-finite value (${values[at]}) at index ${at}`);
    }
  }
  if (adapter.rank !== largest) throw new Error(`${source}: rank is ${adapter.rank} but its largest factor has rank ${largest}`);
}

/** scale · A·B as a delta of the base kernel, in KerasHub kernel layout (float32). */
export function kernelDelta(target: LoraTarget, factors: LoraFactors, layout: LoraLayout, scale: number): Float32Array {
  const a = toFloat32(factors.a);
  const b = toFloat32(factors.b);
  const r = factors.a.shape[factors.a.shape.length - 1];
  const { heads, headDim: hd, inputDim: H } = target;
  const delta = new Float32Array(sizeOf(target.kernelShape));
  if (layout === "per_head") {
    // A [..., r] · B [r, out] over A's leading dims: exactly the kernel's layout.
    const rows = a.length / r;
    const out = hd;
    for (let i = 0; i < rows; i++) {
      for (let k = 0; k < r; k++) {
        const aik = a[i * r + k] * scale;
        if (aik === 0) continue;
        for (let j = 0; j < out; j++) delta[i * out + j] += aik * b[k * out + j];
      }
    }
    return delta;
  }
  // Flat: delta[h, n·hd + d] → kernel (H, heads, hd) as is, or (heads, H, hd) for Gemma.
  const cols = heads * hd;
  for (let h = 0; h < H; h++) {
    for (let k = 0; k < r; k++) {
      const ahk = a[h * r + k] * scale;
      if (ahk === 0) continue;
      for (let c = 0; c < cols; c++) {
        const at = target.headsFirst ? (Math.floor(c / hd) * H + h) * hd + (c % hd) : h * cols + c;
        delta[at] += ahk * b[k * cols + c];
      }
    }
  }
  return delta;
}

/** Parameter count of an adapter (all factors). */
export function adapterParams(adapter: LoraAdapter): number {
  let n = 0;
  for (const { a, b } of adapter.factors.values()) n += sizeOf(a.shape) + sizeOf(b.shape);
  return n;
}

/**
 * The same adapter in KerasHub's per-head form with scale 1 and one rank for every projection (what a
 * `.lora.h5` file can hold). A flat rank-r factor becomes a per-head one of rank heads·r whose A is
 * block-diagonal over heads: exact, but heads× larger.
 */
export function toKerasLayout(adapter: LoraAdapter, targets: readonly LoraTarget[]): LoraAdapter {
  const converted = new Map<string, LoraFactors>();
  for (const t of targets) {
    const f = adapter.factors.get(t.kernelPath);
    if (!f) continue;
    converted.set(t.kernelPath, adapter.layout === "per_head" ? scaleB(f, adapter.scale) : flatToPerHead(t, f, adapter.scale));
  }
  const rank = Math.max(...[...converted.values()].map((f) => f.a.shape[f.a.shape.length - 1]));
  for (const t of targets) {
    const f = converted.get(t.kernelPath);
    converted.set(t.kernelPath, f ? padRank(f, rank) : zeroFactors(t, rank));
  }
  return { rank, scale: 1, layout: "per_head", factors: converted };
}

function scaleB({ a, b }: LoraFactors, scale: number): LoraFactors {
  if (scale === 1) return { a, b };
  return { a, b: { dtype: "float32", shape: b.shape, data: toFloat32(b).map((x) => x * scale) } };
}

function flatToPerHead(t: LoraTarget, { a, b }: LoraFactors, scale: number): LoraFactors {
  const r = a.shape[1];
  const { heads: N, headDim: hd, inputDim: H } = t;
  const R = N * r;
  const fa = toFloat32(a);
  const fb = toFloat32(b);
  const outA = new Float32Array(N * H * R);
  for (let n = 0; n < N; n++) {
    for (let h = 0; h < H; h++) {
      const row = (t.headsFirst ? n * H + h : h * N + n) * R + n * r;
      for (let k = 0; k < r; k++) outA[row + k] = fa[h * r + k];
    }
  }
  const outB = new Float32Array(R * hd);
  for (let n = 0; n < N; n++) {
    for (let k = 0; k < r; k++) {
      for (let d = 0; d < hd; d++) outB[(n * r + k) * hd + d] = scale * fb[k * N * hd + n * hd + d];
    }
  }
  const shapes = factorShapes(t, "per_head", R);
  return { a: { dtype: "float32", shape: shapes.a, data: outA }, b: { dtype: "float32", shape: shapes.b, data: outB } };
}

/** Zero-pads A's last axis and B's first axis to `rank` (adds exactly nothing to A·B). */
function padRank({ a, b }: LoraFactors, rank: number): LoraFactors {
  const r = a.shape[a.shape.length - 1];
  if (r === rank) return { a, b };
  const fa = toFloat32(a);
  const rows = fa.length / r;
  const outA = new Float32Array(rows * rank);
  for (let i = 0; i < rows; i++) outA.set(fa.subarray(i * r, (i + 1) * r), i * rank);
  const outB = new Float32Array(rank * b.shape[1]);
  outB.set(toFloat32(b));
  return {
    a: { dtype: "float32", shape: [...a.shape.slice(0, -1), rank], data: outA },
    b: { dtype: "float32", shape: [rank, b.shape[1]], data: outB },
  };
}

function zeroFactors(t: LoraTarget, rank: number): LoraFactors {
  const s = factorShapes(t, "per_head", rank);
  return { a: { dtype: "float32", shape: s.a, data: new Float32Array(sizeOf(s.a)) }, b: { dtype: "float32", shape: s.b, data: new Float32Array(sizeOf(s.b)) } };
}
