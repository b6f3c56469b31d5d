/**
 * WordPiece (DistilBERT / BERT): `vocab.txt` (HF) or `assets/tokenizer/vocabulary.txt` (KerasHub) → the
 * canonical tokenizer.json (BertNormalizer, BertPreTokenizer, WordPiece, `[CLS] x [SEP]`).
 */
import { FAMILIES } from "./families.js";
import { TokenizerError } from "./errors.js";
import { addedToken, templateProcessing, type EdgeboneMeta, type TokenizerJson } from "./tokenizer-json.js";

export interface WordPieceOptions {
  /** Lowercase the text (uncased models). */
  lowercase: boolean;
  /**
   * Strip accents (NFD, drop combining marks). Hugging Face's BERT does it whenever it lowercases
   * (`strip_accents=None`); KerasHub only when its config says so (default false).
   */
  stripAccents: boolean;
  /** Whether `[CLS]`, `[SEP]`, … spelled in input text become special ids (HF: yes; KerasHub default: no). */
  specialTokensInText: boolean;
  source: EdgeboneMeta["source"];
  /** Longest word (in characters) before it becomes a single `[UNK]` (HF and Google BERT: 100). */
  maxInputCharsPerWord?: number;
}

/** One token per line, id = line number. Only the line break is removed (HF `load_vocab`). */
export function parseVocabTxt(bytes: Uint8Array, where: string): string[] {
  const lines = new TextDecoder().decode(bytes).split("\n");
  if (lines.at(-1) === "") lines.pop();
  const tokens = lines.map((l) => (l.endsWith("\r") ? l.slice(0, -1) : l));
  if (tokens.length === 0) throw new TokenizerError(`${where} is empty`);
  return tokens;
}

export function wordPieceTokenizerJson(tokens: string[], options: WordPieceOptions, where: string): TokenizerJson {
  const vocab: Record<string, number> = {};
  tokens.forEach((t, i) => {
    if (!(t in vocab)) vocab[t] = i; // a duplicated line keeps its first id
  });
  const spec = FAMILIES.distil_bert;
  const idOf = (t: string) => {
    const id = vocab[t];
    if (id === undefined) throw new TokenizerError(`${where} has no ${t} token, which a WordPiece (BERT) vocabulary needs`);
    return id;
  };
  const specials = [spec.specials.pad!, spec.specials.unk!, spec.specials.start!, spec.specials.end!, spec.specials.mask!];
  return {
    version: "1.0",
    truncation: null,
    padding: null,
    added_tokens: specials
      .filter((t) => t in vocab || t !== spec.specials.mask)
      .map((t) => addedToken({ id: idOf(t), content: t, normalized: false, special: true }))
      .sort((a, b) => a.id - b.id),
    normalizer: {
      type: "BertNormalizer",
      clean_text: true,
      handle_chinese_chars: true,
      strip_accents: options.stripAccents,
      lowercase: options.lowercase,
    },
    pre_tokenizer: { type: "BertPreTokenizer" },
    model: {
      type: "WordPiece",
      unk_token: spec.specials.unk!,
      continuing_subword_prefix: "##",
      max_input_chars_per_word: options.maxInputCharsPerWord ?? 100,
      vocab,
    },
    post_processor: templateProcessing("distil_bert", idOf),
    decoder: { type: "WordPiece", prefix: "##", cleanup: true },
    edgebone: {
      format: 1,
      family: "distil_bert",
      source: options.source,
      special_tokens_in_text: options.specialTokensInText,
      lowercase: options.lowercase,
      strip_accents: options.stripAccents,
    },
  };
}

/** The vocabulary back as `vocab.txt` lines (KerasHub asset). */
export function vocabTxtFromJson(json: TokenizerJson): Uint8Array {
  const vocab = json.model.vocab as Record<string, number>;
  const lines: string[] = [];
  for (const [token, id] of Object.entries(vocab)) lines[id] = token;
  for (const t of json.added_tokens) lines[t.id] ??= t.content;
  return new TextEncoder().encode(Array.from(lines, (l) => l ?? "").join("\n") + "\n");
}

/**
 * A vocabulary without a lowercasing flag: cased if it holds capitalised word pieces (bert-base-cased has
 * thousands; uncased vocabularies have none besides the bracketed special tokens).
 */
export function looksCased(tokens: readonly string[]): boolean {
  let upper = 0;
  for (const t of tokens) if (!/^\[.*\]$/.test(t) && /^(##)?\p{Lu}/u.test(t)) upper++;
  return upper > 50;
}
