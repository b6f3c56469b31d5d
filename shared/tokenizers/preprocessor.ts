/**
 * Preprocessing (KerasHub semantics, spec §4.6, §3.10): texts → `token_ids` + `padding_mask` ready for a
 * `Backbone` forward. Family templates (`[CLS] a [SEP] b [SEP]`, `<s> a </s></s> b </s>`, `<bos> a`),
 * a sequence length, right padding to the longest row or to the sequence length, and explicit handling of
 * texts that do not fit: an error by default (never silent truncation), truncation on request (left or
 * right; pairs share the budget round-robin, like KerasHub's default), or chunking into overlapping windows.
 */
import { tokenBatch, type TokenBatch } from "../backbone/inputs.js";
import { readJson, type PresetFiles } from "../presets/store.js";
import { chunkWindows } from "./chunking.js";
import { InputError, SequenceTooLongError, TokenizerError } from "./errors.js";
import { openPreset, type TokenizerPresetOptions } from "./preset.js";
import { Tokenizer, type Encoding } from "./tokenizer.js";

export type Truncation = "none" | "left" | "right";
export type Padding = "longest" | "max_length";

export interface PreprocessorOptions {
  /**
   * Most tokens per row, special tokens included. Default: the model's `max_sequence_length` when known
   * (512 for DistilBERT/RoBERTa/XLM-R), none for Gemma. `null`: no limit.
   */
  sequenceLength?: number | null;
  /** What to do with a text longer than `sequenceLength`: "none" (default) fails with the lengths. */
  truncate?: Truncation;
  /** Pad rows to the longest row (default) or to `sequenceLength`. */
  padding?: Padding;
  /** Add the family's special tokens (default true). */
  addSpecialTokens?: boolean;
}

export interface ChunkOptions {
  /** Tokens shared by consecutive windows; default an eighth of the window. */
  overlap?: number;
}

/** Where a row of the output comes from. */
export interface RowSource {
  /** Index of the input text. */
  text: number;
  /** Tokens of that text (without special tokens) the row holds: [tokenStart, tokenEnd). */
  tokenStart: number;
  tokenEnd: number;
  /** Characters of the text the row covers (UTF-16 code units); for a pair, of the first text. */
  start: number;
  end: number;
  /** How many tokens truncation removed from this row's text(s). */
  truncated: number;
}

export interface Preprocessed {
  tokenIds: number[][];
  paddingMask: number[][];
  /** Per row and token: span in its input text ([0, 0] for special and padding tokens). */
  offsets: [number, number][][];
  rows: RowSource[];
}

export class Preprocessor {
  readonly sequenceLength: number | null;
  readonly truncate: Truncation;
  readonly padding: Padding;
  readonly addSpecialTokens: boolean;

  constructor(
    readonly tokenizer: Tokenizer,
    options: PreprocessorOptions = {},
    /** The model's longest input, used when `sequenceLength` is not given. */
    modelMaxLength: number | null = defaultMaxLength(tokenizer),
  ) {
    this.sequenceLength = options.sequenceLength === undefined ? modelMaxLength : options.sequenceLength;
    this.truncate = options.truncate ?? "none";
    this.padding = options.padding ?? "longest";
    this.addSpecialTokens = options.addSpecialTokens ?? true;
    const len = this.sequenceLength;
    if (len !== null && (!Number.isInteger(len) || len < 1)) throw new InputError(`sequence length must be a positive integer, got ${len}`);
    if (!["none", "left", "right"].includes(this.truncate)) throw new InputError(`truncate must be one of none, left, right, got "${this.truncate}"`);
    if (!["longest", "max_length"].includes(this.padding)) throw new InputError(`padding must be longest or max_length, got "${this.padding}"`);
    if (this.padding === "max_length" && len === null) throw new InputError("padding to max_length needs a sequence length");
    if (len !== null && this.addSpecialTokens && len <= tokenizer.specialTokenCount()) {
      throw new InputError(`sequence length ${len} leaves no room for text next to ${tokenizer.specialTokenCount()} special tokens`);
    }
  }

  /** The preset's tokenizer, with the sequence length defaulting to its backbone's `max_sequence_length`. */
  static async fromPreset(preset: string | PresetFiles, options: PreprocessorOptions & TokenizerPresetOptions = {}): Promise<Preprocessor> {
    const files = typeof preset === "string" ? await openPreset(preset, options.store, options.download ?? !options.store) : preset;
    const tokenizer = await Tokenizer.fromPreset(files, options);
    return new Preprocessor(tokenizer, options, (await presetMaxLength(files)) ?? defaultMaxLength(tokenizer));
  }

  /** One row per text (or text pair). */
  call(texts: string | readonly string[], pairs?: string | readonly string[]): Preprocessed {
    const firsts = asList(texts, "texts");
    const seconds = pairs === undefined ? undefined : asList(pairs, "pairs");
    if (seconds && seconds.length !== firsts.length) throw new InputError(`got ${firsts.length} texts but ${seconds.length} pairs`);
    const rows: { encoding: Encoding; source: RowSource }[] = [];
    firsts.forEach((text, i) => {
      const a = this.encodeText(text, i, firsts.length);
      const b = seconds ? this.encodeText(seconds[i], i, firsts.length, "pair") : undefined;
      rows.push(this.pack(i, a, b));
    });
    return this.pad(rows);
  }

  /**
   * One row per window: each text is cut into overlapping windows that fit `sequenceLength` (its special
   * tokens included). `rows` says which text and which span each row is, for pooling across chunks.
   */
  chunk(texts: string | readonly string[], options: ChunkOptions = {}): Preprocessed {
    const len = this.sequenceLength;
    if (len === null) throw new InputError("chunking needs a sequence length");
    const size = len - (this.addSpecialTokens ? this.tokenizer.specialTokenCount() : 0);
    const overlap = options.overlap ?? Math.floor(size / 8);
    if (!Number.isInteger(overlap) || overlap < 0 || overlap >= size) {
      throw new InputError(`chunk overlap must be an integer from 0 to ${size - 1} (window of ${size} tokens), got ${overlap}`);
    }
    const list = asList(texts, "texts");
    const rows: { encoding: Encoding; source: RowSource }[] = [];
    list.forEach((text, i) => {
      const encoding = this.encodeText(text, i, list.length);
      for (const w of chunkWindows(encoding, size, overlap)) {
        const part = slice(encoding, w.tokenStart, w.tokenEnd);
        rows.push({
          encoding: this.addSpecialTokens ? this.tokenizer.applyTemplate([part]) : part,
          source: { text: i, tokenStart: w.tokenStart, tokenEnd: w.tokenEnd, start: w.start, end: w.end, truncated: 0 },
        });
      }
    });
    return this.pad(rows);
  }

  /** The output as the backbone's input batch. */
  static toTokenBatch(out: Preprocessed): TokenBatch {
    return tokenBatch(out.tokenIds, out.paddingMask);
  }

  private encodeText(text: string, index: number, count: number, what = "text"): Encoding {
    try {
      return this.tokenizer.encode(text, { addSpecialTokens: false });
    } catch (e) {
      if (e instanceof InputError && count > 1) throw new InputError(`${what} ${index}: ${e.message}`);
      throw e;
    }
  }

  private pack(index: number, a: Encoding, b?: Encoding): { encoding: Encoding; source: RowSource } {
    const specials = this.addSpecialTokens ? this.tokenizer.specialTokenCount(b !== undefined) : 0;
    const len = this.sequenceLength;
    const total = a.ids.length + (b?.ids.length ?? 0);
    let keepA = a.ids.length;
    let keepB = b?.ids.length ?? 0;
    if (len !== null && total + specials > len) {
      if (this.truncate === "none") {
        throw new SequenceTooLongError(index, total + specials, len, b !== undefined);
      }
      const budget = len - specials;
      if (b) {
        // Round robin (KerasHub's default trimmer): both segments get tokens in turn until the budget is spent.
        keepA = Math.min(a.ids.length, Math.max(Math.ceil(budget / 2), budget - b.ids.length));
        keepB = Math.min(b.ids.length, budget - keepA);
      } else {
        keepA = budget;
      }
    }
    const cut = (e: Encoding, keep: number) =>
      keep >= e.ids.length ? e : this.truncate === "left" ? slice(e, e.ids.length - keep, e.ids.length) : slice(e, 0, keep);
    const partA = cut(a, keepA);
    const partB = b ? cut(b, keepB) : undefined;
    const segments = partB ? [partA, partB] : [partA];
    const encoding = this.addSpecialTokens ? this.tokenizer.applyTemplate(segments) : concat(segments);
    const tokenStart = this.truncate === "left" ? a.ids.length - keepA : 0;
    const kept = slice(a, tokenStart, tokenStart + keepA);
    return {
      encoding,
      source: {
        text: index,
        tokenStart,
        tokenEnd: tokenStart + keepA,
        start: keepA > 0 ? kept.offsets[0][0] : 0,
        end: keepA > 0 ? kept.offsets[keepA - 1][1] : 0,
        truncated: total - keepA - keepB,
      },
    };
  }

  private pad(rows: { encoding: Encoding; source: RowSource }[]): Preprocessed {
    // a loop, not Math.max(...rows): spreading hundreds of thousands of rows overflows the call stack
    let width = 0;
    if (this.padding === "max_length") width = this.sequenceLength!;
    else for (const r of rows) width = Math.max(width, r.encoding.ids.length);
    const pad = this.tokenizer.padTokenId;
    const out: Preprocessed = { tokenIds: [], paddingMask: [], offsets: [], rows: [] };
    for (const { encoding, source } of rows) {
      const n = encoding.ids.length;
      out.tokenIds.push([...encoding.ids, ...Array<number>(width - n).fill(pad)]);
      out.paddingMask.push([...Array<number>(n).fill(1), ...Array<number>(width - n).fill(0)]);
      out.offsets.push([...encoding.offsets.map((o, k): [number, number] => (encoding.special[k] ? [0, 0] : o)), ...Array.from({ length: width - n }, (): [number, number] => [0, 0])]);
      out.rows.push(source);
    }
    return out;
  }
}

function asList(value: string | readonly string[], what: string): readonly string[] {
  const list = typeof value === "string" ? [value] : value;
  if (!Array.isArray(list)) throw new InputError(`${what} must be a string or an array of strings`);
  if (list.length === 0) throw new InputError(`${what} must not be empty`);
  return list;
}

function slice(e: Encoding, from: number, to: number): Encoding {
  return { ids: e.ids.slice(from, to), tokens: e.tokens.slice(from, to), offsets: e.offsets.slice(from, to), special: e.special.slice(from, to) };
}

function concat(parts: Encoding[]): Encoding {
  return {
    ids: parts.flatMap((p) => p.ids),
    tokens: parts.flatMap((p) => p.tokens),
    offsets: parts.flatMap((p) => p.offsets),
    special: parts.flatMap((p) => p.special),
  };
}

/** Without a preset config: the encoders' 512 positions; Gemma has no fixed limit. */
function defaultMaxLength(tokenizer: Tokenizer): number | null {
  return tokenizer.family === "gemma" ? null : 512;
}

/** `max_sequence_length` from a KerasHub config, or `max_position_embeddings` from a Hugging Face one. */
async function presetMaxLength(files: PresetFiles): Promise<number | null | undefined> {
  let config: Record<string, unknown> | null;
  try {
    config = await readJson(files, "config.json");
  } catch (e) {
    throw new TokenizerError((e as Error).message);
  }
  if (!config) return undefined;
  const inner = config.config as Record<string, unknown> | undefined;
  if (inner && typeof inner.max_sequence_length === "number") return inner.max_sequence_length;
  if (inner && "registered_name" in config) return null; // Gemma: no max_sequence_length
  const positions = config.max_position_embeddings;
  if (typeof positions !== "number") return undefined;
  // RoBERTa / XLM-R reserve padding_idx + 1 = 2 positions (spec §2.5).
  return config.model_type === "roberta" || config.model_type === "xlm-roberta" ? positions - 2 : config.model_type === "distilbert" || config.model_type === "bert" ? positions : null;
}
