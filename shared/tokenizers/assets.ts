/**
 * Asset import: whatever tokenizer files a preset carries → one canonical tokenizer.json.
 *
 * Looked for, in order (the first found wins):
 * 1. `tokenizer.hf.json`: the canonical file Edgebone writes (used as is).
 * 2. `tokenizer.json`: a Hugging Face tokenizer file (has `model`) is used with Hugging Face semantics; a
 *    KerasHub tokenizer config (has `class_name`) selects the KerasHub assets under `assets/tokenizer/`.
 * 3. Hugging Face files: `vocab.txt` (+ `tokenizer_config.json`), `vocab.json` + `merges.txt`,
 *    `tokenizer.model` / `sentencepiece.bpe.model` / `spiece.model`.
 * 4. KerasHub assets without a config: `assets/tokenizer/vocabulary.txt`, `vocabulary.json` + `merges.txt`,
 *    `vocabulary.spm`.
 *
 * Defaults follow the reference implementation of the files found (README "Tokenizers"): Hugging Face for HF
 * files (uncased BERT strips accents, special-token text matches), KerasHub for KerasHub assets (no accent
 * stripping unless configured, `special_tokens_in_strings`), SentencePiece for `.model` files (only
 * user-defined symbols match). `ImportOptions` overrides them explicitly.
 */
import type { PresetFiles } from "../presets/store.js";
import { readJson } from "../presets/store.js";
import { byteBpeAssets, byteBpeTokenizerJson, parseMerges, parseVocabJson } from "./byte-bpe.js";
import { FAMILIES, familyByBackbone, familyByClassName, familyByHfModelType, type TokenizerFamily } from "./families.js";
import { NoTokenizerError, TokenizerError } from "./errors.js";
import { guessSentencePieceFamily, parseSentencePieceModel, sentencePieceTokenizerJson } from "./sentencepiece.js";
import { CANONICAL_TOKENIZER_FILE, parseTokenizerJson, type TokenizerJson } from "./tokenizer-json.js";
import { looksCased, parseVocabTxt, vocabTxtFromJson, wordPieceTokenizerJson } from "./wordpiece.js";

/** Extra files a tokenizer carries for KerasHub (`assets/tokenizer/<name>`), e.g. the SentencePiece proto. */
export type TokenizerAssets = Record<string, Uint8Array>;

export interface ImportOptions {
  /** The model family; default: from the preset's config.json, else from the files. */
  family?: TokenizerFamily;
  /** WordPiece: lowercase input. Default: the source's setting (HF `do_lower_case`, KerasHub `lowercase`). */
  lowercase?: boolean;
  /** WordPiece: strip accents. Default: HF → same as lowercase; KerasHub → its `strip_accents` (false). */
  stripAccents?: boolean;
  /** Special-token spellings in text become special ids. Default: see the module comment. */
  specialTokensInText?: boolean;
}

export interface ImportedTokenizer {
  json: TokenizerJson;
  /** KerasHub assets (file name under assets/tokenizer/ → bytes), when they can be produced. */
  assets: TokenizerAssets;
  /** The files the tokenizer was built from, relative to the preset. */
  sources: string[];
}

const SPM_FILES = ["tokenizer.model", "sentencepiece.bpe.model", "spiece.model"];
const KERAS_DIR = "assets/tokenizer/";

export async function importTokenizer(files: PresetFiles, options: ImportOptions = {}): Promise<ImportedTokenizer> {
  const at = (f: string) => `${files.location}/${f}`;
  const read = (f: string) => files.read(f);
  const family = options.family ?? (await presetFamily(files));

  const canonical = await read(CANONICAL_TOKENIZER_FILE);
  if (canonical) {
    const json = withOverrides(parseTokenizerJson(canonical, at(CANONICAL_TOKENIZER_FILE), family), options);
    return { json, assets: await existingAssets(files, json), sources: [CANONICAL_TOKENIZER_FILE] };
  }

  const rootJson = await read("tokenizer.json");
  if (rootJson) {
    const parsed = parseLoose(rootJson, at("tokenizer.json"));
    if ("model" in parsed) {
      const json = withOverrides(parseTokenizerJson(rootJson, at("tokenizer.json"), family), options);
      return { json, assets: await existingAssets(files, json), sources: ["tokenizer.json"] };
    }
    if ("class_name" in parsed || "registered_name" in parsed) return importKeras(files, parsed, family, options);
    throw new TokenizerError(`${at("tokenizer.json")} is neither a Hugging Face tokenizer (no "model") nor a KerasHub tokenizer config (no "class_name")`);
  }

  const vocabTxt = await read("vocab.txt");
  if (vocabTxt) {
    const tokens = parseVocabTxt(vocabTxt, at("vocab.txt"));
    const hfConfig = (await readJson(files, "tokenizer_config.json")) ?? undefined;
    // HF's BertTokenizer lowercases unless told otherwise; without any config, look at the vocabulary.
    const lowercase = options.lowercase ?? (hfConfig ? hfConfig.do_lower_case !== false : !looksCased(tokens));
    const stripSetting = hfConfig?.strip_accents;
    const stripAccents = options.stripAccents ?? (typeof stripSetting === "boolean" ? stripSetting : lowercase);
    checkFamily(family, "distil_bert", at("vocab.txt"));
    const json = wordPieceTokenizerJson(tokens, { lowercase, stripAccents, specialTokensInText: options.specialTokensInText ?? true, source: "hf_files" }, at("vocab.txt"));
    return { json, assets: { "vocabulary.txt": vocabTxt }, sources: hfConfig ? ["vocab.txt", "tokenizer_config.json"] : ["vocab.txt"] };
  }

  const vocabJson = await read("vocab.json");
  if (vocabJson) {
    const merges = await read("merges.txt");
    if (!merges) throw new TokenizerError(`${files.location} has vocab.json but no merges.txt`);
    checkFamily(family, "roberta", at("vocab.json"));
    const json = byteBpeTokenizerJson(parseVocabJson(vocabJson, at("vocab.json")), parseMerges(merges, at("merges.txt")), {
      source: "hf_files",
      specialTokensInText: options.specialTokensInText,
    }, at("vocab.json"));
    return { json, assets: { "vocabulary.json": vocabJson, "merges.txt": merges }, sources: ["vocab.json", "merges.txt"] };
  }

  for (const name of SPM_FILES) {
    const proto = await read(name);
    if (proto) return importSentencePiece(proto, at(name), name, family, options, "sentencepiece");
  }

  // KerasHub assets without a tokenizer config: the family's defaults.
  for (const f of Object.values(FAMILIES)) {
    if (family && f.family !== family) continue;
    const first = await read(KERAS_DIR + f.kerasAssets[0]);
    if (!first) continue;
    if (f.kerasAssets[0] === "vocabulary.spm") {
      // Gemma and XLM-R share the file name: the preset's family, else the model's id layout decides.
      return importSentencePiece(first, at(KERAS_DIR + "vocabulary.spm"), KERAS_DIR + "vocabulary.spm", family, options, "keras_hub");
    }
    return importKeras(files, { class_name: f.className, config: {} }, f.family, options);
  }

  throw new NoTokenizerError(
    `${files.location} has no tokenizer: looked for ${CANONICAL_TOKENIZER_FILE}, tokenizer.json, vocab.txt, vocab.json + merges.txt, ${SPM_FILES.join(", ")} and ${KERAS_DIR}vocabulary.{txt,json,spm}`,
  );
}

async function importKeras(files: PresetFiles, config: Record<string, unknown>, presetFam: TokenizerFamily | undefined, options: ImportOptions): Promise<ImportedTokenizer> {
  const at = (f: string) => `${files.location}/${f}`;
  const className = String(config.class_name ?? "");
  const spec = familyByClassName(className);
  if (!spec) throw new TokenizerError(`${at("tokenizer.json")}: KerasHub tokenizer class "${className}" is not supported (supported: ${Object.values(FAMILIES).map((f) => f.className).join(", ")})`);
  checkFamily(presetFam, spec.family, at("tokenizer.json"));
  const inner = (config.config ?? {}) as Record<string, unknown>;
  const assets: TokenizerAssets = {};
  for (const name of spec.kerasAssets) {
    const bytes = await files.read(KERAS_DIR + name);
    if (!bytes) throw new TokenizerError(`${files.location} is a KerasHub ${className} preset but has no ${KERAS_DIR}${name}`);
    assets[name] = bytes;
  }
  const sources = ["tokenizer.json", ...spec.kerasAssets.map((n) => KERAS_DIR + n)];
  switch (spec.family) {
    case "distil_bert": {
      for (const [key, expected] of [["suffix_indicator", "##"], ["oov_token", "[UNK]"], ["split", true]] as const) {
        if (inner[key] !== undefined && inner[key] !== expected) {
          throw new TokenizerError(`${at("tokenizer.json")}: ${key}=${JSON.stringify(inner[key])} is not supported (only ${JSON.stringify(expected)})`);
        }
      }
      const lowercase = options.lowercase ?? inner.lowercase === true;
      const json = wordPieceTokenizerJson(parseVocabTxt(assets["vocabulary.txt"], at(KERAS_DIR + "vocabulary.txt")), {
        lowercase,
        stripAccents: options.stripAccents ?? inner.strip_accents === true,
        specialTokensInText: options.specialTokensInText ?? inner.special_tokens_in_strings === true,
        source: "keras_hub",
      }, at(KERAS_DIR + "vocabulary.txt"));
      return { json, assets, sources };
    }
    case "roberta": {
      if (inner.add_prefix_space === true) throw new TokenizerError(`${at("tokenizer.json")}: add_prefix_space=true is not supported`);
      const json = byteBpeTokenizerJson(
        parseVocabJson(assets["vocabulary.json"], at(KERAS_DIR + "vocabulary.json")),
        parseMerges(assets["merges.txt"], at(KERAS_DIR + "merges.txt")),
        { source: "keras_hub", specialTokensInText: options.specialTokensInText ?? true },
        at(KERAS_DIR + "vocabulary.json"),
      );
      return { json, assets, sources };
    }
    default:
      return { ...(await importSentencePiece(assets["vocabulary.spm"], at(KERAS_DIR + "vocabulary.spm"), KERAS_DIR + "vocabulary.spm", spec.family, options, "keras_hub")), sources };
  }
}

async function importSentencePiece(
  bytes: Uint8Array,
  where: string,
  name: string,
  family: TokenizerFamily | undefined,
  options: ImportOptions,
  source: "sentencepiece" | "keras_hub",
): Promise<ImportedTokenizer> {
  const model = parseSentencePieceModel(bytes, where);
  const fam = family ?? guessSentencePieceFamily(model);
  if (!fam) throw new TokenizerError(`${where}: cannot tell whether this SentencePiece model is Gemma's or XLM-R's; pass the family explicitly`);
  const json = sentencePieceTokenizerJson(model, fam, where);
  json.edgebone.source = source;
  if (options.specialTokensInText !== undefined) json.edgebone.special_tokens_in_text = options.specialTokensInText;
  return { json, assets: { "vocabulary.spm": bytes }, sources: [name] };
}

/** The family the preset's backbone config names (KerasHub `registered_name` or HF `model_type`). */
export async function presetFamily(files: PresetFiles): Promise<TokenizerFamily | undefined> {
  const config = await readJson(files, "config.json");
  if (!config) return undefined;
  if (typeof config.registered_name === "string") {
    const m = /^(?:keras_hub|keras_nlp)>(\w+)$/.exec(config.registered_name);
    return m ? familyByBackbone(m[1])?.family : undefined;
  }
  if (typeof config.model_type === "string") return familyByHfModelType(config.model_type)?.family;
  return undefined;
}

/** KerasHub assets for a tokenizer read from a JSON file: from the preset when present, else rebuilt. */
export async function existingAssets(files: PresetFiles, json: TokenizerJson): Promise<TokenizerAssets> {
  const spec = FAMILIES[json.edgebone.family];
  const found: TokenizerAssets = {};
  for (const name of spec.kerasAssets) {
    const bytes = await files.read(KERAS_DIR + name);
    if (bytes) found[name] = bytes;
  }
  if (Object.keys(found).length === spec.kerasAssets.length) return found;
  if (json.edgebone.family === "distil_bert" && json.model.type === "WordPiece") return { "vocabulary.txt": vocabTxtFromJson(json) };
  if (json.edgebone.family === "roberta" && json.model.type === "BPE") return byteBpeAssets(json);
  // SentencePiece families need the original model file (Hugging Face repositories ship it beside tokenizer.json).
  for (const name of SPM_FILES) {
    const bytes = await files.read(name);
    if (bytes) return { "vocabulary.spm": bytes };
  }
  return {};
}

function withOverrides(json: TokenizerJson, options: ImportOptions): TokenizerJson {
  if (options.specialTokensInText !== undefined) json.edgebone.special_tokens_in_text = options.specialTokensInText;
  if (options.lowercase !== undefined || options.stripAccents !== undefined) {
    const n = json.normalizer as { type?: string; lowercase?: boolean; strip_accents?: boolean | null } | null;
    if (n?.type !== "BertNormalizer") throw new TokenizerError("lowercase / stripAccents options apply to WordPiece (BertNormalizer) tokenizers only");
    if (options.lowercase !== undefined) n.lowercase = json.edgebone.lowercase = options.lowercase;
    if (options.stripAccents !== undefined) n.strip_accents = json.edgebone.strip_accents = options.stripAccents;
  }
  return json;
}

function checkFamily(expected: TokenizerFamily | undefined, actual: TokenizerFamily, where: string): void {
  if (expected && expected !== actual) {
    throw new TokenizerError(`${where} is a ${FAMILIES[actual].className} vocabulary, but the preset's model needs a ${FAMILIES[expected].className}`);
  }
}

function parseLoose(bytes: Uint8Array, where: string): Record<string, unknown> {
  try {
    const v = JSON.parse(new TextDecoder().decode(bytes));
    if (v && typeof v === "object" && !Array.isArray(v)) return v;
  } catch (e) {
    throw new TokenizerError(`${where} is not valid JSON (${(e as Error).message})`);
  }
  throw new TokenizerError(`${where} is not a JSON object`);
}
