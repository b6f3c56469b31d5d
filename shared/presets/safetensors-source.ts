/**
 * One safetensors file of a preset, read tensor by tensor. Where the store reads byte ranges (files, R2) only
 * the header and then each asked-for tensor are read, so files and shards of any size load without a
 * whole-file buffer (Node 20's `readFile` stops at 2 GiB, typed arrays at 4 GiB). Other stores read the
 * file once and hand out views.
 */
import { bytesPerElement, castTensor, type FloatDType, type Tensor } from "../tensor/tensor.js";
import { LazyTensor } from "../tensor/lazy.js";
import { headerOfBytes, parseSafetensorsHeader, safetensorsHeaderLength, tensorFromBytes, type SafetensorsHeader, type TensorEntry } from "../weights/safetensors.js";
import type { PresetFiles } from "./store.js";

export class SafetensorsSource {
  private constructor(
    private readonly files: PresetFiles,
    readonly file: string,
    readonly header: SafetensorsHeader,
    /** The whole file, when the store cannot read ranges. */
    private readonly whole: Uint8Array | null,
  ) {}

  /** The file's header, or null when the preset has no such file. */
  static async open(files: PresetFiles, file: string): Promise<SafetensorsSource | null> {
    const source = `${files.location}/${file}`;
    if (!files.readRange) {
      const bytes = await files.read(file);
      if (!bytes) return null;
      return new SafetensorsSource(files, file, headerOfBytes(bytes, source), bytes);
    }
    const first = await files.readRange(file, 0, 8);
    if (!first) return null;
    const length = safetensorsHeaderLength(first, source);
    const json = await exactRange(files, file, 8, length, "header");
    return new SafetensorsSource(files, file, parseSafetensorsHeader(json, source), null);
  }

  get location(): string {
    return `${this.files.location}/${this.file}`;
  }

  names(): IterableIterator<string> {
    return this.header.entries.keys();
  }

  /** One tensor, converted to `dtype` when given (one tensor at a time: the source bytes are dropped after). */
  async tensor(name: string, dtype?: FloatDType): Promise<Tensor> {
    const entry = this.entry(name);
    const tensor = tensorFromBytes(entry, await this.bytes(entry.begin, entry.end - entry.begin, `tensor "${name}"`));
    return dtype ? castTensor(tensor, dtype) : tensor;
  }

  /**
   * One tensor as a lazy tensor (converted to `dtype` when given): nothing is read until its values are needed,
   * then the whole tensor, or any element range of it, by byte range.
   */
  lazyTensor(name: string, dtype?: FloatDType): LazyTensor {
    const entry = this.entry(name);
    const width = bytesPerElement(entry.dtype);
    const readRange = async (start: number, count: number) => {
      const bytes = await this.bytes(entry.begin + start * width, count * width, `tensor "${name}"`);
      const part = tensorFromBytes({ ...entry, shape: [count] }, bytes);
      return (dtype ? castTensor(part, dtype) : part).data;
    };
    return new LazyTensor(dtype ?? entry.dtype, entry.shape, `${this.location}: ${name}`, async () => (await this.tensor(name, dtype)).data, readRange);
  }

  private entry(name: string): TensorEntry {
    const entry = this.header.entries.get(name);
    if (!entry) throw new Error(`${this.location} has no tensor "${name}"`);
    return entry;
  }

  private async bytes(offset: number, length: number, what: string): Promise<Uint8Array> {
    return this.whole ? this.whole.subarray(offset, offset + length) : exactRange(this.files, this.file, offset, length, what);
  }
}

async function exactRange(files: PresetFiles, file: string, offset: number, length: number, what: string): Promise<Uint8Array> {
  const bytes = await files.readRange!(file, offset, length);
  if (!bytes || bytes.byteLength !== length) {
    throw new Error(`${files.location}/${file} is truncated: ${what} needs bytes [${offset}, ${offset + length}), the file ends before`);
  }
  return bytes;
}
