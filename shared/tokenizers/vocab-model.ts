/**
 * The model stage the engine drives (WordPiece / BPE / Unigram over pre-tokens), behind one interface with two
 * implementations: tokenizers.js's own models built from the tokenizer.json (`LibraryModel`, with the fixes
 * below), and the compact models of a compiled tokenizer (wordpiece-model.ts, bpe-model.ts,
 * unigram-model.ts), which give the same pieces from typed arrays.
 *
 * Fixes to tokenizers.js 0.2.0 (see engine.ts for the others):
 * - Gap 2: Unigram's trie contains control tokens (`<s>`, `<unk>`, …), so text spelling them would match them →
 *   special added tokens are taken out of the trie, as SentencePiece leaves control pieces out of its own.
 * - Gap 3: BPE ranks are per rule; SentencePiece ranks per merged piece (leftmost wins among equal pieces) →
 *   for SentencePiece BPE the pair rank is the merged piece's rank (its first rule in the score-sorted merges).
 *   This also keeps a 256k-piece model inside the edge's budgets: the library would key a Map by
 *   `JSON.stringify` of each of ~10⁶ rules (seconds and hundreds of MB); a piece-indexed rank table is cheap.
 */
import { BPE, Unigram, type LibBPE, type LibCharTrie, type LibModel, type LibTokenizer } from "./lib.js";
import type { StringTable } from "./string-table.js";
import type { TokenizerJson } from "./tokenizer-json.js";

export type ModelType = "WordPiece" | "BPE" | "Unigram";

export interface VocabModel {
  readonly type: ModelType;
  /** Pieces of each pre-token, in order (tokenizers.js `model.encode`, without fusing unknowns). */
  encode(pretokens: string[]): string[];
  /** Id of a token (vocabulary and added tokens; added tokens win), or undefined. */
  idOf(token: string): number | undefined;
  tokenOf(id: number): string | undefined;
  /** Ids are below this (the library's `model.vocab.length` once added tokens are in). */
  readonly size: number;
  readonly unkId: number | undefined;
  readonly unkToken: string | undefined;
  /** Consecutive unknown pieces become one token. */
  readonly fuseUnk: boolean;
  /** WordPiece's continuing-subword prefix (`##`). */
  readonly subwordPrefix: string;
  /** Some token has "▁" after another character ("x▁"): a word start may fall inside a token. */
  readonly hasInnerWordStart: boolean;
}

/** SentencePiece BPE: converted by Edgebone, or an HF file converted from one (byte fallback, not byte-level). */
export function isSentencePieceBpe(json: Pick<TokenizerJson, "model" | "pre_tokenizer" | "edgebone">): boolean {
  return (
    json.model.type === "BPE" &&
    (json.edgebone.sentencepiece?.model_type === "bpe" || (json.model.byte_fallback === true && json.pre_tokenizer?.type !== "ByteLevel"))
  );
}

export const INNER_WORD_START = /[^▁]▁/;

/** Rules of a SentencePiece BPE as the merged pieces they make ("a b" or ["a", "b"] → "ab"). */
export function mergedPiece(rule: string | [string, string]): string {
  return typeof rule === "string" ? rule.replace(" ", "") : rule[0] + rule[1];
}

/** tokenizers.js's model of a tokenizer built from the full tokenizer.json (the uncompiled path). */
export class LibraryModel implements VocabModel {
  readonly type: ModelType;
  readonly size: number;
  readonly hasInnerWordStart: boolean;
  private readonly model: LibModel;

  /** `merges`: the SentencePiece BPE rules the library was not given (gap 3), else undefined. */
  constructor(lib: LibTokenizer, merges: readonly (string | [string, string])[] | undefined) {
    const model = lib.model;
    this.model = model;
    this.type = model instanceof Unigram ? "Unigram" : model instanceof BPE ? "BPE" : "WordPiece";
    if (model instanceof Unigram) {
      for (const t of lib.added_tokens) if (t.special) unmarkTrieLeaf(model.trie, t.content);
    }
    if (model instanceof BPE && merges) usePieceRanks(model, merges);
    // The library keeps its input; none of it is needed after construction (memory at the edge).
    (lib as unknown as { tokenizer: unknown }).tokenizer = null;
    const { vocab: _v, merges: _m, ...modelConfig } = model.config;
    model.config = modelConfig;
    this.size = Math.max(model.vocab.length, ...lib.added_tokens.map((t) => t.id + 1));
    this.hasInnerWordStart = model.vocab.some((p) => p !== undefined && INNER_WORD_START.test(p));
  }

  encode(pretokens: string[]): string[] {
    return this.model.encode(pretokens);
  }

  idOf(token: string): number | undefined {
    return this.model.tokens_to_ids.get(token);
  }

  tokenOf(id: number): string | undefined {
    return this.model.vocab[id];
  }

  get unkId(): number | undefined {
    return this.model.unk_token_id;
  }

  get unkToken(): string | undefined {
    return this.model.unk_token;
  }

  get fuseUnk(): boolean {
    return this.model.fuse_unk;
  }

  get subwordPrefix(): string {
    return (this.model.config as { continuing_subword_prefix?: string }).continuing_subword_prefix ?? "##";
  }
}

/** Gap 2: the trie of a Unigram model stops treating `piece` as a word (its path stays for longer pieces). */
function unmarkTrieLeaf(trie: LibCharTrie, piece: string): void {
  let node = (trie as unknown as { root: TrieNode }).root;
  for (const ch of piece) {
    const next = node.children.get(ch);
    if (!next) return;
    node = next;
  }
  node.is_leaf = false;
}

interface TrieNode {
  is_leaf: boolean;
  children: Map<string, TrieNode>;
}

/**
 * Gap 3: SentencePiece BPE merges the adjacent pair whose concatenation is the best-ranked piece. The rank of a
 * piece is the index of its first rule (rules are sorted by piece score, see sentencepiece.ts `bpeMerges`);
 * the library's queue logic stays, only the rank lookup of a pair changes (its `add_node`).
 */
function usePieceRanks(model: LibBPE, merges: readonly (string | [string, string])[]): void {
  const rank = new Int32Array(model.vocab.length).fill(-1);
  merges.forEach((m, i) => {
    const id = model.tokens_to_ids.get(mergedPiece(m));
    if (id !== undefined && rank[id] < 0) rank[id] = i;
  });
  const ids = model.tokens_to_ids;
  interface Node {
    token: string;
    next: Node | null;
    bias: number;
    score?: number;
  }
  (model as unknown as { add_node(queue: { push(n: Node): void }, node: Node): void }).add_node = (queue, node) => {
    const id = ids.get(node.token + node.next!.token);
    const r = id === undefined ? -1 : rank[id];
    if (r >= 0) {
      node.score = r + node.bias; // the bias (position / length) breaks ties leftmost, as SentencePiece does
      queue.push(node);
    }
  };
}

/** What a compiled model knows besides its tables. */
export interface TableModelInfo {
  unkId: number | undefined;
  unkToken: string | undefined;
  fuseUnk: boolean;
  hasInnerWordStart: boolean;
}

/** The common part of the compact models: ids and strings from a `StringTable`. */
export abstract class TableModel implements VocabModel {
  abstract readonly type: ModelType;
  readonly unkId: number | undefined;
  readonly unkToken: string | undefined;
  readonly fuseUnk: boolean;
  readonly hasInnerWordStart: boolean;
  readonly subwordPrefix: string = "##";

  constructor(
    readonly strings: StringTable,
    info: TableModelInfo,
  ) {
    this.unkId = info.unkId;
    this.unkToken = info.unkToken;
    this.fuseUnk = info.fuseUnk;
    this.hasInnerWordStart = info.hasInnerWordStart;
  }

  abstract encode(pretokens: string[]): string[];

  get size(): number {
    return this.strings.size;
  }

  idOf(token: string): number | undefined {
    return this.strings.idOf(token);
  }

  tokenOf(id: number): string | undefined {
    return id < this.strings.size ? this.strings.at(id) : undefined;
  }
}
