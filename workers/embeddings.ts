/**
 * Embeddings: pooled, L2-normalised vectors from a preset's `sequence_output`. Pooling is per preset: `mean`
 * over valid tokens for encoders, `last` valid token for Gemma, overridable by `presets/<name>/edgebone.json`
 * (`{"pooling": "mean" | "cls" | "last"}`). Texts are tokenized with the preset's `tokenizer.hf.json`; a text
 * longer than the model's sequence length is cut into overlapping windows (Preprocessor.chunk) whose pooled
 * vectors are combined (mean pooling: weighted by the window's token count; cls: averaged; last: the last
 * window's) unless the request asks for truncation. `dimensions` keeps the first d components and
 * re-normalises (Matryoshka style, as OpenAI's text-embedding-3 models do).
 */
import { Preprocessor, type Backbone, type Preprocessed } from "../shared/index.js";
import { ApiError, unprocessable } from "./errors.js";

export type Pooling = "mean" | "cls" | "last";
export const POOLINGS: readonly Pooling[] = ["mean", "cls", "last"];

export function defaultPooling(backbone: Backbone): Pooling {
  return /gemma/i.test(backbone.className) ? "last" : "mean";
}

/** Pools row `row` of a [batch, seq, hidden] output over its valid (mask 1) positions; also returns their count. */
export function poolRow(data: Float32Array, seq: number, hidden: number, mask: readonly number[], row: number, pooling: Pooling): { vector: Float32Array; tokens: number } {
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

export function l2Normalize(v: Float32Array): Float32Array {
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

export interface EmbedInput {
  /** Texts, or token id rows (the model's vocabulary; special tokens are the caller's). */
  texts?: string[];
  ids?: number[][];
  truncate?: boolean;
  dimensions?: number;
  /** L2-normalise (default true; TEI's `normalize: false` turns it off). */
  normalize?: boolean;
}

export interface EmbedResult {
  vectors: Float32Array[];
  promptTokens: number;
  tokenizationMs: number;
  inferenceMs: number;
}

function padIds(rows: number[][]): Preprocessed {
  const len = Math.max(...rows.map((r) => r.length));
  return {
    tokenIds: rows.map((r) => [...r, ...new Array(len - r.length).fill(0)]),
    paddingMask: rows.map((r) => [...r.map(() => 1), ...new Array(len - r.length).fill(0)]),
    offsets: [],
    rows: rows.map((r, i) => ({ text: i, tokenStart: 0, tokenEnd: r.length, start: 0, end: 0, truncated: 0 })),
  };
}

/**
 * Embeds texts or id rows with `run` (the isolate's session or the runner pool, adapter included). `maxRows` bounds
 * the windows one request may produce (422 beyond).
 */
export type RunBatch = (tokenIds: number[][], paddingMask: number[][]) => Promise<{ shape: readonly number[]; data: Float32Array }>;

export async function embed(run: RunBatch, preprocessor: () => Promise<Preprocessor>, pooling: Pooling, input: EmbedInput, maxRows: number): Promise<EmbedResult> {
  const t0 = performance.now();
  let pre: Preprocessed;
  let count: number;
  if (input.ids) {
    if (!input.ids.length || input.ids.some((r) => r.length === 0)) throw unprocessable("input token id rows must not be empty", "empty_input", "input");
    pre = padIds(input.ids);
    count = input.ids.length;
  } else {
    const texts = input.texts ?? [];
    const empty = texts.findIndex((t) => t.trim() === "");
    if (!texts.length || empty >= 0) throw unprocessable(`input[${Math.max(empty, 0)}] is empty`, "empty_input", "input");
    const p = await preprocessor();
    if (input.truncate) {
      pre = new Preprocessor(p.tokenizer, { truncate: "right" }, p.sequenceLength).call(texts);
    } else {
      pre = p.chunk(texts);
    }
    count = texts.length;
  }
  if (pre.tokenIds.length > maxRows) {
    throw unprocessable(`the input makes ${pre.tokenIds.length} rows (windows), over the limit of ${maxRows} per request`, "too_many_inputs", "input");
  }
  const t1 = performance.now();
  const { shape, data } = await run(pre.tokenIds, pre.paddingMask);
  const t2 = performance.now();
  const [, seq, hidden] = shape;

  const sums: { v: Float32Array; w: number }[] = Array.from({ length: count }, () => ({ v: new Float32Array(hidden), w: 0 }));
  let promptTokens = 0;
  pre.rows.forEach((source, row) => {
    const { vector, tokens } = poolRow(data, seq, hidden, pre.paddingMask[row], row, pooling);
    promptTokens += tokens;
    const acc = sums[source.text];
    if (pooling === "last") {
      acc.v = vector;
      acc.w = 1;
      return;
    }
    const w = pooling === "mean" ? tokens : 1;
    for (let h = 0; h < hidden; h++) acc.v[h] += vector[h] * w;
    acc.w += w;
  });
  const d = input.dimensions;
  if (d !== undefined && d > hidden) throw unprocessable(`dimensions ${d} exceeds the model's ${hidden}`, "invalid_dimensions", "dimensions");
  const vectors = sums.map(({ v, w }) => {
    if (w > 0 && pooling !== "last") for (let h = 0; h < hidden; h++) v[h] /= w;
    const kept = d === undefined ? v : v.slice(0, d);
    return input.normalize === false ? kept : l2Normalize(kept);
  });
  return { vectors, promptTokens, tokenizationMs: t1 - t0, inferenceMs: t2 - t1 };
}

export function parseModel(model: string): { preset: string; adapter?: string } {
  const i = model.indexOf(":");
  if (i < 0) return { preset: model };
  if (i === 0 || i === model.length - 1) throw new ApiError(400, `model "${model}" must be "preset" or "preset:adapter"`, "invalid_model", "model");
  return { preset: model.slice(0, i), adapter: model.slice(i + 1) };
}
