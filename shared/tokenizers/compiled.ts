/**
 * A compiled tokenizer: the canonical tokenizer.json turned into typed arrays (tokenizer-binary.ts stores them
 * as they are, so loading is a few views and no per-token objects), and the compact model built on them.
 *
 * - the vocabulary: one string table (string-table.ts), holding exactly what tokenizers.js's `tokens_to_ids` /
 *   `vocab` hold once the added tokens are in (added tokens win a string; the last of duplicated unigram pieces
 *   wins);
 * - BPE: piece ranks (SentencePiece BPE) or the rule table (left, right) → rank;
 * - Unigram: the character trie as flat arrays, scores as Float32Array (Float64Array when some score is not
 *   a float32, so no score ever changes);
 * - added tokens as ids and flags (their contents are the string table's at those ids);
 * - SentencePiece charsmaps as their bytes;
 * - the rest of the file (normalizer, pre-tokenizer, decoder, template, a few KB) as JSON.
 *
 * Compiling refuses (CompileError) the rare files whose id mapping tokenizers.js itself would not keep one-to-one
 * (two strings on one id); such a tokenizer simply stays on the JSON path.
 */
import { BpeModel, type BpeOptions, type MergeRanks } from "./bpe-model.js";
import { TokenizerError } from "./errors.js";
import { PairMap } from "./pair-map.js";
import { base64Bytes } from "./precompiled.js";
import { StringTable } from "./string-table.js";
import type { AddedTokenJson, Json, TokenizerJson } from "./tokenizer-json.js";
import { UnigramModel } from "./unigram-model.js";
import { INNER_WORD_START, isSentencePieceBpe, mergedPiece, type TableModelInfo, type VocabModel } from "./vocab-model.js";
import { WordPieceModel } from "./wordpiece-model.js";

const UNPAIRED_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

export type Table = Uint8Array | Int32Array | Uint32Array | Float32Array | Float64Array;

/** Scalars of the compiled model (stored as JSON beside the config). */
export interface CompiledInfo extends TableModelInfo {
  size: number;
  wordPiece?: { prefix: string | undefined; maxChars: number };
  bpe?: BpeOptions & { ranks: MergeRanks["kind"] };
  unigram?: { unkScore: number };
  /** Number of Precompiled charsmaps (tables `charsmap.0`, …), in normalizer order. */
  charsmaps: number;
}

export interface CompiledTokenizer {
  /** The tokenizer.json without vocabulary, merges, added tokens (see `compiledConfig`) and charsmap bytes. */
  config: TokenizerJson;
  info: CompiledInfo;
  tables: Record<string, Table>;
  /** The tokenizer.bin the tables are views of, when read from one. */
  bytes?: Uint8Array;
}

export class CompileError extends TokenizerError {
  override name = "CompileError";
}

export function compileTokenizer(json: TokenizerJson): CompiledTokenizer {
  const model = json.model;
  const { vocab: _v, merges: _m, ...modelConfig } = model;
  const charsmaps: Uint8Array[] = [];
  const config: TokenizerJson = { ...json, added_tokens: [], model: modelConfig as TokenizerJson["model"], normalizer: withoutCharsmaps(json.normalizer, charsmaps) };
  const tables: Record<string, Table> = {
    "added.ids": Int32Array.from(json.added_tokens, (t) => t.id),
    "added.flags": Uint8Array.from(json.added_tokens, (t) => ADDED_FLAGS.reduce((f, name, bit) => f | (t[name] ? 1 << bit : 0), 0)),
  };
  charsmaps.forEach((bytes, i) => (tables[`charsmap.${i}`] = bytes));

  // tokenizers.js: the model's token → id map and id → token array, then the added tokens written over both.
  const ids = new Map<string, number>();
  const strings: (string | undefined)[] = [];
  let unkId: number | undefined;
  let unkToken: string | undefined;
  if (model.type === "Unigram") {
    const pieces = model.vocab as [string, number][];
    pieces.forEach(([piece], i) => {
      strings[i] = piece;
      ids.set(piece, i);
    });
    if (typeof model.unk_id !== "number") throw new CompileError("a Unigram model without unk_id is not supported compiled");
    unkId = model.unk_id;
    unkToken = strings[unkId];
  } else {
    for (const [token, id] of Object.entries(model.vocab as Record<string, number>)) {
      ids.set(token, id);
      strings[id] = token;
    }
    unkToken = model.unk_token as string | undefined;
    unkId = ids.get(unkToken as string);
  }
  for (const t of json.added_tokens) {
    ids.set(t.content, t.id);
    strings[t.id] = t.content;
  }
  for (const [token, id] of ids) {
    if (strings[id] !== token) throw new CompileError(`${JSON.stringify(token)} and ${JSON.stringify(strings[id])} share id ${id}`);
  }
  const size = strings.length;
  if (strings.some((s) => s !== undefined && UNPAIRED_SURROGATE.test(s))) throw new CompileError("a token is not well-formed UTF-16 (unpaired surrogate)");

  const info: CompiledInfo = {
    size,
    unkId,
    unkToken,
    fuseUnk: model.type === "Unigram" || model.fuse_unk === true,
    hasInnerWordStart: strings.some((s) => s !== undefined && INNER_WORD_START.test(s)),
    charsmaps: charsmaps.length,
  };

  if (model.type === "WordPiece") {
    info.wordPiece = { prefix: model.continuing_subword_prefix as string | undefined, maxChars: (model.max_input_chars_per_word as number | undefined) ?? 100 };
  } else if (model.type === "BPE") {
    const sentencePiece = isSentencePieceBpe(json);
    info.bpe = {
      ranks: sentencePiece ? "pieces" : "rules",
      byteFallback: model.byte_fallback === true,
      ignoreMerges: model.ignore_merges === true,
      endOfWordSuffix: (model.end_of_word_suffix as string | null | undefined) || "",
      continuingSubwordSuffix: (model.continuing_subword_suffix as string | null | undefined) || "",
    };
    const merges = (model.merges ?? []) as (string | [string, string])[];
    if (sentencePiece) {
      const rank = new Int32Array(size).fill(-1);
      merges.forEach((m, i) => {
        const id = ids.get(mergedPiece(m));
        if (id !== undefined && rank[id] < 0) rank[id] = i;
      });
      tables["bpe.rank"] = rank;
    } else {
      const pairs = ruleTable(merges, ids, strings);
      tables["bpe.pairKeys"] = pairs.keys;
      tables["bpe.pairValues"] = pairs.values;
    }
  } else {
    const pieces = model.vocab as [string, number][];
    const special = new Set(json.added_tokens.filter((t) => t.special).map((t) => t.content));
    Object.assign(tables, trieTables(pieces.map(([p]) => p), (p) => (special.has(p) ? -1 : ids.get(p)!)));
    const raw = pieces.map(([, s]) => s);
    let min = raw[0];
    for (const s of raw) if (s < min) min = s;
    info.unigram = { unkScore: min - 10 };
    const exact = raw.every((s) => Math.fround(s) === s);
    const scores = exact ? new Float32Array(size) : new Float64Array(size);
    scores.fill(NaN);
    scores.set(raw);
    tables["unigram.scores"] = scores;
  }
  const stringTable = StringTable.build(size, strings, ids.values());
  tables["strings.blob"] = stringTable.blob;
  tables["strings.offsets"] = stringTable.offsets;
  tables["strings.slots"] = stringTable.slots;
  return { config, info, tables };
}

/**
 * Rules (left, right) → rank over string-table indices; rule parts the vocabulary lacks are appended to
 * `strings` past the ids. The library keys rules by `JSON.stringify([a, b])` of `"a b".split(" ", 2)` (or the
 * pair as given); a later duplicate overwrites the rank.
 */
function ruleTable(merges: readonly (string | [string, string])[], ids: Map<string, number>, strings: (string | undefined)[]): PairMap {
  const pairFormat = Array.isArray(merges[0]);
  const indexOf = (s: string) => {
    let i = ids.get(s);
    if (i === undefined) {
      i = strings.length;
      strings.push(s);
      ids.set(s, i);
    }
    return i;
  };
  const pairs = PairMap.withCapacity(merges.length);
  merges.forEach((m, rank) => {
    const rule = pairFormat ? m : typeof m === "string" ? m.split(" ", 2) : null;
    if (!Array.isArray(rule) || rule.length !== 2 || typeof rule[0] !== "string" || typeof rule[1] !== "string") return;
    pairs.set(indexOf(rule[0]), indexOf(rule[1]), rank);
  });
  return pairs;
}

/** The character trie of `pieces` in breadth-first order (see unigram-model.ts), leaves from `leafOf` (-1: none). */
function trieTables(pieces: readonly string[], leafOf: (piece: string) => number): { "trie.first": Int32Array; "trie.label": Int32Array; "trie.leaf": Int32Array } {
  // Insertion order first: node ids by creation, children found through a (parent, code point) map.
  const children = PairMap.withCapacity(pieces.reduce((n, p) => n + p.length, 1));
  const parent: number[] = [-1];
  const label: number[] = [-1];
  const leaf: number[] = [-1];
  for (const piece of pieces) {
    let node = 0;
    for (const ch of piece) {
      const code = ch.codePointAt(0)!;
      let child = children.get(node, code);
      if (child < 0) {
        child = parent.length;
        parent.push(node);
        label.push(code);
        leaf.push(-1);
        children.set(node, code, child);
      }
      node = child;
    }
    leaf[node] = leafOf(piece);
  }
  // Breadth-first renumbering, children by code point: node k's children become the range first[k]..first[k+1].
  const n = parent.length;
  const childCount = new Int32Array(n + 1);
  for (let c = 1; c < n; c++) childCount[parent[c] + 1]++;
  for (let k = 0; k < n; k++) childCount[k + 1] += childCount[k];
  const grouped = new Int32Array(n - 1 > 0 ? n - 1 : 0);
  const fill = childCount.slice(0, n);
  for (let c = 1; c < n; c++) grouped[fill[parent[c]]++] = c;
  const out = { first: new Int32Array(n + 1), label: new Int32Array(n), leaf: new Int32Array(n) };
  out.leaf[0] = leaf[0];
  out.label[0] = -1;
  let next = 1;
  const order = [0];
  for (let q = 0; q < order.length; q++) {
    const old = order[q];
    const kids = Array.from(grouped.subarray(childCount[old], childCount[old + 1])).sort((a, b) => label[a] - label[b]);
    out.first[q] = next;
    for (const c of kids) {
      out.label[next] = label[c];
      out.leaf[next] = leaf[c];
      order.push(c);
      next++;
    }
  }
  out.first[n] = next;
  return { "trie.first": out.first, "trie.label": out.label, "trie.leaf": out.leaf };
}

/** A copy of the normalizer config with each Precompiled charsmap moved into `charsmaps` (its index left in place). */
function withoutCharsmaps(n: Json | null, charsmaps: Uint8Array[]): Json | null {
  if (!n) return n;
  if (n.type === "Precompiled" && typeof n.precompiled_charsmap === "string" && n.precompiled_charsmap) {
    charsmaps.push(base64Bytes(n.precompiled_charsmap));
    return { ...n, precompiled_charsmap: null, charsmap_table: charsmaps.length - 1 };
  }
  if (n.type === "Sequence" && Array.isArray(n.normalizers)) return { ...n, normalizers: (n.normalizers as (Json | null)[]).map((x) => withoutCharsmaps(x, charsmaps)) };
  return n;
}

const ADDED_FLAGS = ["special", "normalized", "lstrip", "rstrip", "single_word"] as const;

function table<T extends Table>(compiled: CompiledTokenizer, name: string, type: new (...args: never[]) => T): T {
  const t = compiled.tables[name];
  if (!(t instanceof type)) throw new TokenizerError(`compiled tokenizer has no ${type.name} table "${name}"`);
  return t;
}

/** The compact model of a compiled tokenizer, and its config with the added tokens back in. */
export function compiledModel(compiled: CompiledTokenizer): { model: VocabModel; config: TokenizerJson } {
  const strings = new StringTable(
    compiled.info.size,
    table(compiled, "strings.blob", Uint8Array),
    table(compiled, "strings.offsets", Uint32Array),
    table(compiled, "strings.slots", Int32Array),
  );
  const flags = table(compiled, "added.flags", Uint8Array);
  const added = Array.from(table(compiled, "added.ids", Int32Array), (id, k) => {
    const token = { id, content: strings.at(id) ?? "" } as AddedTokenJson;
    ADDED_FLAGS.forEach((name, bit) => (token[name] = (flags[k] & (1 << bit)) !== 0));
    return token;
  });
  return { model: tableModel(compiled, strings), config: { ...compiled.config, added_tokens: added } };
}

function tableModel(compiled: CompiledTokenizer, strings: StringTable): VocabModel {
  const info = compiled.info;
  if (info.wordPiece) return new WordPieceModel(strings, info, info.wordPiece.prefix, info.wordPiece.maxChars);
  if (info.bpe) {
    const ranks: MergeRanks =
      info.bpe.ranks === "pieces"
        ? { kind: "pieces", rank: table(compiled, "bpe.rank", Int32Array) }
        : { kind: "rules", pairs: new PairMap(table(compiled, "bpe.pairKeys", Int32Array), table(compiled, "bpe.pairValues", Int32Array)) };
    return new BpeModel(strings, info, ranks, info.bpe);
  }
  if (info.unigram) {
    const scores = compiled.tables["unigram.scores"];
    if (!(scores instanceof Float32Array || scores instanceof Float64Array)) throw new TokenizerError('compiled tokenizer has no table "unigram.scores"');
    const trie = { first: table(compiled, "trie.first", Int32Array), label: table(compiled, "trie.label", Int32Array), leaf: table(compiled, "trie.leaf", Int32Array) };
    return new UnigramModel(strings, info, trie, scores, info.unigram.unkScore);
  }
  throw new TokenizerError("compiled tokenizer names no model");
}

/** The charsmaps of a compiled tokenizer, in normalizer order. */
export function compiledCharsmaps(compiled: CompiledTokenizer): Uint8Array[] {
  return Array.from({ length: compiled.info.charsmaps }, (_, i) => table(compiled, `charsmap.${i}`, Uint8Array));
}
