/**
 * A `PresetStore` over an R2 bucket. Layout (shared/runner/layout.ts): `presets/<name>/<file>` — the files
 * `saveToPreset` writes (config.json, metadata.json, model.safetensors) plus the tokenizer (`tokenizer.hf.json`,
 * and KerasHub's `tokenizer.json` / `assets/tokenizer/…`). Hugging Face-format preset dirs (config.json with
 * `model_type`) work too, as they do from any store.
 */
import type { EdgeFiles, PresetFiles, PresetStore } from "../shared/index.js";
import { PRESET_PREFIX, presetFileKey, presetOfRecordKey } from "../shared/runner/layout.js";
import type { R2BucketLike } from "./env.js";

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

export function isPresetName(name: string): boolean {
  return NAME.test(name) && !name.includes("..");
}

/** The installed presets (those whose record.json is stored: workers/preset-install.ts), by name, each with the time their install committed. */
export async function listPresets(bucket: R2BucketLike): Promise<{ name: string; uploaded: Date }[]> {
  const presets: { name: string; uploaded: Date }[] = [];
  let cursor: string | undefined;
  do {
    const page = await bucket.list({ prefix: PRESET_PREFIX, cursor });
    for (const object of page.objects) {
      const name = presetOfRecordKey(object.key);
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

  open(key: string): PresetFiles & Required<Pick<EdgeFiles, "readInto" | "readRange">> {
    const bucket = this.bucket;
    return {
      location: `r2://${PRESET_PREFIX}${key}`,
      async read(file) {
        const object = await bucket.get(presetFileKey(key, file));
        return object ? new Uint8Array(await object.arrayBuffer()) : null;
      },
      // Edge artifact weights: streamed straight into the loader's buffer (no copy of the object in JS memory);
      // the sha256 R2 verified at upload (preset installs send it) comes back as the object's checksum.
      async readInto(file: string, target: Uint8Array) {
        const object = await bucket.get(presetFileKey(key, file));
        if (!object) return null;
        const sha256 = object.checksums?.sha256 ? toHex(object.checksums.sha256) : undefined;
        if (object.size !== target.byteLength) {
          await object.body.cancel();
          return { size: object.size, sha256 };
        }
        const data = await readStreamInto(object.body, target);
        return { size: data.byteLength, data, sha256 };
      },
      // Ranged gets: a pipeline's embedding shard reads only its rows of the token table, a checkpoint its tensors.
      async readRange(file, offset, length) {
        if (length === 0) return (await bucket.head(presetFileKey(key, file))) ? new Uint8Array() : null;
        const object = await bucket.get(presetFileKey(key, file), { range: { offset, length } });
        return object ? new Uint8Array(await object.arrayBuffer()) : null;
      },
      async write(file, bytes) {
        await bucket.put(presetFileKey(key, file), bytes);
      },
    };
  }
}

/**
 * Reads a byte stream into `target`'s memory and returns the filled view: with a BYOB reader where the stream is a
 * byte stream (no chunk is allocated; each read transfers the buffer, so the view comes back on a new one), else
 * chunk by chunk. Its length is the bytes read (less than `target`'s when the stream ended early).
 */
async function readStreamInto(body: ReadableStream<Uint8Array>, target: Uint8Array): Promise<Uint8Array> {
  let at = 0;
  let byob: ReadableStreamBYOBReader | undefined;
  try {
    byob = body.getReader({ mode: "byob" });
  } catch {
    // not a byte stream
  }
  if (byob) {
    const length = target.byteLength; // each read detaches the view it was given
    let view = target;
    while (at < length) {
      const { value, done } = await byob.read(view.subarray(at));
      if (!value) break;
      view = new Uint8Array(value.buffer, value.byteOffset - at, length);
      at += value.byteLength;
      if (done) break;
    }
    byob.releaseLock();
    return view.subarray(0, at);
  }
  const reader = body.getReader();
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return target.subarray(0, at);
    if (at + value.byteLength > target.byteLength) {
      await reader.cancel();
      return target.subarray(0, at); // longer than expected: reported short, refused by the caller
    }
    target.set(value, at);
    at += value.byteLength;
  }
}

/** An R2 checksum as lowercase hex. */
export const toHex = (buffer: ArrayBuffer) => Array.from(new Uint8Array(buffer), (b) => b.toString(16).padStart(2, "0")).join("");
