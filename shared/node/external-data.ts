/**
 * Node-only: writes a split model's ONNX external data file. Weights held in memory are written as they are;
 * lazy tensors (`fromPreset(…, { lazyWeights: true })`) are read from their checkpoint, converted and laid out
 * one at a time, and tensors stored as laid out (an embedding) are copied in ranges, so at most one tensor
 * (or one range) of weights is in JavaScript memory while the file grows. onnxruntime-node then maps the file.
 */
import { open } from "node:fs/promises";
import type { ExternalChunk } from "../graph/graph-builder.js";
import type { TensorValues } from "../tensor/lazy.js";
import { bytesPerElement } from "../tensor/tensor.js";
import { writeAll } from "./fs-preset-store.js";

export interface ExternalDataOptions {
  /** Largest piece read at once from a tensor that can be read by ranges (default 64 MiB). */
  rangeBytes?: number;
}

const bytesOf = (values: TensorValues) => new Uint8Array(values.buffer, values.byteOffset, values.byteLength);

/** Writes `chunks` in order to `path`; returns the bytes written. */
export async function writeExternalData(path: string, chunks: readonly ExternalChunk[], options: ExternalDataOptions = {}): Promise<number> {
  const rangeBytes = options.rangeBytes ?? 64 * 2 ** 20;
  const file = await open(path, "w");
  let written = 0;
  const write = async (bytes: Uint8Array) => {
    await writeAll(file, bytes);
    written += bytes.byteLength;
  };
  try {
    for (const chunk of chunks) {
      if (chunk instanceof Uint8Array) {
        await write(chunk);
        continue;
      }
      const start = written;
      const elementBytes = bytesPerElement(chunk.dtype);
      if (chunk.readRange && chunk.byteLength > rangeBytes) {
        const count = Math.max(1, Math.floor(rangeBytes / elementBytes));
        const total = chunk.byteLength / elementBytes;
        for (let at = 0; at < total; at += count) await write(bytesOf(await chunk.readRange(at, Math.min(count, total - at))));
      } else {
        await write(bytesOf((await chunk.load()).data));
      }
      if (written - start !== chunk.byteLength) throw new Error(`internal: ${chunk.source} gave ${written - start} bytes, its [${chunk.shape}] ${chunk.dtype} needs ${chunk.byteLength}`);
    }
  } finally {
    await file.close();
  }
  return written;
}
