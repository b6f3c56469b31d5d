/**
 * Reads tensors from a Hugging Face checkpoint: `model.safetensors`, or `model.safetensors.index.json`
 * plus shards. Keys are asked for without the task prefix; the prefix (`model.`, `distilbert.`, `roberta.`,
 * …) is detected once from a key that every checkpoint of the family has (like KerasHub's SafetensorLoader).
 */
import { readSafetensors } from "../weights/safetensors.js";
import type { Tensor } from "../tensor/tensor.js";
import type { PresetFiles } from "./store.js";

export class HfCheckpoint {
  private prefix: string | null = null;

  private constructor(
    private readonly files: PresetFiles,
    /** key → shard file name. */
    private readonly weightMap: Map<string, string>,
    private readonly shards = new Map<string, Map<string, Tensor>>(),
  ) {}

  static async open(files: PresetFiles): Promise<HfCheckpoint> {
    const index = await files.read("model.safetensors.index.json");
    if (index) {
      const parsed = JSON.parse(new TextDecoder().decode(index)) as { weight_map?: Record<string, string> };
      if (!parsed.weight_map) throw new Error(`${files.location}/model.safetensors.index.json has no weight_map`);
      return new HfCheckpoint(files, new Map(Object.entries(parsed.weight_map)));
    }
    const bytes = await files.read("model.safetensors");
    if (!bytes) {
      const hasBin = (await files.read("pytorch_model.bin")) !== null;
      throw new Error(
        `${files.location} has no model.safetensors` +
          (hasBin ? " (pytorch_model.bin is not supported: convert it to safetensors first)" : ""),
      );
    }
    const { tensors } = readSafetensors(bytes, `${files.location}/model.safetensors`);
    const checkpoint = new HfCheckpoint(files, new Map([...tensors.keys()].map((k) => [k, "model.safetensors"])));
    checkpoint.shards.set("model.safetensors", tensors);
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
    let tensors = this.shards.get(shard);
    if (!tensors) {
      const bytes = await this.files.read(shard);
      if (!bytes) throw new Error(`${this.files.location}: shard ${shard} listed in the index is missing`);
      tensors = readSafetensors(bytes, `${this.files.location}/${shard}`).tensors;
      this.shards.set(shard, tensors);
    }
    return tensors.get(full)!;
  }

  has(key: string): boolean {
    return this.prefix !== null && this.weightMap.has(this.prefix + key);
  }
}
