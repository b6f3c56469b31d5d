/**
 * Embeddings: pooled, L2-normalised vectors from a preset's `sequence_output`. The defaults are per preset:
 * `mean` over valid tokens for encoders, `last` valid token for Gemma, normalised, no prompt; a preset's
 * `edgebone.json` (shared/presets/embedding-settings.ts: pooling mean | cls | last | max, normalize, prompts,
 * default_prompt_name; written from sentence-transformers metadata) overrides them, and a request's own
 * `normalize` / prompt name override those. Texts are tokenized with the preset's `tokenizer.hf.json`; a text
 * longer than the model's sequence length is cut into overlapping windows (Preprocessor.chunk) whose pooled
 * vectors are combined (mean pooling: weighted by the window's token count; cls: averaged; max: the
 * element-wise max; last: the last window's) unless the request asks for truncation. `dimensions` keeps the
 * first d components and re-normalises (Matryoshka style, as OpenAI's text-embedding-3 models do).
 */
import { Preprocessor, type Backbone, type Pooling, type Preprocessed } from "../shared/index.js";
import { ApiError, unprocessable } from "./errors.js";


/** A preset's embedding defaults (edgebone.json over the family's). */
export interface EmbeddingDefaults {
  pooling: Pooling;
  normalize: boolean;
  /** Named prompts (prepended to each text) and the one used when the request names none. */
  prompts: Record<string, string>;
  defaultPrompt: string | null;
}

export function defaultPooling(backbone: Backbone): Pooling {
  return /gemma/i.test(backbone.className) ? "last" : "mean";
}

/** Pools row `row` of a [batch, seq, hidden] output over its valid (mask 1) positions; also returns their count. */
export function poolRow(data: Float32Array, seq: number, hidden: number, mask: readonly number[], row: number, pooling: Pooling): { vector: Float32Array; tokens: number } {
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
    if (pooling === "max") for (let h = 0; h < hidden; h++) out[h] = Math.max(out[h], data[base + t * hidden + h]);
  }
  if (count === 0) return { vector: out.fill(0), tokens: 0 };
  if (pooling === "max") return { vector: out, tokens: count };
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
  /** L2-normalise (default: the preset's; TEI's `normalize: false` turns it off). */
  normalize?: boolean;
  /** One of the preset's prompts to prepend to each text (TEI's `prompt_name`); default: the preset's default. */
  promptName?: string;
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

export async function embed(run: RunBatch, preprocessor: () => Promise<Preprocessor>, defaults: EmbeddingDefaults, input: EmbedInput, maxRows: number): Promise<EmbedResult> {
  const { pooling } = defaults;
  const t0 = performance.now();
  let pre: Preprocessed;
  let count: number;
  if (input.ids) {
    if (!input.ids.length || input.ids.some((r) => r.length === 0)) throw unprocessable("input token id rows must not be empty", "empty_input", "input");
    pre = padIds(input.ids);
    count = input.ids.length;
  } else {
    const empty = (input.texts ?? []).findIndex((t) => t.trim() === "");
    if (!input.texts?.length || empty >= 0) throw unprocessable(`input[${Math.max(empty, 0)}] is empty`, "empty_input", "input");
    const prompt = promptOf(defaults, input.promptName);
    const texts = prompt ? input.texts.map((t) => prompt + t) : input.texts;
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
    if (pooling === "max") {
      for (let h = 0; h < hidden; h++) acc.v[h] = acc.w ? Math.max(acc.v[h], vector[h]) : vector[h];
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
    if (w > 0 && (pooling === "mean" || pooling === "cls")) for (let h = 0; h < hidden; h++) v[h] /= w;
    const kept = d === undefined ? v : v.slice(0, d);
    return (input.normalize ?? defaults.normalize) ? l2Normalize(kept) : kept;
  });
  return { vectors, promptTokens, tokenizationMs: t1 - t0, inferenceMs: t2 - t1 };
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

export function parseModel(model: string): { preset: string; adapter?: string } {
  const i = model.indexOf(":");
  if (i < 0) return { preset: model };
  if (i === 0 || i === model.length - 1) throw new ApiError(400, `model "${model}" must be "preset" or "preset:adapter"`, "invalid_model", "model");
  return { preset: model.slice(0, i), adapter: model.slice(i + 1) };
}
