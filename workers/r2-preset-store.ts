/**
 * A `PresetStore` over an R2 bucket. Layout: `presets/<name>/<file>` — the files `saveToPreset` writes
 * (config.json, metadata.json, model.safetensors) plus the tokenizer (`tokenizer.hf.json`, and KerasHub's
 * `tokenizer.json` / `assets/tokenizer/…`). Hugging Face-format preset dirs (config.json with `model_type`)
 * work too, as they do from any store.
 */
import type { PresetFiles, PresetStore } from "../shared/index.js";
import type { R2BucketLike } from "./env.js";

export const PRESET_PREFIX = "presets/";
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

export function isPresetName(name: string): boolean {
  return NAME.test(name) && !name.includes("..");
}

export function presetKey(name: string, file: string): string {
  return `${PRESET_PREFIX}${name}/${file}`;
}

export class R2PresetStore implements PresetStore {
  readonly description: string;

  constructor(
    private readonly bucket: R2BucketLike,
    bucketName = "BUCKET",
  ) {
    this.description = `R2 bucket ${bucketName} (${PRESET_PREFIX}<name>/)`;
  }

  open(key: string): PresetFiles {
    const bucket = this.bucket;
    return {
      location: `r2://${PRESET_PREFIX}${key}`,
      async read(file) {
        const object = await bucket.get(presetKey(key, file));
        return object ? new Uint8Array(await object.arrayBuffer()) : null;
      },
      async write(file, bytes) {
        await bucket.put(presetKey(key, file), bytes);
      },
    };
  }
}
