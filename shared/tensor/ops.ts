/**
 * Layout transforms applied to weights while building graphs (dtype-preserving, row-major). On lazy tensors
 * (shared/tensor/lazy.ts) they return lazy tensors that apply the same transform once the values are read.
 */
import type { Tensor } from "./tensor.js";
import { sizeOf, toFloat32 } from "./tensor.js";
import { isLazy, LazyTensor } from "./lazy.js";

export function reshape(t: Tensor, shape: readonly number[]): Tensor {
  if (sizeOf(shape) !== sizeOf(t.shape)) throw new Error(`cannot reshape [${t.shape}] to [${shape}]`);
  if (isLazy(t)) return t.reshape(shape);
  return { dtype: t.dtype, shape: [...shape], data: t.data };
}

export function transpose(t: Tensor, perm: readonly number[]): Tensor {
  const rank = t.shape.length;
  const outShape = perm.map((p) => t.shape[p]);
  if (isLazy(t)) return LazyTensor.derive([t], t.dtype, outShape, ([loaded]) => transpose(loaded, perm));
  const inStrides = stridesOf(t.shape);
  const permStrides = perm.map((p) => inStrides[p]);
  const out = new (t.data.constructor as Float32ArrayConstructor | Uint16ArrayConstructor)(t.data.length);
  const index = new Array<number>(rank).fill(0);
  for (let o = 0; o < out.length; o++) {
    let src = 0;
    for (let d = 0; d < rank; d++) src += index[d] * permStrides[d];
    out[o] = t.data[src];
    for (let d = rank - 1; d >= 0; d--) {
      if (++index[d] < outShape[d]) break;
      index[d] = 0;
    }
  }
  return { dtype: t.dtype, shape: outShape, data: out };
}

/** Concatenates tensors of equal leading dims along the last axis. */
export function concatLast(tensors: readonly Tensor[]): Tensor {
  const first = tensors[0];
  const lead = first.shape.slice(0, -1);
  const rows = sizeOf(lead);
  const widths = tensors.map((t) => {
    if (t.dtype !== first.dtype || t.shape.slice(0, -1).join() !== lead.join()) {
      throw new Error(`cannot concatenate [${t.shape}] ${t.dtype} with [${first.shape}] ${first.dtype}`);
    }
    return t.shape[t.shape.length - 1];
  });
  const total = widths.reduce((a, b) => a + b, 0);
  if (tensors.some(isLazy)) return LazyTensor.derive(tensors, first.dtype, [...lead, total], concatLast);
  const out = new (first.data.constructor as Float32ArrayConstructor | Uint16ArrayConstructor)(rows * total);
  let col = 0;
  tensors.forEach((t, i) => {
    const w = widths[i];
    for (let r = 0; r < rows; r++) out.set(t.data.subarray(r * w, (r + 1) * w), r * total + col);
    col += w;
  });
  return { dtype: first.dtype, shape: [...lead, total], data: out };
}

/** 1 + t, in float32 (Gemma's RMSNorm weight). */
export function onePlus(t: Tensor): Tensor {
  if (isLazy(t)) return LazyTensor.derive([t], "float32", t.shape, ([loaded]) => onePlus(loaded));
  const src = toFloat32(t);
  const out = new Float32Array(src.length);
  for (let i = 0; i < src.length; i++) out[i] = 1 + src[i];
  return { dtype: "float32", shape: t.shape, data: out };
}

function stridesOf(shape: readonly number[]): number[] {
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    strides[d] = s;
    s *= shape[d];
  }
  return strides;
}
