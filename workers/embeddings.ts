/**
 * Embeddings: pooled, L2-normalised vectors from a preset's `sequence_output`. The defaults are per preset: the
 * family's pooling (`FamilyTraits.defaultPooling`: `mean` over valid tokens for encoders, the `last` valid token
 * for Gemma), normalised, no prompt; a preset's `edgebone.json` (shared/presets/embedding-settings.ts: pooling
 * mean | cls | last | max, normalize, prompts, default_prompt_name; written from sentence-transformers metadata)
 * overrides them, and a request's own `normalize` / prompt name override those. Texts are tokenized with the
 * preset's `tokenizer.hf.json`; a text longer than the model's sequence length is cut into overlapping windows
 * (Preprocessor.chunk) whose pooled vectors are combined (mean pooling: weighted by the window's token count; cls:
 * averaged; max: the element-wise max; last: the last window's) unless the request asks for truncation.
 * `dimensions` keeps the first d components and re-normalises (Matryoshka style, as OpenAI's text-embedding-3
 * models do).
 */
import type { Pooling, TokenBatch } from "../shared/index.js";
import { unprocessable } from "./errors.js";
import { idBatch, type Inference } from "./inference.js";
import { checkIdRows } from "./limits.js";

/** A preset's embedding defaults (edgebone.json over the family's). */
export interface EmbeddingDefaults {
  pooling: Pooling;
  normalize: boolean;
  /** Named prompts (prepended to each text) and the one used when the request names none. */
  prompts: Record<string, string>;
  defaultPrompt: string | null;
}

/** Pools row `row` of a [batch, seq, hidden] output over its valid (mask 1) positions; also returns their count. */
export function poolRow(data: Float32Array, seq: number, hidden: number, mask: ArrayLike<number>, row: number, pooling: Pooling): { vector: Float32Array; tokens: number } {
  const out = new Float32Array(hidden);
  if (pooling === "max") out.fill(-Infinity);
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
    else if (pooling === "max") for (let h = 0; h < hidden; h++) out[h] = Math.max(out[h], data[base + t * hidden + h]);
  }
  if (count === 0) return { vector: out.fill(0), tokens: 0 };
  if (pooling === "mean") for (let h = 0; h < hidden; h++) out[h] /= count;
  else if (pooling !== "max") out.set(data.subarray(base + (pooling === "cls" ? first : last) * hidden, base + ((pooling === "cls" ? first : last) + 1) * hidden));
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
  /** L2-normalise (default: the preset's; TEI's `normalize: false` turns it off). */
  normalize?: boolean;
  /** One of the preset's prompts to prepend to each text (TEI's `prompt_name`); default: the preset's default. */
  promptName?: string;
  /** The request field the input came from. */
  param: string;
}

/** One vector per text or id row, and the tokens that went in (every window's, special tokens included). */
export async function embed(inference: Inference, input: EmbedInput): Promise<{ vectors: Float32Array[]; tokens: number }> {
  const { param } = input;
  const backbone = await inference.backbone();
  const d = input.dimensions;
  if (d !== undefined && d > backbone.hiddenDim) throw unprocessable(`dimensions ${d} exceeds the model's ${backbone.hiddenDim}`, "invalid_dimensions", "dimensions");
  const defaults = await inference.embeddingDefaults();
  const { pooling } = defaults;
  let batch: TokenBatch;
  let textOf: (row: number) => number;
  let count: number;
  if (input.ids) {
    checkIdRows(input.ids, param, inference.limits);
    batch = idBatch(input.ids, param);
    textOf = (row) => row;
    count = input.ids.length;
  } else {
    const texts = input.texts ?? [];
    const empty = texts.findIndex((t) => t.trim() === "");
    if (!texts.length || empty >= 0) throw unprocessable(`${param}[${Math.max(empty, 0)}] is empty`, "empty_input", param);
    const prompt = promptOf(defaults, input.promptName);
    const encoded = await inference.encode(prompt ? texts.map((t) => prompt + t) : texts, input.truncate ? "truncate" : "chunk", param);
    batch = encoded.batch;
    textOf = (row) => encoded.sources[row].text;
    count = texts.length;
  }
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
    if (pooling === "max") {
      for (let h = 0; h < hidden; h++) acc.v[h] = acc.w ? Math.max(acc.v[h], pooled.vector[h]) : pooled.vector[h];
      acc.w = 1;
      continue;
    }
    const w = pooling === "mean" ? pooled.tokens : 1;
    for (let h = 0; h < hidden; h++) acc.v[h] += pooled.vector[h] * w;
    acc.w += w;
  }
  const vectors = sums.map(({ v, w }) => {
    if (w > 0 && (pooling === "mean" || pooling === "cls")) for (let h = 0; h < hidden; h++) v[h] /= w;
    const kept = d === undefined ? v : v.slice(0, d);
    return (input.normalize ?? defaults.normalize) ? l2Normalize(kept) : kept;
  });
  return { vectors, tokens };
}

function promptOf(defaults: EmbeddingDefaults, name: string | undefined): string | null {
  if (name === undefined) return defaults.defaultPrompt;
  const prompt = defaults.prompts[name];
  if (prompt === undefined) {
    const known = Object.keys(defaults.prompts);
    throw unprocessable(`prompt_name "${name}" is not one of the preset's prompts (${known.length ? known.join(", ") : "it has none"})`, "invalid_prompt_name", "prompt_name");
  }
  return prompt;
}
