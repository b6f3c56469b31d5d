/**
 * A small, typed layer over the ONNX protobuf schema (onnx-proto / protobufjs) that every backbone uses to
 * emit its graph: named values, initializers, scoped node names, typed attributes. Models never touch protobuf.
 */
import onnxProto from "onnx-proto";
import type { Tensor } from "../tensor/tensor.js";
import { sizeOf } from "../tensor/tensor.js";
import { isLazy, type LazyTensor } from "../tensor/lazy.js";

const { onnx } = onnxProto;

export type ElemType = "float32" | "float16" | "bfloat16" | "int32" | "int64" | "bool" | "int8" | "uint8";
export type Dim = number | string;

const ELEM: Record<ElemType, number> = {
  float32: onnx.TensorProto.DataType.FLOAT,
  float16: onnx.TensorProto.DataType.FLOAT16,
  bfloat16: onnx.TensorProto.DataType.BFLOAT16,
  int32: onnx.TensorProto.DataType.INT32,
  int64: onnx.TensorProto.DataType.INT64,
  bool: onnx.TensorProto.DataType.BOOL,
  int8: onnx.TensorProto.DataType.INT8,
  uint8: onnx.TensorProto.DataType.UINT8,
};

/** Attribute values are tagged so that `1.0` (float) and `1` (int) cannot be confused. */
export type Attr =
  | { int: number }
  | { float: number }
  | { ints: readonly number[] }
  | { floats: readonly number[] }
  | { string: string }
  | { graph: onnxProto.onnx.IGraphProto };
export const int = (v: number): Attr => ({ int: v });
export const float = (v: number): Attr => ({ float: v });
export const ints = (v: readonly number[]): Attr => ({ ints: v });

export interface OpOptions {
  domain?: string;
  /** Number of outputs; op() returns the first, opMulti() all of them. */
  outputs?: number;
  /** Explicit name for the (first) output, e.g. a graph output. */
  name?: string;
}

/** A protobuf message is limited to 2 GiB; leave room for the graph itself. */
export const MAX_EMBEDDED_BYTES = 2 ** 31 - 2 ** 26;
const EXTERNAL_ALIGNMENT = 4096;
const gib = (bytes: number) => (bytes / 2 ** 30).toFixed(2);

/**
 * A piece of an external data file: bytes (weights held in memory, referenced) or a lazy tensor whose values
 * are read from its checkpoint when the file is written.
 */
export type ExternalChunk = Uint8Array | LazyTensor;

/** A model whose large weights live in one external data file (`encodeSplit`). */
export interface SplitModel<Chunk extends ExternalChunk = ExternalChunk> {
  model: Uint8Array;
  externalData: { location: string; chunks: Chunk[]; bytes: number };
}

/** What a dense layer is, for weight encodings chosen per role (e.g. int8 attention, int4 feed-forward). */
export type DenseRole = "attention" | "ffn";

/**
 * Emits weight-bearing layers in some encoding (quantized weights, calibration probes, …) instead of plain
 * float32. `name` is unique in the graph (the layer's scope path); returning null leaves a layer to the float path.
 */
export interface WeightEncoder {
  /** x·W (+ b) for a [K, N] kernel. */
  dense(g: GraphBuilder, x: string, kernel: Tensor, bias: Tensor | undefined, role: DenseRole, name: string): string | null;
  /** Rows of a [V, H] embedding table gathered by `ids`. */
  gather?(g: GraphBuilder, table: Tensor, ids: string, name: string): string | null;
  /** Exact (erf) GELU of `x`, if the encoding computes it otherwise. */
  gelu?(g: GraphBuilder, x: string): string | null;
}

export interface GraphBuilderOptions {
  weights?: WeightEncoder;
}

/** ONNX opset of the default domain. 20 gives the Gelu op; ORT ≥ 1.17 (web and node) implements it. */
const OPSET = 20;

export class GraphBuilder {
  private nodes: onnxProto.onnx.INodeProto[] = [];
  private readonly initializers: onnxProto.onnx.ITensorProto[] = [];
  private readonly inputs: onnxProto.onnx.IValueInfoProto[] = [];
  private readonly outputs: onnxProto.onnx.IValueInfoProto[] = [];
  private readonly used = new Map<string, number>();
  private readonly constants = new Map<string, string>();
  private readonly scopes: string[] = [];
  /** Initializers whose values are read lazily (by name): they can only go to external data. */
  private readonly lazy = new Map<string, LazyTensor>();

  constructor(
    readonly graphName: string,
    readonly options: GraphBuilderOptions = {},
  ) {}

  /** The current scope path (`transformer_layer_0/self_attention_layer`). */
  get scopePath(): string {
    return this.scopes.join("/");
  }

  /** Runs `fn` with `scope/` prefixed to every generated name (mirrors KerasHub layer paths). */
  scope<T>(name: string, fn: () => T): T {
    this.scopes.push(name);
    try {
      return fn();
    } finally {
      this.scopes.pop();
    }
  }

  private unique(base: string): string {
    const full = [...this.scopes, base].join("/");
    const n = this.used.get(full) ?? 0;
    this.used.set(full, n + 1);
    return n === 0 ? full : `${full}_${n}`;
  }

  input(name: string, type: ElemType, dims: readonly Dim[]): string {
    this.inputs.push(valueInfo(name, type, dims));
    return name;
  }

  output(value: string, name: string, type: ElemType, dims: readonly Dim[]): void {
    if (value !== name) this.op("Identity", [value], {}, { name });
    this.outputs.push(valueInfo(name, type, dims));
  }

  /** Adds a float32 (or float16) initializer. The data is referenced, not copied, until encode(). */
  weight(name: string, t: { dtype: "float32" | "float16"; shape: readonly number[]; data: Float32Array | Uint16Array }): string {
    return this.tensorInitializer(name, t, t.shape);
  }

  /** An initializer holding `t`'s values viewed as `dims`: referenced bytes, or a lazy tensor read when written. */
  private tensorInitializer(name: string, t: Tensor, dims: readonly number[]): string {
    const full = this.unique(name);
    if (isLazy(t)) {
      this.initializers.push({ name: full, dataType: ELEM[t.dtype], dims: [...dims] });
      this.lazy.set(full, t);
    } else {
      this.initializers.push({ name: full, dataType: ELEM[t.dtype], dims: [...dims], rawData: new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength) });
    }
    return full;
  }

  /** An initializer of any element type from its raw little-endian bytes (referenced, not copied). */
  raw(name: string, type: ElemType, dims: readonly number[], bytes: Uint8Array): string {
    const full = this.unique(name);
    this.initializers.push({ name: full, dataType: ELEM[type], dims: [...dims], rawData: bytes });
    return full;
  }

  /**
   * A weight as a float32 value. Half-precision weights stay 16-bit in the model file (half the bytes)
   * and are widened by a Cast node: compute is float32 either way.
   */
  floatWeight(name: string, t: Tensor, shape: readonly number[] = t.shape): string {
    if (sizeOf(shape) !== sizeOf(t.shape)) throw new Error(`internal: ${name} cannot be viewed as [${shape}]`);
    const full = this.tensorInitializer(name, t, shape);
    return t.dtype === "float32" ? full : this.op("Cast", [full], { to: int(onnx.TensorProto.DataType.FLOAT) });
  }

  /** Deduplicated small constants (shapes, axes, scalars). */
  constInt64(values: readonly number[], scalar = false): string {
    return this.constant("int64", values, scalar, () => new Uint8Array(BigInt64Array.from(values, BigInt).buffer));
  }

  constFloat(values: readonly number[] | number): string {
    const list = typeof values === "number" ? [values] : values;
    return this.constant("float32", list, typeof values === "number", () => new Uint8Array(Float32Array.from(list).buffer));
  }

  private constant(type: ElemType, values: readonly number[], scalar: boolean, raw: () => Uint8Array): string {
    const key = `${type}:${scalar ? "s" : "v"}:${values.join(",")}`;
    let name = this.constants.get(key);
    if (!name) {
      name = `const_${this.constants.size}`;
      this.constants.set(key, name);
      this.initializers.push({ name, dataType: ELEM[type], dims: scalar ? [] : [values.length], rawData: raw() });
    }
    return name;
  }

  op(type: string, inputs: readonly string[], attrs: Record<string, Attr> = {}, options: OpOptions = {}): string {
    return this.opMulti(type, inputs, attrs, options)[0];
  }

  opMulti(type: string, inputs: readonly string[], attrs: Record<string, Attr> = {}, options: OpOptions = {}): string[] {
    const nodeName = this.unique(type);
    const count = options.outputs ?? 1;
    const outputs = Array.from({ length: count }, (_, i) => (i === 0 && options.name ? options.name : `${nodeName}:${i}`));
    this.nodes.push({
      name: nodeName,
      opType: type,
      domain: options.domain ?? "",
      input: [...inputs],
      output: outputs,
      attribute: Object.entries(attrs).map(([name, value]) => attribute(name, value)),
    });
    return outputs;
  }

  /**
   * A subgraph (an `If` branch): the nodes `fn` emits go into it, and what it returns are its outputs (float32).
   * Initializers, constants and graph inputs stay in the main graph, which the branch reads as its outer scope.
   */
  branch(name: string, fn: () => string[]): onnxProto.onnx.IGraphProto {
    const outer = this.nodes;
    this.nodes = [];
    try {
      const outputs = fn().map((value) => (outer.some((n) => n.output?.includes(value)) ? this.op("Identity", [value]) : value));
      return { name: this.unique(name), node: this.nodes, output: outputs.map((value) => ({ name: value, type: { tensorType: { elemType: ELEM.float32 } } })) };
    } finally {
      this.nodes = outer;
    }
  }

  /** Bytes of all initializers (what one protobuf would have to hold). */
  get initializerBytes(): number {
    return this.initializers.reduce((n, t) => n + (t.rawData?.byteLength ?? this.lazy.get(t.name!)?.byteLength ?? 0), 0);
  }

  /** True when some weights are read lazily (the model then needs external data). */
  get hasLazyWeights(): boolean {
    return this.lazy.size > 0;
  }

  /** Serialises the model. Weights must fit in one protobuf (< 2 GiB); bigger models need `encodeSplit`. */
  encode(): Uint8Array {
    if (this.hasLazyWeights) throw new Error(`${this.graphName}: its weights are read lazily from their checkpoint, so they can only go to an external data file (encodeSplit)`);
    if (this.initializerBytes > MAX_EMBEDDED_BYTES) {
      throw new Error(`${this.graphName}: ${gib(this.initializerBytes)} GiB of weights do not fit in one ONNX protobuf (2 GiB); use external data`);
    }
    return this.serialize(this.initializers);
  }

  /**
   * Serialises the model with every initializer of at least `minBytes` moved to an external data file named
   * `location` (ONNX external data: offsets aligned to 4 KiB so runtimes can map the file). Returns the model and
   * the file's contents as chunks in order (zero padding included); the weights are referenced, not copied.
   */
  encodeSplit(location: string, minBytes = 1024): SplitModel<Uint8Array> {
    if (this.hasLazyWeights) throw new Error(`${this.graphName}: some weights are read lazily; use encodeSplitLazy`);
    return this.encodeSplitLazy(location, minBytes) as SplitModel<Uint8Array>; // no lazy chunk without lazy weights
  }

  /** `encodeSplit` where lazy weights are external data chunks too, read only when the file is written. */
  encodeSplitLazy(location: string, minBytes = 1024): SplitModel {
    const chunks: ExternalChunk[] = [];
    let offset = 0;
    const initializers = this.initializers.map((t) => {
      const chunk: ExternalChunk | undefined = this.lazy.get(t.name!) ?? (t.rawData as Uint8Array | undefined);
      if (!chunk || (chunk instanceof Uint8Array && chunk.byteLength < minBytes)) return t;
      const start = Math.ceil(offset / EXTERNAL_ALIGNMENT) * EXTERNAL_ALIGNMENT;
      if (start > offset) chunks.push(new Uint8Array(start - offset));
      chunks.push(chunk);
      offset = start + chunk.byteLength;
      const externalData = [
        { key: "location", value: location },
        { key: "offset", value: String(start) },
        { key: "length", value: String(chunk.byteLength) },
      ];
      return { ...t, rawData: undefined, dataLocation: onnx.TensorProto.DataLocation.EXTERNAL, externalData };
    });
    return { model: this.serialize(initializers), externalData: { location, chunks, bytes: offset } };
  }

  private serialize(initializers: onnxProto.onnx.ITensorProto[]): Uint8Array {
    const model = onnx.ModelProto.create({
      irVersion: 9,
      producerName: "edgebone",
      opsetImport: [
        { domain: "", version: OPSET },
        { domain: "com.microsoft", version: 1 },
      ],
      graph: {
        name: this.graphName,
        node: this.nodes,
        initializer: initializers,
        input: this.inputs,
        output: this.outputs,
      },
    });
    return onnx.ModelProto.encode(model).finish();
  }
}

function valueInfo(name: string, type: ElemType, dims: readonly Dim[]): onnxProto.onnx.IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType: ELEM[type],
        shape: { dim: dims.map((d) => (typeof d === "number" ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}

function attribute(name: string, value: Attr): onnxProto.onnx.IAttributeProto {
  const T = onnx.AttributeProto.AttributeType;
  if ("int" in value) return { name, type: T.INT, i: value.int };
  if ("float" in value) return { name, type: T.FLOAT, f: value.float };
  if ("ints" in value) return { name, type: T.INTS, ints: [...value.ints] };
  if ("floats" in value) return { name, type: T.FLOATS, floats: [...value.floats] };
  if ("graph" in value) return { name, type: T.GRAPH, g: value.graph };
  return { name, type: T.STRING, s: new TextEncoder().encode(value.string) };
}
