/**
 * `Tokenizer`: the common interface of the four families (KerasHub's DistilBertTokenizer, RobertaTokenizer,
 * XLMRobertaTokenizer, GemmaTokenizer), each built from one canonical tokenizer.json. Text → ids with
 * offsets, ids → text, special tokens, and KerasHub-compatible saving.
 */
import type { TokenizerAssets } from "./assets.js";
import { FAMILIES, type FamilySpec, type SpecialRole, type TokenizerFamily } from "./families.js";
import { TokenizerEngine, append } from "./engine.js";
import { InputError, TokenizerError } from "./errors.js";
import { importPresetTokenizer, saveTokenizer, type SavedTokenizer, type TokenizerPresetOptions } from "./preset.js";
import { parseTokenizerJson, serializeTokenizerJson, type EdgeboneMeta, type TokenizerJson } from "./tokenizer-json.js";
import type { PresetFiles, PresetStore } from "../presets/store.js";

export interface Encoding {
  ids: number[];
  tokens: string[];
  /**
   * `[start, end)` of each token in the input string, in UTF-16 code units (`text.slice(start, end)`).
   * Special tokens added by the template get `[0, 0]`; byte-fallback tokens of one character share its span.
   */
  offsets: [number, number][];
  /** True for tokens added by the template (`[CLS]`, `<s>`, `<bos>`, …). */
  special: boolean[];
}

export interface EncodeOptions {
  /** Add the family's special tokens (`[CLS] x [SEP]`, `<s> x </s>`, `<bos> x`). Default true. */
  addSpecialTokens?: boolean;
}

export interface DecodeOptions {
  /** Drop special tokens from the text. Default false. */
  skipSpecialTokens?: boolean;
}

export abstract class Tokenizer {
  static readonly family: TokenizerFamily;
  readonly engine: TokenizerEngine;
  /** The canonical file's `edgebone` section: family, source, special-token and casing semantics. */
  readonly meta: EdgeboneMeta;
  /** KerasHub asset files (written under assets/tokenizer/ by saveToPreset); may be empty. */
  readonly assets: TokenizerAssets;
  /** What `toJson` returns: the bytes it was loaded from (nothing re-serialized), or the parsed file. */
  private readonly source: TokenizerJson | Uint8Array;

  constructor(json: TokenizerJson, assets: TokenizerAssets = {}, where = "tokenizer", source?: Uint8Array) {
    const family = (this.constructor as typeof Tokenizer).family;
    if (json.edgebone.family !== family) {
      throw new TokenizerError(`${where} is a ${FAMILIES[json.edgebone.family].className} tokenizer, not a ${FAMILIES[family].className}`);
    }
    this.meta = json.edgebone;
    this.assets = assets;
    // Loaded from bytes (the edge), the parsed object is not kept: the library's tables are all it needs.
    this.source = source ?? json;
    this.engine = new TokenizerEngine(json, where);
    for (const role of Object.keys(this.spec.specials) as SpecialRole[]) {
      if (this.spec.single.some((p) => typeof p === "object" && p.special === role) || role === "pad") this.specialTokenId(role);
    }
  }

  /** Builds the family's subclass from a canonical (or plain Hugging Face) tokenizer.json. */
  static fromJson(json: TokenizerJson | Uint8Array | string, assets: TokenizerAssets = {}, where = "tokenizer.json"): Tokenizer {
    if (typeof json === "string") json = new TextEncoder().encode(json);
    const parsed = json instanceof Uint8Array ? parseTokenizerJson(json, where) : json;
    return new TOKENIZER_CLASSES[parsed.edgebone.family](parsed, assets, where, json instanceof Uint8Array ? json : undefined);
  }

  /**
   * Loads the tokenizer of a preset (built-in name, hf://, kaggle://, directory, store key): its canonical
   * `tokenizer.hf.json`, or whatever Hugging Face / KerasHub / SentencePiece files it has. On a subclass
   * the preset must be of that family.
   */
  static async fromPreset<T extends Tokenizer>(
    this: (abstract new (...args: never[]) => T) & { family?: TokenizerFamily },
    preset: string | PresetFiles,
    options: TokenizerPresetOptions = {},
  ): Promise<T> {
    const family = (this as unknown) === Tokenizer ? options.family : this.family;
    return (await loadTokenizer(preset, { ...options, family })) as T;
  }

  /** Writes `tokenizer.hf.json` plus KerasHub's `tokenizer.json` and assets (see preset.ts). */
  async saveToPreset(target: string | PresetFiles, store?: PresetStore): Promise<SavedTokenizer> {
    return saveTokenizer(this, target, store);
  }

  get family(): TokenizerFamily {
    return this.meta.family;
  }

  get spec(): FamilySpec {
    return FAMILIES[this.family];
  }

  /** KerasHub class name (DistilBertTokenizer, …). */
  get className(): string {
    return this.spec.className;
  }

  get vocabularySize(): number {
    return this.engine.vocabularySize;
  }

  /** Whether special-token spellings in input text become special ids (see README, "Tokenizers"). */
  get specialTokensInText(): boolean {
    return this.meta.special_tokens_in_text;
  }

  tokenToId(token: string): number | undefined {
    return this.engine.lib.token_to_id(token);
  }

  idToToken(id: number): string | undefined {
    return this.engine.lib.id_to_token(id);
  }

  /** Id of the family's special token for a role (start, end, pad, unk, mask). */
  specialTokenId(role: SpecialRole): number {
    const token = this.spec.specials[role];
    const id = token === undefined ? undefined : this.tokenToId(token);
    if (id === undefined) throw new TokenizerError(`${this.className} has no ${role} token${token ? ` (${token} is not in the vocabulary)` : ""}`);
    return id;
  }

  get padTokenId(): number {
    return this.specialTokenId("pad");
  }

  /** Tokenizes one text. Throws InputError for text that is not valid Unicode. */
  encode(text: string, options: EncodeOptions = {}): Encoding {
    const raw = this.engine.encode(text);
    const body: Encoding = {
      ids: raw.map((t) => t.id),
      tokens: raw.map((t) => t.token),
      offsets: raw.map((t) => [t.start, t.end]),
      special: raw.map(() => false),
    };
    return options.addSpecialTokens === false ? body : this.applyTemplate([body]);
  }

  encodeBatch(texts: readonly string[], options: EncodeOptions = {}): Encoding[] {
    if (!Array.isArray(texts)) throw new InputError("texts must be an array of strings");
    return texts.map((t, i) => {
      try {
        return this.encode(t, options);
      } catch (e) {
        if (e instanceof InputError && texts.length > 1) throw new InputError(`text ${i}: ${e.message}`);
        throw e;
      }
    });
  }

  /** Packs one segment (or two, for families with pairs) with the family's special tokens. */
  applyTemplate(segments: readonly Encoding[]): Encoding {
    const template = segments.length === 1 ? this.spec.single : this.spec.pair;
    if (!template) throw new InputError(`${this.className} does not take text pairs`);
    const out: Encoding = { ids: [], tokens: [], offsets: [], special: [] };
    for (const part of template) {
      if (part === "A" || part === "B") {
        const s = segments[part === "A" ? 0 : 1];
        append(out.ids, s.ids);
        append(out.tokens, s.tokens);
        append(out.offsets, s.offsets);
        append(out.special, s.special);
      } else {
        out.ids.push(this.specialTokenId(part.special));
        out.tokens.push(this.spec.specials[part.special]!);
        out.offsets.push([0, 0]);
        out.special.push(true);
      }
    }
    return out;
  }

  /** Number of special tokens the template adds around one text (or a pair). */
  specialTokenCount(pair = false): number {
    const template = pair ? this.spec.pair : this.spec.single;
    if (!template) throw new InputError(`${this.className} does not take text pairs`);
    return template.filter((p) => typeof p === "object").length;
  }

  /** Ids → text, with the family's decoder (byte fallback, `▁` → space, `##` joins, byte-level bytes). */
  decode(ids: readonly number[], options: DecodeOptions = {}): string {
    if (!Array.isArray(ids)) throw new InputError("ids must be an array of integers");
    return this.engine.decode(ids, options.skipSpecialTokens ?? false);
  }

  /** The canonical file, as the edge loads it. */
  toJson(): Uint8Array {
    return this.source instanceof Uint8Array ? this.source : serializeTokenizerJson(this.source);
  }

  /** KerasHub's serialized tokenizer config (the preset's `tokenizer.json`, spec §2.2). */
  kerasConfig(): Record<string, unknown> {
    const spec = this.spec;
    const base = {
      name: spec.layerName,
      trainable: true,
      dtype: { module: "keras", class_name: "DTypePolicy", config: { name: "int32" }, registered_name: null },
      config_file: "tokenizer.json",
    };
    let config: Record<string, unknown>;
    switch (this.family) {
      case "distil_bert":
        config = {
          ...base,
          vocabulary: null,
          sequence_length: null,
          lowercase: this.meta.lowercase ?? false,
          strip_accents: this.meta.strip_accents ?? false,
          split: true,
          suffix_indicator: "##",
          oov_token: spec.specials.unk,
          special_tokens: null,
          special_tokens_in_strings: this.specialTokensInText,
        };
        break;
      case "roberta":
        config = { ...base, sequence_length: null, add_prefix_space: false, unsplittable_tokens: ["<s>", "</s>", "<pad>", "<mask>"] };
        break;
      default:
        config = { ...base, proto: null, sequence_length: null, add_bos: false, add_eos: false };
    }
    return { module: spec.module, class_name: spec.className, config, registered_name: `keras_hub>${spec.className}` };
  }
}

export class DistilBertTokenizer extends Tokenizer {
  static override readonly family: TokenizerFamily = "distil_bert";
}
export class RobertaTokenizer extends Tokenizer {
  static override readonly family: TokenizerFamily = "roberta";
}
export class XLMRobertaTokenizer extends Tokenizer {
  static override readonly family: TokenizerFamily = "xlm_roberta";
}
export class GemmaTokenizer extends Tokenizer {
  static override readonly family: TokenizerFamily = "gemma";
}

type TokenizerClass = new (json: TokenizerJson, assets?: TokenizerAssets, where?: string, source?: Uint8Array) => Tokenizer;

const TOKENIZER_CLASSES: Record<TokenizerFamily, TokenizerClass> = {
  distil_bert: DistilBertTokenizer,
  roberta: RobertaTokenizer,
  xlm_roberta: XLMRobertaTokenizer,
  gemma: GemmaTokenizer,
};

/** Loads the tokenizer of a preset (see `Tokenizer.fromPreset`; `options.family` restricts the family). */
export async function loadTokenizer(preset: string | PresetFiles, options: TokenizerPresetOptions = {}): Promise<Tokenizer> {
  const { json, assets, where } = await importPresetTokenizer(preset, options);
  return Tokenizer.fromJson(json, assets, where);
}
