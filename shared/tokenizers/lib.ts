/**
 * Typed access to @huggingface/tokenizers (tokenizers.js). Its bundled typings use extensionless relative
 * imports, which TypeScript's NodeNext resolution cannot follow, so every type it exports collapses to
 * `any`. This module declares the surface Edgebone uses (the runtime values are the library's own).
 */
import * as hf from "@huggingface/tokenizers";

/** Library components are callable objects (`normalizer(text)`, `model(tokens)`). */
export interface LibNormalizer {
  (text: string): string;
  config: Record<string, unknown>;
  normalize(text: string): string;
}
interface LibPreTokenizer {
  (text: string | string[], options?: { section_index?: number }): string[];
}
export interface LibModel {
  (tokens: string[]): string[];
  config: Record<string, unknown> & { vocab?: unknown; merges?: unknown };
  vocab: string[];
  tokens_to_ids: Map<string, number>;
  unk_token_id?: number;
  unk_token?: string;
  fuse_unk: boolean;
  encode(tokens: string[]): string[];
}
export interface LibCharTrie {
  extend(texts: Iterable<string>): void;
}
interface LibUnigram extends LibModel {
  trie: LibCharTrie;
}
export interface LibBPE extends LibModel {
  merges: [string, string][];
  bpe_ranks: Map<string, number>;
}
interface LibAddedToken {
  id: number;
  content: string;
  lstrip: boolean;
  rstrip: boolean;
  normalized: boolean;
  special: boolean;
}
export interface LibSplitter {
  split(text: string): string[];
}
export interface LibTokenizer {
  normalizer: LibNormalizer | null;
  pre_tokenizer: LibPreTokenizer | null;
  model: LibModel;
  encode(text: string, options?: { text_pair?: string | null; add_special_tokens?: boolean }): { ids: number[]; tokens: string[] };
  decode(ids: number[], options?: { skip_special_tokens?: boolean; clean_up_tokenization_spaces?: boolean | null }): string;
  token_to_id(token: string): number | undefined;
  id_to_token(id: number): string | undefined;
  /** Internals of 0.2.0 (not in its typings) the engine reuses. */
  added_tokens: LibAddedToken[];
  added_tokens_map: Map<string, LibAddedToken>;
  splitter_unnormalized: LibSplitter;
  decoder: ((tokens: string[]) => string) | null;
}

type Ctor<T> = abstract new (...args: never[]) => T;
/** A phantom tag per class, so `instanceof` chains narrow (the shapes are otherwise identical). */
type Tagged<T, Tag extends string> = T & { readonly __class?: Tag };

const L = hf as unknown as {
  Tokenizer: new (json: object, config: object) => LibTokenizer;
  Normalizer: abstract new (config: object) => LibNormalizer;
  BertNormalizer: Ctor<Tagged<LibNormalizer, "BertNormalizer">>;
  PrecompiledNormalizer: Ctor<Tagged<LibNormalizer, "PrecompiledNormalizer">>;
  SequenceNormalizer: Ctor<Tagged<LibNormalizer & { normalizers: (LibNormalizer | null)[] }, "SequenceNormalizer">>;
  ReplaceNormalizer: Ctor<Tagged<LibNormalizer & { pattern: RegExp | null }, "ReplaceNormalizer">>;
  StripNormalizer: Ctor<Tagged<LibNormalizer, "StripNormalizer">>;
  PrependNormalizer: Ctor<Tagged<LibNormalizer, "PrependNormalizer">>;
  LowercaseNormalizer: Ctor<Tagged<LibNormalizer, "LowercaseNormalizer">>;
  StripAccentsNormalizer: Ctor<Tagged<LibNormalizer, "StripAccentsNormalizer">>;
  NFCNormalizer: Ctor<Tagged<LibNormalizer, "NFCNormalizer">>;
  NFDNormalizer: Ctor<Tagged<LibNormalizer, "NFDNormalizer">>;
  NFKCNormalizer: Ctor<Tagged<LibNormalizer, "NFKCNormalizer">>;
  NFKDNormalizer: Ctor<Tagged<LibNormalizer, "NFKDNormalizer">>;
  MetaspacePreTokenizer: Ctor<Tagged<LibPreTokenizer & { str_rep: string }, "MetaspacePreTokenizer">>;
  ByteLevelPreTokenizer: Ctor<Tagged<LibPreTokenizer, "ByteLevelPreTokenizer">>;
  SequencePreTokenizer: Ctor<Tagged<LibPreTokenizer & { tokenizers: (LibPreTokenizer | null)[] }, "SequencePreTokenizer">>;
  WordPiece: Ctor<Tagged<LibModel, "WordPiece">>;
  BPE: Ctor<Tagged<LibBPE, "BPE">>;
  Unigram: Ctor<Tagged<LibUnigram, "Unigram">>;
};

export const {
  Tokenizer,
  Normalizer,
  BertNormalizer,
  PrecompiledNormalizer,
  SequenceNormalizer,
  ReplaceNormalizer,
  StripNormalizer,
  PrependNormalizer,
  LowercaseNormalizer,
  StripAccentsNormalizer,
  NFCNormalizer,
  NFDNormalizer,
  NFKCNormalizer,
  NFKDNormalizer,
  MetaspacePreTokenizer,
  ByteLevelPreTokenizer,
  SequencePreTokenizer,
  WordPiece,
  BPE,
  Unigram,
} = L;
