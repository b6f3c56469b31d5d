/**
 * Embeddings: pooled, L2-normalised vectors from a preset's `sequence_output`. Pooling is per preset: the family's
 * default (`FamilyTraits.defaultPooling`: `mean` over valid tokens for encoders, the `last` valid token for Gemma),
 * overridable by `presets/<name>/edgebone.json` (`{"pooling": "mean" | "cls" | "last"}`). Texts are tokenized with
 * the preset's `tokenizer.hf.json`; a text longer than the model's sequence length is cut into overlapping windows
 * (Preprocessor.chunk) whose pooled vectors are combined (mean pooling: weighted by the window's token count; cls:
 * averaged; last: the last window's) unless the request asks for truncation. `dimensions` keeps the first d
 * components and re-normalises (Matryoshka style, as OpenAI's text-embedding-3 models do).
 */
import type { Pooling, TokenBatch } from "../shared/index.js";
import { unprocessable } from "./errors.js";
import { idBatch, type Inference } from "./inference.js";

/** Pools row `row` of a [batch, seq, hidden] output over its valid (mask 1) positions; also returns their count. */
function poolRow(data: Float32Array, seq: number, hidden: number, mask: ArrayLike<number>, row: number, pooling: Pooling): { vector: Float32Array; tokens: number } {
  const out = new Float32Array(hidden);
  const base = row * seq * hidden;
  let count = 0;
  let first = -1;
  let last = -1;
  for (let t = 0; t < seq; t++) {
    if (!mask[t]) continue;
    count++;
    if (first < 0) first = t;
    last = t;
    if (pooling === "mean") for (let h = 0; h < hidden; h++) out[h] += data[base + t * hidden + h];
  }
  if (count === 0) return { vector: out, tokens: 0 };
  if (pooling === "mean") for (let h = 0; h < hidden; h++) out[h] /= count;
  else out.set(data.subarray(base + (pooling === "cls" ? first : last) * hidden, base + ((pooling === "cls" ? first : last) + 1) * hidden));
  return { vector: out, tokens: count };
}

function l2Normalize(v: Float32Array): Float32Array {
  let s = 0;
  for (const x of v) s += x * x;
  const n = Math.sqrt(s);
  if (n > 0) for (let i = 0; i < v.length; i++) v[i] /= n;
  return v;
}

export function toBase64(v: Float32Array): string {
  const bytes = new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
  let s = "";
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

interface EmbedInput {
  /** Texts, or token id rows (the model's vocabulary; special tokens are the caller's). */
  texts?: string[];
  ids?: number[][];
  /** Cut long texts at the window instead of chunking them. */
  truncate?: boolean;
  dimensions?: number;
  /** L2-normalise (default true; TEI's `normalize: false` turns it off). */
  normalize?: boolean;
  /** The request field the input came from. */
  param: string;
}

/** One vector per text or id row, and the tokens that went in (every window's, special tokens included). */
export async function embed(inference: Inference, input: EmbedInput): Promise<{ vectors: Float32Array[]; tokens: number }> {
  const { param } = input;
  const backbone = await inference.backbone();
  const d = input.dimensions;
  if (d !== undefined && d > backbone.hiddenDim) throw unprocessable(`dimensions ${d} exceeds the model's ${backbone.hiddenDim}`, "invalid_dimensions", "dimensions");
  let batch: TokenBatch;
  let textOf: (row: number) => number;
  let count: number;
  if (input.ids) {
    batch = idBatch(input.ids, param);
    textOf = (row) => row;
    count = input.ids.length;
  } else {
    const texts = input.texts ?? [];
    const empty = texts.findIndex((t) => t.trim() === "");
    if (!texts.length || empty >= 0) throw unprocessable(`${param}[${Math.max(empty, 0)}] is empty`, "empty_input", param);
    const encoded = await inference.encode(texts, input.truncate ? "truncate" : "chunk", param);
    batch = encoded.batch;
    textOf = (row) => encoded.sources[row].text;
    count = texts.length;
  }
  const pooling = await inference.pooling();
  const { shape, data } = await inference.run(batch, param);
  const [, seq, hidden] = shape;

  const sums: { v: Float32Array; w: number }[] = Array.from({ length: count }, () => ({ v: new Float32Array(hidden), w: 0 }));
  let tokens = 0;
  for (let row = 0; row < batch.batchSize; row++) {
    const pooled = poolRow(data, seq, hidden, batch.paddingMask.subarray(row * seq, (row + 1) * seq), row, pooling);
    tokens += pooled.tokens;
    const acc = sums[textOf(row)];
    if (pooling === "last") {
      acc.v = pooled.vector;
      acc.w = 1;
      continue;
    }
    const w = pooling === "mean" ? pooled.tokens : 1;
    for (let h = 0; h < hidden; h++) acc.v[h] += pooled.vector[h] * w;
    acc.w += w;
  }
  const vectors = sums.map(({ v, w }) => {
    if (w > 0 && pooling !== "last") for (let h = 0; h < hidden; h++) v[h] /= w;
    const kept = d === undefined ? v : v.slice(0, d);
    return input.normalize === false ? kept : l2Normalize(kept);
  });
  return { vectors, tokens };
}
