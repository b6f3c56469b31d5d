/**
 * Reads tensors from a Hugging Face checkpoint: `model.safetensors`, or `model.safetensors.index.json`
 * plus shards. Keys are asked for without the task prefix; the prefix (`model.`, `distilbert.`, `roberta.`,
 * …) is detected once from a key that every checkpoint of the family has (like KerasHub's SafetensorLoader).
 * Tensors are read one at a time by byte range (SafetensorsSource) and converted to the backbone's dtype as
 * they are read, so a bf16 checkpoint never sits in memory beside its fp32 copy. A lazy checkpoint hands out
 * lazy tensors instead (read only when a graph's external data is written).
 */
import type { FloatDType, Tensor } from "../tensor/tensor.js";
import { SafetensorsSource } from "./safetensors-source.js";
import { hasFile, readJson, type PresetFiles } from "./store.js";

export class HfCheckpoint {
  private prefix: string | null = null;
  private readonly shards = new Map<string, Promise<SafetensorsSource>>();

  private constructor(
    private readonly files: PresetFiles,
    /** key → shard file name. */
    private readonly weightMap: Map<string, string>,
    /** The dtype tensors are converted to as they are read (default: as stored). */
    private readonly dtype?: FloatDType,
    /** get() returns lazy tensors (SafetensorsSource.lazyTensor). */
    private readonly lazy = false,
  ) {}

  static async open(files: PresetFiles, dtype?: FloatDType, options: { lazy?: boolean } = {}): Promise<HfCheckpoint> {
    const index = await readJson(files, "model.safetensors.index.json");
    if (index) {
      const weightMap = index.weight_map;
      if (!weightMap || typeof weightMap !== "object") throw new Error(`${files.location}/model.safetensors.index.json has no weight_map`);
      return new HfCheckpoint(files, new Map(Object.entries(weightMap as Record<string, string>)), dtype, options.lazy);
    }
    const single = await SafetensorsSource.open(files, "model.safetensors");
    if (!single) {
      const hasBin = await hasFile(files, "pytorch_model.bin");
      throw new Error(
        `${files.location} has no model.safetensors` + (hasBin ? " (pytorch_model.bin is not supported: convert it to safetensors first)" : ""),
      );
    }
    const checkpoint = new HfCheckpoint(files, new Map([...single.names()].map((k) => [k, single.file])), dtype, options.lazy);
    checkpoint.shards.set(single.file, Promise.resolve(single));
    return checkpoint;
  }

  /** Detects the key prefix from `anchor` (e.g. "embed_tokens.weight" → prefix "model."). */
  detectPrefix(anchor: string): void {
    for (const key of this.weightMap.keys()) {
      if (key === anchor || key.endsWith(`.${anchor}`)) {
        this.prefix = key.slice(0, key.length - anchor.length);
        return;
      }
    }
    throw new Error(`${this.files.location}: no tensor named like "${anchor}" in the checkpoint; is this the right model type?`);
  }

  async get(key: string): Promise<Tensor> {
    if (this.prefix === null) throw new Error("internal: detectPrefix() before get()");
    const full = this.prefix + key;
    const shard = this.weightMap.get(full);
    if (!shard) throw new Error(`${this.files.location}: checkpoint has no tensor "${full}"`);
    const source = await this.shard(shard);
    return this.lazy ? source.lazyTensor(full, this.dtype) : source.tensor(full, this.dtype);
  }

  has(key: string): boolean {
    return this.prefix !== null && this.weightMap.has(this.prefix + key);
  }

  private shard(file: string): Promise<SafetensorsSource> {
    let source = this.shards.get(file);
    if (!source) {
      source = SafetensorsSource.open(this.files, file).then((s) => {
        if (!s) throw new Error(`${this.files.location}: shard ${file} listed in the index is missing`);
        return s;
      });
      this.shards.set(file, source);
    }
    return source;
  }
}
