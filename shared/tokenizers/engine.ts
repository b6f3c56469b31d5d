/**
 * The tokenization engine: tokenizers.js (`@huggingface/tokenizers`) does the normalizers, pre-tokenizers and
 * decoders, built from the canonical tokenizer.json; the model stage (WordPiece / BPE / Unigram) is a
 * `VocabModel` (vocab-model.ts): the library's own, built from the full file, or the compact one of a compiled
 * tokenizer (compiled.ts, from tokenizer.bin), which gives the same pieces. Edgebone drives the stages itself,
 * in the order of the library's own `encode` (tokenizers.js 0.2.0 `Tokenizer.encode_text`), because the
 * library reports no offsets and has gaps this file and vocab-model.ts close, each minimal and marked:
 *
 * 1. `Precompiled` ignores the SentencePiece charsmap → replaced by the exact one (precompiled.ts).
 * 2, 3. Unigram's trie and SentencePiece BPE's ranks: see vocab-model.ts.
 * 4. (decoding) The ByteFallback decoder drops a leading byte-order mark → it keeps it.
 *
 * `special_tokens_in_text: false` (KerasHub / SentencePiece semantics) restricts the added-token matching
 * to non-special tokens (SentencePiece user-defined symbols).
 * Ids are identical to the library's `encode` (checked against it in the tests on the whole corpus).
 */
import {
  BertNormalizer,
  ByteLevelPreTokenizer,
  LowercaseNormalizer,
  MetaspacePreTokenizer,
  NFCNormalizer,
  NFDNormalizer,
  NFKCNormalizer,
  NFKDNormalizer,
  PrecompiledNormalizer,
  PrependNormalizer,
  ReplaceNormalizer,
  SequenceNormalizer,
  SequencePreTokenizer,
  StripAccentsNormalizer,
  StripNormalizer,
  Tokenizer as LibTokenizerClass,
  type LibNormalizer,
  type LibSplitter,
  type LibTokenizer,
} from "./lib.js";
import { AlignedBuilder, AlignedText, codePointLength, mapClusters, mapCodePoints, replaceAligned } from "./aligned.js";
import { InputError, TokenizerError } from "./errors.js";
import { compiledCharsmaps, compiledModel, type CompiledTokenizer } from "./compiled.js";
import { ExactPrecompiledNormalizer } from "./precompiled.js";
import type { AddedTokenJson, Json, TokenizerJson } from "./tokenizer-json.js";
import { isSentencePieceBpe, LibraryModel, type VocabModel } from "./vocab-model.js";

/** A token with the span `[start, end)` of the input it came from (UTF-16 code units). */
export interface RawToken {
  id: number;
  token: string;
  start: number;
  end: number;
}

const BYTE_TOKEN = /^<0x([0-9A-F]{2})>$/;
/** Longest piece of a pre-token handed to tokenizers.js's Unigram in one call (see `modelChunks`). */
const MAX_UNIGRAM_CHUNK = 32_768;
const WHITESPACE = /\s/;

/** What the library builds in place of the real model for a compiled tokenizer (whose model is compact). */
const PLACEHOLDER_MODEL = { type: "WordPiece", vocab: {}, unk_token: null };

export class TokenizerEngine {
  /** The library's tokenizer: normalizer, pre-tokenizer, decoder (its model and added tokens are not used here). */
  readonly lib: LibTokenizer;
  readonly model: VocabModel;
  /** Added tokens by content (and normalized content): the library's `added_tokens_map`. */
  private readonly added = new Map<string, AddedTokenJson>();
  /** Added tokens that match in input text (all of them, or only non-special ones). */
  private readonly matchable = new Map<string, AddedTokenJson>();
  /** Contents of the special added tokens (what decoding can skip). */
  private readonly specialTokens: string[];
  private readonly splitUnnormalized: LibSplitter;
  private readonly splitNormalized: LibSplitter;
  private readonly byteDecoder: Map<string, number> | null;
  /** Metaspace pre-tokenizer and no piece with "▁" after another character (see `modelChunks`). */
  private readonly splitAtWordStarts: boolean;
  private readonly maxChunk: number;
  /** BPE's end-of-word suffix, which decoding turns back into a space. */
  private readonly endOfWordSuffix: string | undefined;

  readonly meta: TokenizerJson["edgebone"];

  /** From the full tokenizer.json: the library's own model. */
  static fromJson(json: TokenizerJson, where = "tokenizer.json"): TokenizerEngine {
    const { edgebone: _meta, ...hf } = json;
    // Gap 3: the library gets no SentencePiece BPE rules (it would index them all); ranks come from them.
    const sentencePieceBpe = isSentencePieceBpe(json);
    if (sentencePieceBpe) hf.model = { ...json.model, merges: [] };
    return new TokenizerEngine(json, hf, where, (lib) => new LibraryModel(lib, sentencePieceBpe ? (json.model.merges as (string | [string, string])[]) : undefined), []);
  }

  /** From a compiled tokenizer: the compact model, and the library for the rest of the (small) config. */
  static fromCompiled(compiled: CompiledTokenizer, where = "tokenizer.bin"): TokenizerEngine {
    // The library gets neither the model nor the added tokens (the engine keeps its own; the model has them).
    const { model, config } = compiledModel(compiled);
    const { edgebone: _meta, ...hf } = config;
    return new TokenizerEngine(config, { ...hf, added_tokens: [], model: PLACEHOLDER_MODEL }, where, () => model, compiledCharsmaps(compiled));
  }

  private constructor(json: TokenizerJson, hf: Json, where: string, makeModel: (lib: LibTokenizer) => VocabModel, charsmaps: Uint8Array[]) {
    this.meta = json.edgebone;
    try {
      // Decoding is lossless where the model allows it; BERT's WordPiece decoder applies its own cleanup.
      this.lib = new LibTokenizerClass(hf, { clean_up_tokenization_spaces: false });
    } catch (e) {
      throw new TokenizerError(`${where}: tokenizers.js cannot load it (${(e as Error).message})`);
    }
    const lib = this.lib;
    if (lib.normalizer) lib.normalizer = patchNormalizer(lib.normalizer, charsmaps);
    patchDecoder(lib.decoder);
    // The ByteLevel decoder keeps added tokens whole.
    if (lib.decoder) (lib.decoder as unknown as { added_tokens: AddedTokenJson[] }).added_tokens = json.added_tokens;
    this.model = makeModel(lib);
    const model = this.model;
    this.endOfWordSuffix = model.type === "BPE" ? ((json.model.end_of_word_suffix as string | null | undefined) ?? undefined) : undefined;

    const matchAll = json.edgebone.special_tokens_in_text;
    const unnormalized: string[] = [];
    const normalized: string[] = [];
    for (const t of json.added_tokens) {
      const n = t.normalized && lib.normalizer ? lib.normalizer(t.content) : undefined;
      this.added.set(t.content, t);
      if (n !== undefined) this.added.set(n, t);
      if (!matchAll && t.special) continue;
      this.matchable.set(t.content, t);
      if (n !== undefined) {
        normalized.push(n);
        this.matchable.set(n, t);
      } else {
        unnormalized.push(t.content);
      }
    }
    this.specialTokens = json.added_tokens.filter((t) => t.special).map((t) => t.content);
    // The library's longest-match dictionary splitter, rebuilt over the matchable tokens.
    const Splitter = lib.splitter_unnormalized.constructor as new (words: string[]) => LibSplitter;
    this.splitUnnormalized = new Splitter(unnormalized);
    this.splitNormalized = new Splitter(normalized);

    this.byteDecoder = usesByteLevel(lib) ? byteLevelDecoder() : null;
    this.maxChunk = model.type === "Unigram" ? MAX_UNIGRAM_CHUNK : Infinity;
    this.splitAtWordStarts = lib.pre_tokenizer instanceof MetaspacePreTokenizer && !model.hasInnerWordStart;
  }

  get vocabularySize(): number {
    return this.model.size;
  }

  /** Tokens of `text`, without special tokens, with their spans in `text`. */
  encode(text: string): RawToken[] {
    checkText(text);
    const out: RawToken[] = [];
    const sections = withPositions(this.splitUnnormalized.split(text), 0);
    this.stripAround(sections);
    sections.forEach((section, sectionIndex) => {
      if (section.text.length === 0) return;
      const added = this.matchable.get(section.text);
      if (added) {
        out.push({ id: added.id, token: added.content, start: section.start, end: section.start + section.text.length });
        return;
      }
      const normalized = this.normalize(section.text, section.start);
      if (normalized.length === 0) return;
      const subsections = withPositions(this.splitNormalized.split(normalized.text), 0);
      this.stripAround(subsections);
      for (const sub of subsections) {
        if (sub.text.length === 0) continue;
        const aligned = normalized.slice(sub.start, sub.start + sub.text.length);
        const subAdded = this.matchable.get(sub.text);
        if (subAdded) {
          const [start, end] = aligned.span(0, aligned.length);
          out.push({ id: subAdded.id, token: subAdded.content, start, end });
          continue;
        }
        append(out, this.modelTokens(aligned, sectionIndex));
      }
    });
    // Offsets name the token's text, not the whitespace it absorbed ("Ġworld", "▁world"), as Hugging Face's
    // trim_offsets does; whitespace-only tokens keep their span.
    for (const t of out) {
      let { start, end } = t;
      while (start < end && WHITESPACE.test(text[start])) start++;
      while (end > start && WHITESPACE.test(text[end - 1])) end--;
      if (start < end) {
        t.start = start;
        t.end = end;
      }
    }
    return out;
  }

  /** Lstrip/rstrip of matched added tokens trim the neighbouring sections (library semantics). */
  private stripAround(sections: { text: string; start: number }[]): void {
    sections.forEach((s, i) => {
      const added = this.matchable.get(s.text);
      if (!added) return;
      if (added.lstrip && i > 0) sections[i - 1].text = sections[i - 1].text.trimEnd();
      if (added.rstrip && i < sections.length - 1) {
        const next = sections[i + 1];
        const trimmed = next.text.trimStart();
        next.start += next.text.length - trimmed.length;
        next.text = trimmed;
      }
    });
  }

  /** The library's normalizer output, with the provenance of each code unit. */
  private normalize(text: string, offset: number): AlignedText {
    const input = AlignedText.identity(text, offset);
    const normalizer = this.lib.normalizer;
    if (!normalizer) return input;
    const libText = normalizer(text);
    const aligned = alignedNormalize(normalizer, input);
    if (aligned.text === libText) return aligned;
    // Same length (e.g. a context-dependent lowercase like final sigma): keep the map, take the library's text.
    if (aligned.text.length === libText.length) return new AlignedText(libText, aligned.starts, aligned.ends);
    // Unknown divergence: spread the span proportionally rather than fail (offsets become approximate).
    const b = new AlignedBuilder();
    for (let i = 0; i < libText.length; i++) {
      const s = offset + Math.floor((i * text.length) / libText.length);
      b.push(libText[i], s, Math.max(s + 1, offset + Math.floor(((i + 1) * text.length) / libText.length)));
    }
    return b.build();
  }

  /** Pre-tokenizer and model over one normalized subsection. */
  private modelTokens(sub: AlignedText, sectionIndex: number): RawToken[] {
    const lib = this.lib;
    const model = this.model;
    const pretokens = lib.pre_tokenizer ? lib.pre_tokenizer(sub.text, { section_index: sectionIndex }) : [sub.text];
    const tokens: { token: string; start: number; end: number }[] = [];
    let cursor = 0;
    for (const pretoken of pretokens) {
      const located = this.locate(pretoken, sub, cursor);
      cursor = located.next;
      for (const [from, to] of this.modelChunks(pretoken)) {
        const pieces = model.encode([from === 0 && to === pretoken.length ? pretoken : pretoken.slice(from, to)]);
        append(tokens, this.surfaces(pieces, located.aligned.slice(from, to), model));
      }
    }
    // One vocabulary lookup per token (`found`), shared by the unknown-token fusing and the final ids.
    const found = tokens.map((t) => ({ ...t, found: model.idOf(t.token) }));
    const fused = model.fuseUnk ? fuseUnknown(found, model) : found;
    return fused.map(({ token, start, end, found: inVocabulary }) => {
      const id = this.added.get(token)?.id ?? inVocabulary ?? model.unkId;
      if (id === undefined) throw new TokenizerError(`token ${JSON.stringify(token)} has no id and the model has no unknown token`);
      return { id, token, start, end };
    });
  }

  /** Where a pre-token comes from: an aligned view whose text is exactly the pre-token. */
  private locate(pretoken: string, sub: AlignedText, cursor: number): { aligned: AlignedText; next: number } {
    const pre = this.lib.pre_tokenizer;
    if (this.byteDecoder) {
      // Byte-level pre-tokens are contiguous: decode and check at the cursor (no scan of the rest).
      const decoded = decodeByteLevel(pretoken, this.byteDecoder);
      if (decoded !== null && sub.text.startsWith(decoded, cursor)) return { aligned: byteLevelView(pretoken, sub, cursor, decoded), next: cursor + decoded.length };
    }
    if (pre instanceof MetaspacePreTokenizer) {
      const replaced = replaceAligned(sub, / /g, pre.str_rep);
      if (replaced.text === pretoken) return { aligned: replaced, next: sub.length };
      if (pre.str_rep + replaced.text === pretoken) {
        const b = new AlignedBuilder();
        const [s] = sub.span(0, 0);
        b.push(pre.str_rep, s, s); // the dummy prefix covers no input
        b.pushFrom(replaced, 0, replaced.length);
        return { aligned: b.build(), next: sub.length };
      }
    }
    // Pre-tokens are in order; separators a pre-tokenizer drops (BERT's whitespace) sit between them.
    let at = sub.text.startsWith(pretoken, cursor) ? cursor : sub.text.indexOf(pretoken, cursor);
    if (at >= 0) return { aligned: sub.slice(at, at + pretoken.length), next: at + pretoken.length };
    if (this.byteDecoder) {
      const decoded = decodeByteLevel(pretoken, this.byteDecoder);
      at = decoded === null ? -1 : sub.text.indexOf(decoded, cursor);
      if (at >= 0) return { aligned: byteLevelView(pretoken, sub, at, decoded!), next: at + decoded!.length };
    }
    // A pre-tokenizer Edgebone cannot follow: give the rest of the subsection (offsets become approximate).
    const [s, e] = sub.span(cursor, sub.length);
    const b = new AlignedBuilder();
    b.push(pretoken, s, e);
    return { aligned: b.build(), next: sub.length };
  }

  /**
   * Where one pre-token may be cut before the model sees it. A SentencePiece text is a single pre-token
   * (Metaspace, no split), but no piece spans a word start ("x▁") when no piece has "▁" after another
   * character, so cutting there gives the same tokens (what HF's Metaspace `split` does) and keeps lattices
   * small: tokenizers.js's Unigram spreads all of a pre-token's tokens into one call, which overflows the stack
   * past ~10⁵ tokens. For Unigram, a run without word starts longer than MAX_UNIGRAM_CHUNK characters is cut
   * anyway (never a crash; tokens at such a cut may differ from the reference).
   */
  private modelChunks(pretoken: string): [number, number][] {
    if (pretoken.length <= this.maxChunk && !this.splitAtWordStarts) return [[0, pretoken.length]];
    const cuts: [number, number][] = [];
    let from = 0;
    for (let i = 1; i <= pretoken.length; i++) {
      const atWord = i < pretoken.length && this.splitAtWordStarts && pretoken[i] === "▁" && pretoken[i - 1] !== "▁";
      const tooLong = i - from >= this.maxChunk && codePointLength(pretoken, i - 1) === 1 && !isHighSurrogate(pretoken, i - 1);
      if (i === pretoken.length || atWord || tooLong) {
        cuts.push([from, i]);
        from = i;
      }
    }
    return cuts;
  }

  /** Spans of the model's tokens inside one pre-token. */
  private surfaces(pieces: string[], pre: AlignedText, model: VocabModel): { token: string; start: number; end: number }[] {
    const text = pre.text;
    const out: { token: string; start: number; end: number }[] = [];
    let c = 0;
    const emit = (token: string, from: number, to: number) => {
      const [start, end] = pre.span(from, to);
      out.push({ token, start, end });
    };
    if (model.type === "WordPiece") {
      // WordPiece gives either `[UNK]` for the whole word or its pieces, `##` on all but the first.
      if (pieces.length === 1 && pieces[0] === model.unkToken && text !== pieces[0]) return [{ token: pieces[0], ...spanOf(pre) }];
      const prefix = model.subwordPrefix;
      pieces.forEach((p, i) => {
        const surface = i > 0 && p.startsWith(prefix) ? p.slice(prefix.length) : p;
        emit(p, c, c + surface.length);
        c += surface.length;
      });
      return out;
    }
    for (let i = 0; i < pieces.length; i++) {
      const p = pieces[i];
      if (text.startsWith(p, c)) {
        emit(p, c, c + p.length);
        c += p.length;
        continue;
      }
      const byte = BYTE_TOKEN.exec(p);
      if (byte && c < text.length) {
        // Byte fallback: the UTF-8 bytes of one character, each token with that character's span.
        const n = codePointLength(text, c);
        const count = utf8Length(text.codePointAt(c)!);
        for (let k = 0; k < count && i < pieces.length; k++, i++) emit(pieces[i], c, c + n);
        i--;
        c += n;
        continue;
      }
      // The unknown token for a symbol it could not place: one character.
      const n = c < text.length ? codePointLength(text, c) : 0;
      emit(p, c, c + n);
      c += n;
    }
    return out;
  }

  /** Token strings of ids, checking the range. */
  idsToTokens(ids: readonly number[]): string[] {
    return ids.map((id, i) => {
      if (!Number.isInteger(id) || id < 0 || id >= this.vocabularySize) {
        throw new InputError(`token id ${id} at position ${i} is out of range for vocabulary size ${this.vocabularySize}`);
      }
      return this.model.tokenOf(id) ?? "";
    });
  }

  /** The library's `decode` (its steps, over this engine's model): tokens, decoder, end-of-word suffix. */
  decode(ids: readonly number[], skipSpecialTokens: boolean): string {
    this.idsToTokens(ids);
    if (ids.length === 0) return "";
    const decoder = this.lib.decoder;
    let tokens = ids.map((id) => (this.model.tokenOf(id) ?? this.model.unkToken)!);
    if (skipSpecialTokens) tokens = tokens.filter((t) => !this.specialTokens.includes(t));
    let decoded = decoder ? decoder(tokens) : tokens.join(" ");
    if (decoder && this.endOfWordSuffix) {
      decoded = decoded.replaceAll(this.endOfWordSuffix, " ");
      if (skipSpecialTokens) decoded = decoded.trim();
    }
    return decoded;
  }
}

/** One byte-level character per UTF-8 byte, each with the span of the character it encodes. */
function byteLevelView(pretoken: string, sub: AlignedText, at: number, decoded: string): AlignedText {
  const b = new AlignedBuilder();
  let k = 0;
  for (let i = at; i < at + decoded.length; ) {
    const n = codePointLength(sub.text, i);
    const bytes = utf8Length(sub.text.codePointAt(i)!);
    const [s, e] = sub.span(i, i + n);
    b.push(pretoken.slice(k, k + bytes), s, e);
    k += bytes;
    i += n;
  }
  return b.build();
}

function isHighSurrogate(text: string, i: number): boolean {
  const c = text.charCodeAt(i);
  return c >= 0xd800 && c <= 0xdbff;
}

/** `target.push(...source)` without the argument-count limit (a long text has hundreds of thousands of tokens). */
export function append<T>(target: T[], source: readonly T[]): void {
  for (const x of source) target.push(x);
}

function spanOf(a: AlignedText): { start: number; end: number } {
  const [start, end] = a.span(0, a.length);
  return { start, end };
}

function withPositions(parts: string[], offset: number): { text: string; start: number }[] {
  let at = offset;
  return parts.map((text) => {
    const part = { text, start: at };
    at += text.length;
    return part;
  });
}

interface FoundToken {
  token: string;
  start: number;
  end: number;
  /** The token's id in the model's vocabulary, if any. */
  found: number | undefined;
}

/** The library's `fuse_unk`: consecutive unknown pieces become one token (spans merged). */
function fuseUnknown(tokens: readonly FoundToken[], model: VocabModel): FoundToken[] {
  const unk = model.unkId;
  const fused: FoundToken[] = [];
  for (let i = 0; i < tokens.length; ) {
    const first = { ...tokens[i] };
    fused.push(first);
    if ((first.found ?? unk) !== unk) {
      i++;
      continue;
    }
    while (++i < tokens.length && (tokens[i].found ?? unk) === unk) {
      if (first.found !== unk) {
        first.token += tokens[i].token;
        first.found = model.idOf(first.token);
      }
      first.end = Math.max(first.end, tokens[i].end);
    }
  }
  return fused;
}

/**
 * Gap 4 (decoding): the ByteFallback decoder's TextDecoder drops a byte-order mark at the start of the text
 * (WHATWG default), so `decode(encode("\uFEFF…"))` would lose it. Byte tokens decode with the BOM kept.
 */
function patchDecoder(decoder: unknown): void {
  const d = decoder as { text_decoder?: unknown; decoders?: unknown[] } | null;
  if (!d) return;
  if (d.text_decoder instanceof TextDecoder && !d.text_decoder.ignoreBOM) d.text_decoder = new TextDecoder("utf-8", { ignoreBOM: true });
  d.decoders?.forEach(patchDecoder);
}

/**
 * Gap 1: swaps every `Precompiled` normalizer (also inside sequences) for the exact charsmap one; a compiled
 * tokenizer's config names its charsmap by index (`charsmap_table`, compiled.ts).
 */
function patchNormalizer(n: LibNormalizer, charsmaps: readonly Uint8Array[]): LibNormalizer {
  if (n instanceof PrecompiledNormalizer) {
    const table = (n.config as { charsmap_table?: number }).charsmap_table;
    return new ExactPrecompiledNormalizer(n.config as never, table === undefined ? undefined : charsmaps[table]) as unknown as LibNormalizer;
  }
  if (n instanceof SequenceNormalizer) n.normalizers = n.normalizers.map((x) => (x ? patchNormalizer(x, charsmaps) : x));
  return n;
}

/** The same normalization as the library's normalizer object, keeping each code unit's provenance. */
function alignedNormalize(n: LibNormalizer, input: AlignedText): AlignedText {
  if (n instanceof ExactPrecompiledNormalizer) return n.normalizeAligned(input);
  if (n instanceof SequenceNormalizer) return n.normalizers.reduce((a, x) => (x ? alignedNormalize(x, a) : a), input);
  if (n instanceof BertNormalizer) {
    // The library's own steps, one code point at a time (its steps are per character).
    const bert = n as unknown as {
      config: { clean_text?: boolean; handle_chinese_chars?: boolean; lowercase?: boolean; strip_accents?: boolean | null };
      clean_text(t: string): string;
      tokenize_chinese_chars(t: string): string;
      strip_accents(t: string): string;
    };
    const c = bert.config;
    return mapCodePoints(input, (ch) => {
      let t = ch;
      if (c.clean_text) t = bert.clean_text(t);
      if (c.handle_chinese_chars) t = bert.tokenize_chinese_chars(t);
      if (c.lowercase) {
        t = t.toLowerCase();
        if (c.strip_accents !== false) t = bert.strip_accents(t);
      } else if (c.strip_accents) {
        t = bert.strip_accents(t);
      }
      return t;
    });
  }
  if (n instanceof ReplaceNormalizer) return n.pattern ? replaceAligned(input, n.pattern, String(n.config.content ?? "")) : input;
  if (n instanceof StripNormalizer) {
    const { strip_left, strip_right } = n.config as { strip_left?: boolean; strip_right?: boolean };
    const text = input.text;
    const from = strip_left ? text.length - text.trimStart().length : 0;
    const to = strip_right ? text.trimEnd().length : text.length;
    return input.slice(from, Math.max(from, to));
  }
  if (n instanceof PrependNormalizer) {
    const b = new AlignedBuilder();
    const [s] = input.span(0, 0);
    b.push((n.config as { prepend: string }).prepend, s, s);
    b.pushFrom(input, 0, input.length);
    return b.build();
  }
  if (n instanceof LowercaseNormalizer) return mapCodePoints(input, (ch) => ch.toLowerCase());
  if (n instanceof StripAccentsNormalizer) return mapCodePoints(input, (ch) => ch.replace(/\p{M}/gu, ""));
  if (n instanceof NFCNormalizer || n instanceof NFDNormalizer || n instanceof NFKCNormalizer || n instanceof NFKDNormalizer) {
    return mapClusters(input, (cluster) => n.normalize(cluster));
  }
  return mapClusters(input, (cluster) => n.normalize(cluster));
}

function usesByteLevel(lib: LibTokenizer): boolean {
  const pre = lib.pre_tokenizer;
  if (pre instanceof ByteLevelPreTokenizer) return true;
  return pre instanceof SequencePreTokenizer && pre.tokenizers.some((t) => t instanceof ByteLevelPreTokenizer);
}

/** GPT-2's byte ↔ printable character table, inverted. */
function byteLevelDecoder(): Map<string, number> {
  const printable = (b: number) => (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
  const map = new Map<string, number>();
  let n = 0;
  for (let b = 0; b < 256; b++) map.set(String.fromCharCode(printable(b) ? b : 256 + n++), b);
  return map;
}

function decodeByteLevel(s: string, decoder: Map<string, number>): string | null {
  const bytes = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) {
    const b = decoder.get(s[i]);
    if (b === undefined) return null;
    bytes[i] = b;
  }
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    return null;
  }
}

function utf8Length(cp: number): number {
  return cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
}

/**
 * Input text must be a string of valid Unicode: an unpaired UTF-16 surrogate has no UTF-8 encoding, and the
 * reference tokenizers (Python, Rust, SentencePiece) cannot receive one either. Rejected with its position.
 */
export function checkText(text: unknown, what = "text"): asserts text is string {
  if (typeof text !== "string") throw new InputError(`${what} must be a string, got ${text === null ? "null" : typeof text}`);
  const m = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.exec(text);
  if (m) {
    const code = m[0].charCodeAt(0).toString(16).toUpperCase();
    throw new InputError(`${what} contains an unpaired UTF-16 surrogate U+${code} at index ${m.index}; send valid Unicode text`);
  }
}
