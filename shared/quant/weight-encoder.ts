/**
 * Graph emission of quantized weights (a `WeightEncoder` for the graph builder), and calibration probes.
 * The math of each scheme is in plan.ts; the layouts in quantize.ts.
 */
import { int, type DenseRole, type GraphBuilder, type WeightEncoder } from "../graph/graph-builder.js";
import { toFloat32, type Tensor } from "../tensor/tensor.js";
import type { QuantPlan } from "./plan.js";
import { quantizeBlocks, quantizeColumnsInt8, quantizeTable, quantizeTensorUint8, scaleRows, smoothingFactors, transposeMatrix } from "./quantize.js";

const MS = "com.microsoft";
/** Block size of int4 dense weights (MatMulNBits) and of quantized embedding rows. */
const DENSE_BLOCK = 32;
export const EMBEDDING_BLOCK = 32;

/** Per input channel, the largest |activation| seen at each dense layer's input (by layer name). */
export type CalibrationStats = ReadonlyMap<string, Float32Array>;

export class QuantizedWeights implements WeightEncoder {
  constructor(
    readonly plan: QuantPlan,
    private readonly calibration?: CalibrationStats,
  ) {}

  dense(g: GraphBuilder, x: string, kernel: Tensor, bias: Tensor | undefined, role: DenseRole, name: string): string | null {
    const scheme = this.plan[role];
    if (scheme === "float") return null;
    const [K, N] = kernel.shape.length === 2 ? kernel.shape : [kernel.shape[0], kernel.data.length / kernel.shape[0]];
    const w = toFloat32(kernel);
    const b = bias ? g.floatWeight("bias", bias, [N]) : undefined;
    if (scheme === "int8") {
      let input = x;
      let kernelValues = w;
      const activationMax = this.calibration?.get(name);
      if (activationMax) {
        const s = smoothingFactors(activationMax, w, K, N);
        input = g.op("Mul", [x, g.weight("smooth", { dtype: "float32", shape: [K], data: s.map((v) => 1 / v) })]);
        kernelValues = scaleRows(w, K, N, s);
      }
      const { q, scales } = quantizeColumnsInt8(kernelValues, K, N);
      const inputs = [input, g.raw("kernel_int8", "int8", [K, N], bytes(q)), g.weight("kernel_scale", { dtype: "float32", shape: [N], data: scales })];
      return g.op("DynamicQuantizeMatMul", b ? [...inputs, "", b] : inputs, {}, { domain: MS });
    }
    if (scheme === "int4") {
      const t = quantizeBlocks(transposeMatrix(w, K, N), N, K, 4, DENSE_BLOCK);
      const blocks = K / DENSE_BLOCK;
      const inputs = [
        x,
        g.raw("kernel_int4", "uint8", [N, blocks, (DENSE_BLOCK * 4) / 8], t.codes),
        g.weight("kernel_scale", { dtype: "float32", shape: [N * blocks], data: t.scales }),
        g.raw("kernel_zero_point", "uint8", [t.zeroPoints.length], t.zeroPoints),
      ];
      const attrs = { K: int(K), N: int(N), bits: int(4), block_size: int(DENSE_BLOCK), accuracy_level: int(0) };
      return g.op("MatMulNBits", b ? [...inputs, "", b] : inputs, attrs, { domain: MS });
    }
    // q8-tensor: the transformers.js recipe, kept as the peer.
    const { q, scale, zeroPoint } = quantizeTensorUint8(w);
    const [xq, xScale, xZero] = g.opMulti("DynamicQuantizeLinear", [x], {}, { outputs: 3 });
    const wZero = g.raw("kernel_zero_point", "uint8", [], Uint8Array.of(zeroPoint));
    const product = g.op("MatMulInteger", [xq, g.raw("kernel_uint8", "uint8", [K, N], q), xZero, wZero]);
    const y = g.op("Mul", [g.op("Cast", [product], { to: int(1) }), g.op("Mul", [xScale, g.constFloat(scale)])]);
    return b ? g.op("Add", [y, b]) : y;
  }

  /**
   * Feed-forward layers with int8 or int4 weights take onnxruntime's FastGelu (com.microsoft: the tanh form) for the
   * exact GELU: 3-4% of an int8 DistilBERT forward in WASM (its erf runs one value at a time), and its error
   * (|Δ| ≤ 4.8e-4) is far below what int8 activations already round off. The fidelity bars are measured against
   * the exact float graph. The peer recipe keeps the exact op, as transformers.js runs it.
   */
  gelu(g: GraphBuilder, x: string): string | null {
    return this.plan.ffn === "int8" || this.plan.ffn === "int4" ? g.op("FastGelu", [x], {}, { domain: MS }) : null;
  }

  gather(g: GraphBuilder, table: Tensor, ids: string): string | null {
    const scheme = this.plan.embedding;
    if (scheme === "float") return null;
    const [V, H] = table.shape;
    const t = quantizeEmbedding(table, scheme === "int8" ? 8 : 4);
    const attrs = { gather_axis: int(0), quantize_axis: int(1), block_size: int(EMBEDDING_BLOCK), bits: int(t.bits) };
    const rows = g.op(
      "GatherBlockQuantized",
      [
        g.raw("embeddings_quantized", "uint8", [V, (H * t.bits) / 8], t.codes),
        ids,
        g.weight("embeddings_scale", { dtype: "float32", shape: [V, H / EMBEDDING_BLOCK], data: t.scales }),
        g.raw("embeddings_zero_point", "uint8", [V, t.zeroPoints.length / V], t.zeroPoints),
      ],
      attrs,
      { domain: MS },
    );
    return g.op("Mul", [rows, g.weight("embeddings_column_scale", { dtype: "float32", shape: [H], data: t.columnScales! })]);
  }
}

/**
 * The embedding table as column-scaled, block-quantized rows (what GatherBlockQuantized and the edge lookup read);
 * `blockSize` "row": one scale per row.
 */
export function quantizeEmbedding(table: Tensor, bits: 4 | 8, blockSize: number | "row" = EMBEDDING_BLOCK) {
  const [V, H] = table.shape;
  return quantizeTable(toFloat32(table), V, H, bits, blockSize === "row" ? H : blockSize);
}

/**
 * Float dense layers that also output their input (`probe:<layer name>`) so that a calibration run can record
 * each input channel's range (`collectCalibration`).
 */
export class CalibrationProbes implements WeightEncoder {
  readonly names: string[] = [];

  dense(g: GraphBuilder, x: string, _kernel: Tensor, _bias: Tensor | undefined, _role: DenseRole, name: string): null {
    const dims = ["batch", "sequence", "channels"];
    g.output(g.op("Identity", [x]), `probe:${name}`, "float32", dims);
    this.names.push(name);
    return null;
  }
}

/** Folds probe outputs ([..., K] float32) into per-channel max |x| over valid (unpadded) positions. */
export function accumulateCalibration(stats: Map<string, Float32Array>, outputs: ReadonlyMap<string, { data: Float32Array; dims: readonly number[] }>, paddingMask: Int32Array): void {
  for (const [output, { data, dims }] of outputs) {
    if (!output.startsWith("probe:")) continue;
    const name = output.slice("probe:".length);
    const K = dims[dims.length - 1];
    const max = stats.get(name) ?? new Float32Array(K);
    for (let row = 0; row < paddingMask.length; row++) {
      if (!paddingMask[row]) continue;
      for (let k = 0; k < K; k++) max[k] = Math.max(max[k], Math.abs(data[row * K + k]));
    }
    stats.set(name, max);
  }
}

function bytes(a: Int8Array): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}
