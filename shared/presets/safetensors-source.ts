/**
 * One safetensors file of a preset, read tensor by tensor. Where the store reads byte ranges (files, R2) only
 * the header and then each asked-for tensor are read, so files and shards of any size load without a
 * whole-file buffer (Node 20's `readFile` stops at 2 GiB, typed arrays at 4 GiB). Other stores read the
 * file once and hand out views.
 */
import { castTensor, type FloatDType, type Tensor } from "../tensor/tensor.js";
import { headerOfBytes, parseSafetensorsHeader, safetensorsHeaderLength, tensorFromBytes, type SafetensorsHeader } from "../weights/safetensors.js";
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
    const entry = this.header.entries.get(name);
    if (!entry) throw new Error(`${this.location} has no tensor "${name}"`);
    const bytes = this.whole
      ? this.whole.subarray(entry.begin, entry.end)
      : await exactRange(this.files, this.file, entry.begin, entry.end - entry.begin, `tensor "${name}"`);
    const tensor = tensorFromBytes(entry, bytes);
    return dtype ? castTensor(tensor, dtype) : tensor;
  }
}

async function exactRange(files: PresetFiles, file: string, offset: number, length: number, what: string): Promise<Uint8Array> {
  const bytes = await files.readRange!(file, offset, length);
  if (!bytes || bytes.byteLength !== length) {
    throw new Error(`${files.location}/${file} is truncated: ${what} needs bytes [${offset}, ${offset + length}), the file ends before`);
  }
  return bytes;
}
