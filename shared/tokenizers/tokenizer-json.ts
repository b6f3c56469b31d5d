/**
 * The canonical tokenizer file: Hugging Face `tokenizer.json` (the tokenizers-library format), plus an
 * `edgebone` key with what that format cannot say. The Rust and JS tokenizers libraries ignore unknown
 * top-level keys, so the file stays loadable by Hugging Face tools.
 */
import { z } from "zod";
import { TOKENIZER_FAMILIES, FAMILIES, type TokenizerFamily } from "./families.js";
import { TokenizerError } from "./errors.js";

/** File name of the canonical tokenizer in a preset (see README "Tokenizers" for why not `tokenizer.json`). */
export const CANONICAL_TOKENIZER_FILE = "tokenizer.hf.json";

export interface AddedTokenJson {
  id: number;
  content: string;
  single_word: boolean;
  lstrip: boolean;
  rstrip: boolean;
  normalized: boolean;
  special: boolean;
}

export type Json = Record<string, unknown>;

export interface TokenizerJson {
  version: "1.0";
  truncation: null;
  padding: null;
  added_tokens: AddedTokenJson[];
  normalizer: Json | null;
  pre_tokenizer: Json | null;
  post_processor: Json | null;
  decoder: Json | null;
  model: Json & { type: string };
  edgebone: EdgeboneMeta;
}

const edgeboneMeta = z.object({
  format: z.literal(1),
  family: z.enum(TOKENIZER_FAMILIES as [TokenizerFamily, ...TokenizerFamily[]]),
  /** What the file was built from: decides the defaults documented in the README. */
  source: z.enum(["hf_tokenizer_json", "hf_files", "keras_hub", "sentencepiece"]),
  /**
   * Whether special-token spellings in input text become special ids (Hugging Face) or stay text
   * (KerasHub WordPiece default, SentencePiece, fairseq). Non-special added tokens (SentencePiece
   * user-defined symbols) always match.
   */
  special_tokens_in_text: z.boolean(),
  /** WordPiece only: the normalizer's lowercasing and accent stripping, for the record. */
  lowercase: z.boolean().optional(),
  strip_accents: z.boolean().optional(),
  /** SentencePiece-derived files: the model type and whether ids use the fairseq offset (XLM-R). */
  sentencepiece: z
    .object({ model_type: z.enum(["unigram", "bpe"]), fairseq: z.boolean(), byte_fallback: z.boolean() })
    .optional(),
});
export type EdgeboneMeta = z.infer<typeof edgeboneMeta>;

const tokenizerJsonShape = z.object({
  added_tokens: z
    .array(
      z.object({
        id: z.number().int().nonnegative(),
        content: z.string(),
        single_word: z.boolean().optional(),
        lstrip: z.boolean().optional(),
        rstrip: z.boolean().optional(),
        normalized: z.boolean().optional(),
        special: z.boolean().optional(),
      }),
    )
    .optional(),
  normalizer: z.object({ type: z.string() }).passthrough().nullable().optional(),
  pre_tokenizer: z.object({ type: z.string() }).passthrough().nullable().optional(),
  post_processor: z.object({ type: z.string() }).passthrough().nullable().optional(),
  decoder: z.object({ type: z.string() }).passthrough().nullable().optional(),
  model: z.object({ type: z.enum(["WordPiece", "BPE", "Unigram"]) }).passthrough(),
  edgebone: z.unknown().optional(),
});

/**
 * Parses a Hugging Face tokenizer.json. Without an `edgebone` key the family comes from `family` (the
 * preset's model type) and Hugging Face semantics apply (special tokens match in text).
 */
export function parseTokenizerJson(bytes: Uint8Array | string, where: string, family?: TokenizerFamily): TokenizerJson {
  let raw: unknown;
  try {
    raw = JSON.parse(typeof bytes === "string" ? bytes : new TextDecoder().decode(bytes));
  } catch (e) {
    throw new TokenizerError(`${where} is not valid JSON (${(e as Error).message})`);
  }
  const parsed = tokenizerJsonShape.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const path = issue.path.map(String).join(".");
    throw new TokenizerError(`${where} is not a Hugging Face tokenizer.json: ${path ? `${path}: ` : ""}${issue.message}`);
  }
  const json = raw as Json;
  let meta: EdgeboneMeta;
  if (json.edgebone !== undefined) {
    const m = edgeboneMeta.safeParse(json.edgebone);
    if (!m.success) throw new TokenizerError(`${where}: invalid "edgebone" section: ${m.error.issues[0].path.join(".")} ${m.error.issues[0].message}`);
    meta = m.data;
    if (family && family !== meta.family) throw new TokenizerError(`${where} is a ${meta.family} tokenizer, but the preset's model is ${family}`);
  } else {
    const f = family ?? guessFamily(json);
    if (!f) throw new TokenizerError(`${where}: cannot tell which model family this tokenizer belongs to; pass the family explicitly`);
    meta = { format: 1, family: f, source: "hf_tokenizer_json", special_tokens_in_text: true };
  }
  return {
    version: "1.0",
    truncation: null,
    padding: null,
    added_tokens: ((json.added_tokens as Partial<AddedTokenJson>[] | undefined) ?? []).map(addedToken),
    normalizer: (json.normalizer as Json | null | undefined) ?? null,
    pre_tokenizer: (json.pre_tokenizer as Json | null | undefined) ?? null,
    post_processor: (json.post_processor as Json | null | undefined) ?? null,
    decoder: (json.decoder as Json | null | undefined) ?? null,
    model: json.model as TokenizerJson["model"],
    edgebone: meta,
  };
}

/** Family of a bare HF tokenizer.json from its special tokens (used when the preset says nothing). */
function guessFamily(json: Json): TokenizerFamily | undefined {
  const contents = new Set(((json.added_tokens as { content: string }[] | undefined) ?? []).map((t) => t.content));
  const modelType = (json.model as { type: string }).type;
  if (modelType === "WordPiece" && contents.has("[CLS]")) return "distil_bert";
  if (modelType === "BPE" && contents.has("<s>") && (json.pre_tokenizer as { type?: string } | null)?.type === "ByteLevel") return "roberta";
  if (modelType === "Unigram" && contents.has("<s>") && contents.has("<mask>")) return "xlm_roberta";
  if (modelType === "BPE" && contents.has("<bos>")) return "gemma";
  return undefined;
}

export function addedToken(t: Partial<AddedTokenJson> & { id?: number; content?: string }): AddedTokenJson {
  return {
    id: t.id!,
    content: t.content!,
    single_word: t.single_word ?? false,
    lstrip: t.lstrip ?? false,
    rstrip: t.rstrip ?? false,
    normalized: t.normalized ?? !(t.special ?? false),
    special: t.special ?? false,
  };
}

/** HF `TemplateProcessing` for a family's single/pair templates. */
export function templateProcessing(family: TokenizerFamily, idOf: (token: string) => number): Json {
  const spec = FAMILIES[family];
  const items = (template: typeof spec.single, pair: boolean) => {
    let typeId = 0;
    return template.map((part) => {
      if (part === "A" || part === "B") {
        typeId = part === "B" ? 1 : 0;
        return { Sequence: { id: part, type_id: typeId } };
      }
      return { SpecialToken: { id: spec.specials[part.special]!, type_id: pair ? typeId : 0 } };
    });
  };
  const used = new Set(
    [...spec.single, ...(spec.pair ?? [])].flatMap((p) => (typeof p === "object" ? [spec.specials[p.special]!] : [])),
  );
  return {
    type: "TemplateProcessing",
    single: items(spec.single, false),
    pair: items(spec.pair ?? [...spec.single, "B"], true),
    special_tokens: Object.fromEntries([...used].map((t) => [t, { id: t, ids: [idOf(t)], tokens: [t] }])),
  };
}

export function serializeTokenizerJson(json: TokenizerJson): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(json));
}
