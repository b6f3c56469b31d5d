/**
 * A dense, row-major tensor of weights or activations. Half-precision values are kept as their raw
 * 16-bit patterns (Uint16Array) so that fp16/bf16 presets can be held without widening them.
 */
export type FloatDType = "float32" | "float16" | "bfloat16";

export interface Tensor {
  readonly dtype: FloatDType;
  readonly shape: readonly number[];
  readonly data: Float32Array | Uint16Array;
}

export function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function float32Tensor(shape: readonly number[], data: Float32Array = new Float32Array(sizeOf(shape))): Tensor {
  if (data.length !== sizeOf(shape)) {
    throw new Error(`tensor data has ${data.length} values but shape [${shape.join(", ")}] needs ${sizeOf(shape)}`);
  }
  return { dtype: "float32", shape: [...shape], data };
}

/** The tensor's values as float32 (a view, not a copy, when it already is float32). */
export function toFloat32(t: Tensor): Float32Array {
  if (t.dtype === "float32") return t.data as Float32Array;
  const src = t.data as Uint16Array;
  const out = new Float32Array(src.length);
  if (t.dtype === "bfloat16") {
    // bf16 is the upper half of an fp32 bit pattern.
    const bits = new Uint32Array(out.buffer);
    for (let i = 0; i < src.length; i++) bits[i] = src[i] << 16;
  } else {
    for (let i = 0; i < src.length; i++) out[i] = halfToFloat(src[i]);
  }
  return out;
}

/** Converts to another float dtype, rounding to nearest even; returns `t` itself when nothing changes. */
export function castTensor(t: Tensor, dtype: FloatDType): Tensor {
  if (t.dtype === dtype) return t;
  const f32 = toFloat32(t);
  if (dtype === "float32") return { dtype, shape: t.shape, data: f32 };
  const out = new Uint16Array(f32.length);
  const bits = new Uint32Array(f32.buffer, f32.byteOffset, f32.length);
  if (dtype === "bfloat16") {
    for (let i = 0; i < f32.length; i++) out[i] = floatBitsToBfloat(bits[i]);
  } else {
    for (let i = 0; i < f32.length; i++) out[i] = floatBitsToHalf(bits[i]);
  }
  return { dtype, shape: t.shape, data: out };
}

export function bytesPerElement(dtype: FloatDType): number {
  return dtype === "float32" ? 4 : 2;
}

function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

function floatBitsToBfloat(x: number): number {
  if ((x & 0x7f800000) === 0x7f800000 && x & 0x7fffff) return (x >>> 16) | 0x40; // keep NaN a NaN
  return ((x + 0x7fff + ((x >>> 16) & 1)) >>> 16) & 0xffff;
}

function floatBitsToHalf(x: number): number {
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  let e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00; // overflow → ±inf
  if (e <= 0) {
    if (e < -10) return sign; // underflow → ±0
    mant |= 0x800000; // make the implicit bit explicit, then shift into a subnormal
    const shift = 14 - e;
    const half = 1 << (shift - 1);
    const rounded = mant + half - 1 + ((mant >>> shift) & 1);
    return sign | (rounded >>> shift);
  }
  const rounded = mant + 0xfff + ((mant >>> 13) & 1);
  if (rounded & 0x800000) {
    mant = 0;
    e += 1;
    if (e >= 0x1f) return sign | 0x7c00;
  } else {
    mant = rounded;
  }
  return sign | (e << 10) | (mant >>> 13);
}
