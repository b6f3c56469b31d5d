/**
 * Byte-level BPE (RoBERTa, GPT-2 style): `vocab.json` + `merges.txt` (HF) or `vocabulary.json` +
 * `merges.txt` (KerasHub) → the canonical tokenizer.json (ByteLevel pre-tokenizer, BPE, `<s> x </s>`).
 */
import { FAMILIES } from "./families.js";
import { TokenizerError } from "./errors.js";
import { addedToken, templateProcessing, type EdgeboneMeta, type TokenizerJson } from "./tokenizer-json.js";

export interface ByteBpeOptions {
  source: EdgeboneMeta["source"];
  /** `add_prefix_space` (KerasHub and HF default false for RoBERTa). */
  addPrefixSpace?: boolean;
  /** Whether `<s>`, `<mask>`, … spelled in input text become special ids (HF and KerasHub: yes). */
  specialTokensInText?: boolean;
}

export function parseVocabJson(bytes: Uint8Array, where: string): Record<string, number> {
  let vocab: unknown;
  try {
    vocab = JSON.parse(new TextDecoder().decode(bytes));
  } catch (e) {
    throw new TokenizerError(`${where} is not valid JSON (${(e as Error).message})`);
  }
  if (!vocab || typeof vocab !== "object" || Array.isArray(vocab)) throw new TokenizerError(`${where} must be a JSON object {token: id}`);
  for (const [t, id] of Object.entries(vocab)) {
    if (!Number.isInteger(id) || (id as number) < 0) throw new TokenizerError(`${where}: id of ${JSON.stringify(t)} is not a non-negative integer`);
  }
  return vocab as Record<string, number>;
}

/** One `a b` rule per line, rank = order; the `#version` header and blank lines are skipped. */
export function parseMerges(bytes: Uint8Array, where: string): [string, string][] {
  const merges: [string, string][] = [];
  const lines = new TextDecoder().decode(bytes).split("\n");
  lines.forEach((raw, i) => {
    const line = raw.endsWith("\r") ? raw.slice(0, -1) : raw;
    if (line === "" || (i === 0 && line.startsWith("#version"))) return;
    const parts = line.split(" ");
    if (parts.length !== 2 || !parts[0] || !parts[1]) throw new TokenizerError(`${where} line ${i + 1} is not a merge rule "a b": ${JSON.stringify(line.slice(0, 40))}`);
    merges.push([parts[0], parts[1]]);
  });
  return merges;
}

export function byteBpeTokenizerJson(vocab: Record<string, number>, merges: [string, string][], options: ByteBpeOptions, where: string): TokenizerJson {
  const spec = FAMILIES.roberta;
  const idOf = (t: string) => {
    const id = vocab[t];
    if (id === undefined) throw new TokenizerError(`${where} has no ${t} token, which a RoBERTa vocabulary needs`);
    return id;
  };
  const specials = [spec.specials.start!, spec.specials.pad!, spec.specials.end!, spec.specials.unk!, spec.specials.mask!];
  return {
    version: "1.0",
    truncation: null,
    padding: null,
    // `<mask>` swallows the space before it (lstrip), as in Hugging Face's RoBERTa.
    added_tokens: specials.map((t) => addedToken({ id: idOf(t), content: t, lstrip: t === spec.specials.mask, normalized: false, special: true })),
    normalizer: null,
    pre_tokenizer: { type: "ByteLevel", add_prefix_space: options.addPrefixSpace ?? false, trim_offsets: true, use_regex: true },
    model: {
      type: "BPE",
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: "",
      end_of_word_suffix: "",
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: false,
      vocab,
      merges,
    },
    post_processor: templateProcessing("roberta", idOf),
    decoder: { type: "ByteLevel", add_prefix_space: true, trim_offsets: true, use_regex: true },
    edgebone: { format: 1, family: "roberta", source: options.source, special_tokens_in_text: options.specialTokensInText ?? true },
  };
}

/** KerasHub assets back from the canonical file: `vocabulary.json` and `merges.txt`. */
export function byteBpeAssets(json: TokenizerJson): Record<string, Uint8Array> {
  const enc = new TextEncoder();
  const merges = (json.model.merges as ([string, string] | string)[]).map((m) => (typeof m === "string" ? m : m.join(" ")));
  return {
    "vocabulary.json": enc.encode(JSON.stringify(json.model.vocab)),
    "merges.txt": enc.encode(["#version: 0.2", ...merges].join("\n") + "\n"),
  };
}
