/**
 * `Tokenizer`: the common interface of the four families (KerasHub's DistilBertTokenizer, RobertaTokenizer,
 * XLMRobertaTokenizer, GemmaTokenizer), each built from one canonical tokenizer.json. Text → ids with
 * offsets, ids → text, special tokens, and KerasHub-compatible saving.
 */
import { FAMILIES, type FamilySpec, type SpecialRole, type TokenizerFamily } from "./families.js";
import { TokenizerEngine, append } from "./engine.js";
import { InputError, TokenizerError } from "./errors.js";
import { existingAssets, importTokenizer, presetFamily, type TokenizerAssets } from "./assets.js";
import { openPreset, saveTokenizer, type SavedTokenizer, type TokenizerPresetOptions } from "./preset.js";
import { compileTokenizer } from "./compiled.js";
import { checksum, COMPILED_TOKENIZER_FILE, readTokenizerBinary, UnusableBinaryError, writeTokenizerBinary } from "./tokenizer-binary.js";
import { CANONICAL_TOKENIZER_FILE, parseTokenizerJson, serializeTokenizerJson, type EdgeboneMeta, type TokenizerJson } from "./tokenizer-json.js";
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

/**
 * Where a tokenizer came from, which is what `saveToPreset` writes back: the canonical file (the bytes it was
 * loaded from, nothing re-serialized, or the parsed object) and KerasHub's assets; for a tokenizer loaded from
 * its compiled form, the compiled bytes, with the canonical file and assets read only when saving.
 */
export type TokenizerOrigin =
  | { kind: "json"; source: TokenizerJson | Uint8Array; assets: TokenizerAssets }
  | { kind: "binary"; bytes: Uint8Array; json: () => Promise<Uint8Array>; assets: () => Promise<TokenizerAssets> };

export interface BinaryOptions {
  where?: string;
  /** The tokenizer.hf.json it was compiled from (its checksum is checked), or how to read it when saving. */
  json?: Uint8Array | (() => Promise<Uint8Array>);
  /** The checksum (tokenizer-binary.ts `checksum`) of that file, when `json` is a reader. */
  sourceChecksum?: string;
  assets?: TokenizerAssets | (() => Promise<TokenizerAssets>);
}

export abstract class Tokenizer {
  static readonly family: TokenizerFamily;
  readonly engine: TokenizerEngine;
  /** The canonical file's `edgebone` section: family, source, special-token and casing semantics. */
  readonly meta: EdgeboneMeta;
  private readonly origin: TokenizerOrigin;

  constructor(engine: TokenizerEngine, origin: TokenizerOrigin, where = "tokenizer") {
    const family = (this.constructor as typeof Tokenizer).family;
    if (engine.meta.family !== family) {
      throw new TokenizerError(`${where} is a ${FAMILIES[engine.meta.family].className} tokenizer, not a ${FAMILIES[family].className}`);
    }
    this.meta = engine.meta;
    this.origin = origin;
    this.engine = engine;
    for (const role of Object.keys(this.spec.specials) as SpecialRole[]) {
      if (this.spec.single.some((p) => typeof p === "object" && p.special === role) || role === "pad") this.specialTokenId(role);
    }
  }

  /** Builds the family's subclass from a canonical (or plain Hugging Face) tokenizer.json. */
  static fromJson(json: TokenizerJson | Uint8Array | string, assets: TokenizerAssets = {}, where = "tokenizer.json"): Tokenizer {
    if (typeof json === "string") json = new TextEncoder().encode(json);
    const parsed = json instanceof Uint8Array ? parseTokenizerJson(json, where) : json;
    // Loaded from bytes (the edge), the parsed object is not kept: the library's tables are all it needs.
    const origin: TokenizerOrigin = { kind: "json", source: json, assets };
    return new TOKENIZER_CLASSES[parsed.edgebone.family](TokenizerEngine.fromJson(parsed, where), origin, where);
  }

  /**
   * Builds the family's subclass from a compiled tokenizer (`tokenizer.bin`, see tokenizer-binary.ts). Given the
   * bytes of `json`, a binary compiled from another file is refused (UnusableBinaryError).
   */
  static fromBinary(bytes: Uint8Array, options: BinaryOptions = {}): Tokenizer {
    const where = options.where ?? COMPILED_TOKENIZER_FILE;
    const json = options.json;
    const compiled = readTokenizerBinary(bytes, where, json instanceof Uint8Array ? checksum(json) : options.sourceChecksum);
    const assets = options.assets ?? {};
    const origin: TokenizerOrigin = {
      kind: "binary",
      bytes: compiled.bytes!,
      json: json instanceof Uint8Array ? async () => json : (json ?? (() => Promise.reject(new TokenizerError(`${where} was loaded without its tokenizer.hf.json`)))),
      assets: typeof assets === "function" ? assets : async () => assets,
    };
    return new TOKENIZER_CLASSES[compiled.config.edgebone.family](TokenizerEngine.fromCompiled(compiled, where), origin, where);
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

  /** Writes `tokenizer.hf.json` and `tokenizer.bin` plus KerasHub's `tokenizer.json` and assets (see preset.ts). */
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
    return this.engine.model.idOf(token);
  }

  idToToken(id: number): string | undefined {
    return this.engine.model.tokenOf(id);
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

  /** The canonical file (tokenizer.hf.json). */
  async toJson(): Promise<Uint8Array> {
    const o = this.origin;
    return o.kind === "binary" ? o.json() : o.source instanceof Uint8Array ? o.source : serializeTokenizerJson(o.source);
  }

  /** KerasHub asset files (written under assets/tokenizer/ by saveToPreset); may be empty. */
  async kerasAssets(): Promise<TokenizerAssets> {
    return this.origin.kind === "binary" ? this.origin.assets() : this.origin.assets;
  }

  /**
   * The compiled form (tokenizer.bin) of the canonical file. Throws CompileError for the rare tokenizer.json it
   * cannot represent exactly (compiled.ts).
   */
  async toBinary(): Promise<Uint8Array> {
    const o = this.origin;
    if (o.kind === "binary") return o.bytes;
    const bytes = await this.toJson();
    const parsed = o.source instanceof Uint8Array ? parseTokenizerJson(bytes, "tokenizer.hf.json", this.family) : o.source;
    return writeTokenizerBinary(compileTokenizer(parsed), checksum(bytes));
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

type TokenizerClass = new (engine: TokenizerEngine, origin: TokenizerOrigin, where?: string) => Tokenizer;

const TOKENIZER_CLASSES: Record<TokenizerFamily, TokenizerClass> = {
  distil_bert: DistilBertTokenizer,
  roberta: RobertaTokenizer,
  xlm_roberta: XLMRobertaTokenizer,
  gemma: GemmaTokenizer,
};

/** A preset's tokenizer: its compiled form when that is current (loadCompiled), else whatever files it has (assets.ts). */
export async function loadTokenizer(preset: string | PresetFiles, options: TokenizerPresetOptions = {}): Promise<Tokenizer> {
  const files = typeof preset === "string" ? await openPreset(preset, options.store, options.download ?? !options.store) : preset;
  const compiled = await loadCompiled(files, options);
  if (compiled) return compiled;
  const { json, assets, sources } = await importTokenizer(files, options);
  return Tokenizer.fromJson(json, assets, `${files.location}/${sources[0]}`);
}

/**
 * The preset's `tokenizer.bin`, when it stands for its `tokenizer.hf.json`: compiled from that very file (its
 * checksum), in this format version, and no option overrides the file's settings. Otherwise null (the JSON is
 * loaded), with a warning when a binary is there but unusable. The canonical file is read for the checksum but
 * not kept: saving reads it again (and checks it did not change meanwhile), as it reads the KerasHub assets.
 */
async function loadCompiled(files: PresetFiles, options: TokenizerPresetOptions): Promise<Tokenizer | null> {
  if (options.lowercase !== undefined || options.stripAccents !== undefined || options.specialTokensInText !== undefined) return null;
  const bin = await files.read(COMPILED_TOKENIZER_FILE);
  if (!bin) return null;
  const where = `${files.location}/${COMPILED_TOKENIZER_FILE}`;
  const jsonBytes = await files.read(CANONICAL_TOKENIZER_FILE);
  if (!jsonBytes) {
    console.warn(`${where} is ignored: the preset has no ${CANONICAL_TOKENIZER_FILE} beside it`);
    return null;
  }
  const sourceChecksum = checksum(jsonBytes);
  const json = async () => {
    const bytes = await files.read(CANONICAL_TOKENIZER_FILE);
    if (!bytes || checksum(bytes) !== sourceChecksum) throw new TokenizerError(`${files.location}/${CANONICAL_TOKENIZER_FILE} changed since its tokenizer was loaded`);
    return bytes;
  };
  let tokenizer: Tokenizer;
  try {
    tokenizer = Tokenizer.fromBinary(bin, { where, sourceChecksum, json, assets: async () => existingAssets(files, parseTokenizerJson(await json(), where)) });
  } catch (e) {
    if (!(e instanceof UnusableBinaryError)) throw e;
    console.warn(`${e.message}; loading ${CANONICAL_TOKENIZER_FILE} instead`);
    return null;
  }
  const family = options.family ?? (await presetFamily(files));
  if (family && family !== tokenizer.family) throw new TokenizerError(`${where} is a ${tokenizer.family} tokenizer, but the preset's model is ${family}`);
  return tokenizer;
}
