/**
 * Turns the adapters of one batch into the serving graph's inputs: for every target, the factors of all
 * adapters stacked along a leading "adapter" axis (slot 0 is "no adapter": zeros), ranks zero-padded to the
 * batch's largest (zero rows/columns add exactly nothing), B pre-multiplied by the adapter's scale.
 */
import { toFloat32 } from "../tensor/tensor.js";
import type { LoraAdapter, LoraTarget } from "./adapter.js";

export interface FloatInput {
  data: Float32Array;
  dims: number[];
}

/** Graph input names of a target (its kernel path without `/kernel`). */
export function loraInputNames(target: LoraTarget) {
  const p = target.kernelPath.replace(/\/kernel$/, "");
  return { a: `${p}/lora_a`, b: `${p}/lora_b`, flatA: `${p}/lora_flat_a`, flatB: `${p}/lora_flat_b` };
}

export function stackAdapters(targets: readonly LoraTarget[], adapters: readonly LoraAdapter[]): Map<string, FloatInput> {
  const slots = adapters.length + 1;
  const maxRank = (layout: string) => Math.max(1, ...adapters.filter((a) => a.layout === layout).map((a) => a.rank));
  const r1 = maxRank("per_head");
  const r2 = maxRank("flat");
  const inputs = new Map<string, FloatInput>();
  for (const t of targets) {
    const { heads: N, headDim: hd, inputDim: H } = t;
    const cols = N * hd;
    const a = new Float32Array(slots * H * N * r1);
    const b = new Float32Array(slots * r1 * hd);
    const fa = new Float32Array(slots * H * r2);
    const fb = new Float32Array(slots * r2 * cols);
    adapters.forEach((adapter, i) => {
      const f = adapter.factors.get(t.kernelPath);
      if (!f) return;
      const slot = i + 1;
      const src = toFloat32(f.a);
      const srcB = toFloat32(f.b);
      const r = f.a.shape[f.a.shape.length - 1];
      if (adapter.layout === "per_head") {
        // Graph layout (H, heads, r1); Gemma's KerasHub A is (heads, H, r).
        const base = slot * H * N * r1;
        for (let h = 0; h < H; h++) {
          for (let n = 0; n < N; n++) {
            const from = (t.headsFirst ? n * H + h : h * N + n) * r;
            a.set(src.subarray(from, from + r), base + (h * N + n) * r1);
          }
        }
        for (let k = 0; k < r; k++) {
          for (let d = 0; d < hd; d++) b[(slot * r1 + k) * hd + d] = srcB[k * hd + d] * adapter.scale;
        }
      } else {
        for (let h = 0; h < H; h++) fa.set(src.subarray(h * r, (h + 1) * r), (slot * H + h) * r2);
        for (let k = 0; k < r; k++) {
          for (let c = 0; c < cols; c++) fb[(slot * r2 + k) * cols + c] = srcB[k * cols + c] * adapter.scale;
        }
      }
    });
    const names = loraInputNames(t);
    inputs.set(names.a, { data: a, dims: [slots, H, N, r1] });
    inputs.set(names.b, { data: b, dims: [slots, r1, hd] });
    inputs.set(names.flatA, { data: fa, dims: [slots, H, r2] });
    inputs.set(names.flatB, { data: fb, dims: [slots, r2, cols] });
  }
  return inputs;
}
