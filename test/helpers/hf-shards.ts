/**
 * Writes a Hugging Face checkpoint the way transformers saves large models: `model-0000k-of-0000n.safetensors`
 * shards plus `model.safetensors.index.json`. Each tensor's values are produced piece by piece as they are
 * written, so a checkpoint of any size (the 2.6B bench model) is written in a few MiB of memory.
 */
import { closeSync, openSync, writeFileSync, writeSync } from "node:fs";
import { join } from "node:path";
import type { FloatDType } from "../../shared/node/index.js";
import type { TensorValues } from "../../shared/tensor/lazy.js";
import { bytesPerElement, sizeOf } from "../../shared/tensor/tensor.js";
import { safetensorsHead } from "../../shared/weights/safetensors.js";

export interface ShardTensor {
  name: string;
  dtype: FloatDType;
  shape: number[];
  /** The next `count` values in row-major order (called in order, from element 0 to the end). */
  next(count: number): TensorValues;
}

const PIECE = 1 << 22; // values per write

/** Writes `tensors` (in order) into `shards` files of about equal size and the index; returns the file names. */
export function writeHfShards(dir: string, tensors: readonly ShardTensor[], shards: number): string[] {
  const bytes = (t: ShardTensor) => sizeOf(t.shape) * bytesPerElement(t.dtype);
  const total = tensors.reduce((n, t) => n + bytes(t), 0);
  const groups: ShardTensor[][] = Array.from({ length: shards }, () => []);
  let done = 0;
  for (const t of tensors) {
    groups[Math.min(shards - 1, Math.floor((done / total) * shards))].push(t);
    done += bytes(t);
  }
  const name = (i: number) => `model-${String(i + 1).padStart(5, "0")}-of-${String(shards).padStart(5, "0")}.safetensors`;
  const weightMap: Record<string, string> = {};
  groups.forEach((group, i) => {
    const fd = openSync(join(dir, name(i)), "w");
    try {
      writeSync(fd, safetensorsHead(group, { format: "pt" }));
      for (const t of group) {
        weightMap[t.name] = name(i);
        for (let at = 0, n = sizeOf(t.shape); at < n; at += PIECE) {
          const values = t.next(Math.min(PIECE, n - at));
          writeSync(fd, new Uint8Array(values.buffer, values.byteOffset, values.byteLength));
        }
      }
    } finally {
      closeSync(fd);
    }
  });
  writeFileSync(join(dir, "model.safetensors.index.json"), JSON.stringify({ metadata: { total_size: total }, weight_map: weightMap }, null, 2));
  return groups.map((_, i) => name(i));
}
