/**
 * Tensors whose values stay where they are stored (a checkpoint's byte range) until something needs them:
 * shape and dtype are known up front, values are read on demand. The layout transforms of `ops.ts` on a lazy
 * tensor give a lazy tensor, so a backbone builds exactly the graph it builds from loaded weights while holding
 * none; the weights are then read one tensor at a time as the graph's ONNX external data is written
 * (`shared/node/external-data.ts`). Reading `data` throws: load() a lazy tensor to get its values.
 */
import { bytesPerElement, sizeOf, type FloatDType, type Tensor } from "./tensor.js";

export type TensorValues = Float32Array | Uint16Array;

export class LazyTensor implements Tensor {
  constructor(
    readonly dtype: FloatDType,
    readonly shape: readonly number[],
    /** What the tensor is, for messages (`<file>: <tensor name>`). */
    readonly source: string,
    private readonly read: () => Promise<TensorValues>,
    /**
     * `count` values from element `start` (row-major), without reading the rest; null when the values only exist
     * as a whole (a transposed or concatenated tensor). Lets a 2 GB embedding be copied in pieces.
     */
    readonly readRange: ((start: number, count: number) => Promise<TensorValues>) | null = null,
  ) {}

  get data(): never {
    throw new Error(`${this.source} is read lazily (weights loaded with lazyWeights): its values are only read into ONNX external data; load() it, or load the model without lazyWeights`);
  }

  get byteLength(): number {
    return sizeOf(this.shape) * bytesPerElement(this.dtype);
  }

  async load(): Promise<Tensor> {
    const data = await this.read();
    const bytes = data instanceof Float32Array ? 4 : 2;
    if (data.length !== sizeOf(this.shape) || bytes !== bytesPerElement(this.dtype)) {
      throw new Error(`internal: ${this.source} read ${data.length} ${bytes}-byte values, expected [${this.shape}] ${this.dtype}`);
    }
    return { dtype: this.dtype, shape: this.shape, data };
  }

  /** The same values viewed as `shape` (row-major order is kept, so ranges still read straight from the source). */
  reshape(shape: readonly number[]): LazyTensor {
    return new LazyTensor(this.dtype, [...shape], this.source, this.read, this.readRange);
  }

  /** A tensor computed from `inputs` once they are loaded (a transpose, a concatenation, 1 + w), itself lazy. */
  static derive(inputs: readonly Tensor[], dtype: FloatDType, shape: readonly number[], compute: (loaded: Tensor[]) => Tensor): LazyTensor {
    const source = inputs.find(isLazy)?.source ?? "derived tensor";
    return new LazyTensor(dtype, [...shape], source, async () => {
      const loaded: Tensor[] = [];
      for (const t of inputs) loaded.push(isLazy(t) ? await t.load() : t); // one input at a time
      return compute(loaded).data;
    });
  }
}

export function isLazy(t: Tensor): t is LazyTensor {
  return t instanceof LazyTensor;
}
