/**
 * Weight quantization (pure math, no graph): the layouts onnxruntime's quantized kernels read, made once when a
 * quantized graph is built (at install time for edge artifacts).
 */

/** Symmetric int8 with one scale per output column: W ≈ q · scale[n]. `kernel` is [K, N] row-major. */
export function quantizeColumnsInt8(kernel: Float32Array, K: number, N: number): { q: Int8Array; scales: Float32Array } {
  const scales = new Float32Array(N);
  for (let k = 0; k < K; k++) {
    for (let n = 0; n < N; n++) scales[n] = Math.max(scales[n], Math.abs(kernel[k * N + n]));
  }
  for (let n = 0; n < N; n++) scales[n] = scales[n] / 127 || 1;
  const q = new Int8Array(K * N);
  for (let k = 0; k < K; k++) {
    for (let n = 0; n < N; n++) q[k * N + n] = Math.round(kernel[k * N + n] / scales[n]);
  }
  return { q, scales };
}

/** The transformers.js q8 recipe: uint8 with one scale and zero point for the whole tensor. */
export function quantizeTensorUint8(kernel: Float32Array): { q: Uint8Array; scale: number; zeroPoint: number } {
  let lo = 0;
  let hi = 0;
  for (const v of kernel) {
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  const scale = (hi - lo) / 255 || 1;
  const zeroPoint = Math.round(-lo / scale);
  const q = new Uint8Array(kernel.length);
  for (let i = 0; i < kernel.length; i++) q[i] = clamp(Math.round(kernel[i] / scale) + zeroPoint, 0, 255);
  return { q, scale, zeroPoint };
}

/**
 * SmoothQuant (Xiao et al. 2023, α = 0.5): per input channel k, s = √(max|x_k| / max_n|W[k, n]|). Dividing the
 * activations by s and multiplying W's rows by s is exact in real arithmetic and moves outlier channels' range
 * from the activations (quantized per tensor at run time) into the weights (quantized per column).
 */
export function smoothingFactors(activationMax: Float32Array, kernel: Float32Array, K: number, N: number): Float32Array {
  const s = new Float32Array(K);
  for (let k = 0; k < K; k++) {
    let w = 0;
    for (let n = 0; n < N; n++) w = Math.max(w, Math.abs(kernel[k * N + n]));
    const a = activationMax[k];
    s[k] = a > 0 && w > 0 ? clamp(Math.sqrt(a / w), 1e-4, 1e4) : 1;
  }
  return s;
}

/** `kernel` with row k multiplied by s[k] (a new array). */
export function scaleRows(kernel: Float32Array, K: number, N: number, s: Float32Array): Float32Array {
  const out = new Float32Array(K * N);
  for (let k = 0; k < K; k++) {
    for (let n = 0; n < N; n++) out[k * N + n] = kernel[k * N + n] * s[k];
  }
  return out;
}

/**
 * Values in blocks of `blockSize` along rows, each block with its own scale and zero point (asymmetric, so all
 * 2^bits levels are used): v ≈ (q − zero) · scale. At 4 bits the range is clipped to the fraction of [min, max]
 * (searched per block) that gives the least squared error, since one extreme value otherwise costs the whole block.
 * Returns codes packed low nibble first for 4 bits, and zero points packed the same way per row.
 */
export interface BlockQuantized {
  bits: 4 | 8;
  blockSize: number;
  rows: number;
  /** Values per row (a multiple of blockSize). */
  columns: number;
  /** [rows, columns · bits / 8] */
  codes: Uint8Array;
  /** [rows, columns / blockSize] */
  scales: Float32Array;
  /** [rows, ⌈(columns / blockSize) · bits / 8⌉] */
  zeroPoints: Uint8Array;
  /** [columns]: every value of column c was divided by columnScales[c] before quantizing (embedding tables). */
  columnScales?: Float32Array;
}

const CLIP_STEPS = [1, 0.95, 0.9, 0.85, 0.8, 0.75];

export function quantizeBlocks(values: Float32Array, rows: number, columns: number, bits: 4 | 8, blockSize: number): BlockQuantized {
  if (columns % blockSize !== 0) throw new Error(`internal: ${columns} values per row are not a multiple of the block size ${blockSize}`);
  const blocks = columns / blockSize;
  const levels = (1 << bits) - 1;
  const codes = new Uint8Array((rows * columns * bits) / 8);
  const zpBytes = Math.ceil((blocks * bits) / 8);
  const zeroPoints = new Uint8Array(rows * zpBytes);
  const scales = new Float32Array(rows * blocks);
  const put = (buffer: Uint8Array, rowBase: number, i: number, q: number) => {
    if (bits === 8) buffer[rowBase + i] = q;
    else buffer[rowBase + (i >> 1)] |= i & 1 ? q << 4 : q;
  };
  for (let r = 0; r < rows; r++) {
    for (let b = 0; b < blocks; b++) {
      const start = r * columns + b * blockSize;
      let lo = 0;
      let hi = 0;
      for (let i = 0; i < blockSize; i++) {
        lo = Math.min(lo, values[start + i]);
        hi = Math.max(hi, values[start + i]);
      }
      let best = { error: Infinity, scale: 1, zero: 0 };
      for (const clip of bits === 4 ? CLIP_STEPS : [1]) {
        const scale = ((hi - lo) * clip) / levels || 1;
        const zero = clamp(Math.round((-lo * clip) / scale), 0, levels);
        let error = 0;
        for (let i = 0; i < blockSize; i++) {
          const v = values[start + i];
          const q = clamp(Math.round(v / scale) + zero, 0, levels);
          error += ((q - zero) * scale - v) ** 2;
        }
        if (error < best.error) best = { error, scale, zero };
      }
      scales[r * blocks + b] = best.scale;
      put(zeroPoints, r * zpBytes, b, best.zero);
      for (let i = 0; i < blockSize; i++) {
        const q = clamp(Math.round(values[start + i] / best.scale) + best.zero, 0, levels);
        put(codes, (r * columns * bits) / 8, b * blockSize + i, q);
      }
    }
  }
  return { bits, blockSize, rows, columns, codes, scales, zeroPoints };
}

/** Dequantizes row `row` of a block-quantized table into `out` (length `columns`). */
export function dequantizeRow(t: BlockQuantized, row: number, out: Float32Array, outOffset = 0): void {
  const { bits, blockSize, columns } = t;
  const blocks = columns / blockSize;
  const codeBase = (row * columns * bits) / 8;
  const zpBase = row * Math.ceil((blocks * bits) / 8);
  for (let b = 0; b < blocks; b++) {
    const scale = t.scales[row * blocks + b];
    const zero = bits === 8 ? t.zeroPoints[zpBase + b] : (t.zeroPoints[zpBase + (b >> 1)] >> ((b & 1) * 4)) & 15;
    for (let i = b * blockSize; i < (b + 1) * blockSize; i++) {
      const q = bits === 8 ? t.codes[codeBase + i] : (t.codes[codeBase + (i >> 1)] >> ((i & 1) * 4)) & 15;
      out[outOffset + i] = (q - zero) * scale;
    }
  }
  if (t.columnScales) for (let c = 0; c < columns; c++) out[outOffset + c] *= t.columnScales[c];
}

/**
 * A table (embedding rows) quantized with each column first divided by its largest |value|: trained tables have a
 * few dimensions 20-50× larger than the rest, and within a row block they would leave the others a handful of
 * levels. Dequantized values are multiplied back (`dequantizeRow`, or a Mul after GatherBlockQuantized).
 */
export function quantizeTable(values: Float32Array, rows: number, columns: number, bits: 4 | 8, blockSize: number): BlockQuantized {
  const columnScales = new Float32Array(columns);
  for (let i = 0; i < values.length; i++) columnScales[i % columns] = Math.max(columnScales[i % columns], Math.abs(values[i]));
  for (let c = 0; c < columns; c++) columnScales[c] ||= 1;
  const normalized = new Float32Array(values.length);
  for (let i = 0; i < values.length; i++) normalized[i] = values[i] / columnScales[i % columns];
  return { ...quantizeBlocks(normalized, rows, columns, bits, blockSize), columnScales };
}

/** [K, N] row-major → [N, K] (kernels are stored input-major; MatMulNBits blocks run along K per column). */
export function transposeMatrix(m: Float32Array, K: number, N: number): Float32Array {
  const out = new Float32Array(K * N);
  for (let k = 0; k < K; k++) {
    for (let n = 0; n < N; n++) out[n * K + k] = m[k * N + n];
  }
  return out;
}

function clamp(v: number, lo: number, hi: number): number {
  return v < lo ? lo : v > hi ? hi : v;
}
