/**
 * A `PresetStore` over an R2 bucket. Layout (shared/runner/layout.ts): `presets/<name>/<file>` — the files
 * `saveToPreset` writes (config.json, metadata.json, model.safetensors) plus the tokenizer (`tokenizer.hf.json`,
 * and KerasHub's `tokenizer.json` / `assets/tokenizer/…`). Hugging Face-format preset dirs (config.json with
 * `model_type`) work too, as they do from any store.
 */
import type { PresetFiles, PresetStore } from "../shared/index.js";
import { PRESET_PREFIX, presetFileKey, presetOfConfigKey } from "../shared/runner/layout.js";
import type { R2BucketLike } from "./env.js";

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

export function isPresetName(name: string): boolean {
  return NAME.test(name) && !name.includes("..");
}

/** The installed presets (those whose config.json is stored), by name, each with the time its config was stored. */
export async function listPresets(bucket: R2BucketLike): Promise<{ name: string; uploaded: Date }[]> {
  const presets: { name: string; uploaded: Date }[] = [];
  let cursor: string | undefined;
  do {
    const page = await bucket.list({ prefix: PRESET_PREFIX, cursor });
    for (const object of page.objects) {
      const name = presetOfConfigKey(object.key);
      if (name !== null && isPresetName(name)) presets.push({ name, uploaded: object.uploaded });
    }
    cursor = page.truncated ? page.cursor : undefined;
  } while (cursor);
  return presets.sort((a, b) => (a.name < b.name ? -1 : 1));
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
        const object = await bucket.get(presetFileKey(key, file));
        return object ? new Uint8Array(await object.arrayBuffer()) : null;
      },
      async write(file, bytes) {
        await bucket.put(presetFileKey(key, file), bytes);
      },
    };
  }
}
