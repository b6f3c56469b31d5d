/**
 * Tokenizers without ../shared: every family on small assets built here (WordPiece vocab, byte-level BPE,
 * SentencePiece BPE and unigram protos encoded with protobufjs), edge cases, the charsmap normalizer,
 * asset import, and saving presets KerasHub can load.
 */
import { beforeAll, describe, expect, it } from "vitest";
import {
  AlignedText,
  DistilBertTokenizer,
  GemmaTokenizer,
  InputError,
  MemoryPresetStore,
  PrecompiledCharsMap,
  RobertaTokenizer,
  Tokenizer,
  TokenizerError,
  XLMRobertaTokenizer,
  parseSentencePieceModel,
  type PresetFiles,
} from "../shared/node/index.js";
import { byteBpeFiles, gemmaStyleModel, wordPieceFiles, xlmrStyleModel } from "./helpers/tiny-tokenizers.js";

const enc = new TextEncoder();
const store = new MemoryPresetStore();
let keyCounter = 0;

async function preset(files: Record<string, Uint8Array | string | object>): Promise<PresetFiles> {
  const f = store.open(`p${keyCounter++}`);
  for (const [name, v] of Object.entries(files)) {
    await f.write(name, v instanceof Uint8Array ? v : enc.encode(typeof v === "string" ? v : JSON.stringify(v)));
  }
  return f;
}

const ids = (t: Tokenizer, text: string) => t.encode(text, { addSpecialTokens: false }).ids;
const tokens = (t: Tokenizer, text: string) => t.encode(text, { addSpecialTokens: false }).tokens;

let wp: Tokenizer, bpe: Tokenizer, gemma: Tokenizer, xlmr: Tokenizer;
beforeAll(async () => {
  wp = await Tokenizer.fromPreset(await preset(wordPieceFiles()));
  bpe = await Tokenizer.fromPreset(await preset(byteBpeFiles()));
  gemma = await Tokenizer.fromPreset(await preset({ "tokenizer.model": gemmaStyleModel() }));
  xlmr = await Tokenizer.fromPreset(await preset({ "sentencepiece.bpe.model": xlmrStyleModel() }));
});

describe("one Tokenizer per family", () => {
  it("picks the family's class from the files", () => {
    expect(wp).toBeInstanceOf(DistilBertTokenizer);
    expect(bpe).toBeInstanceOf(RobertaTokenizer);
    expect(gemma).toBeInstanceOf(GemmaTokenizer);
    expect(xlmr).toBeInstanceOf(XLMRobertaTokenizer);
    expect([wp, bpe, gemma, xlmr].map((t) => t.className)).toEqual(["DistilBertTokenizer", "RobertaTokenizer", "GemmaTokenizer", "XLMRobertaTokenizer"]);
  });

  it("WordPiece: lowercase, accents, ##pieces, CJK, control characters, [UNK] for long words", () => {
    expect(tokens(wp, "The quick brown fox.")).toEqual(["the", "quick", "brown", "fox", "."]);
    expect(wp.encode("unaffable").ids).toEqual([2, 16, 17, 18, 3]);
    expect(tokens(wp, "Café zero\u200bwidth")).toEqual(["cafe", "zero", "##width"]); // HF: accents stripped, ZWSP deleted
    expect(tokens(wp, "你好!")).toEqual(["你", "好", "!"]);
    expect(tokens(wp, "a".repeat(100))).toHaveLength(100);
    expect(tokens(wp, "a".repeat(101))).toEqual(["[UNK]"]);
    expect(tokens(wp, "😀")).toEqual(["[UNK]"]);
  });

  it("byte-level BPE: every byte has a token, merges apply, <mask> takes the space before it", () => {
    expect(tokens(bpe, " the quick fox")).toEqual(["Ġthe", "Ġquick", "Ġfox"]);
    expect(tokens(bpe, "héllo")).toEqual(["h", "Ã", "©", "l", "l", "o"]);
    expect(ids(bpe, "is <mask>.")).toEqual(ids(bpe, "is<mask>."));
    expect(bpe.decode(bpe.encode("héllo 😀 \n").ids, { skipSpecialTokens: true })).toBe("héllo 😀 \n");
  });

  it("SentencePiece BPE (Gemma layout): byte fallback, user-defined symbols, control symbols stay text", () => {
    expect(tokens(gemma, "the quick fox.")).toEqual(["t", "he", "▁quick", "▁fox", "."]);
    expect(tokens(gemma, "  the")).toEqual(["▁", "▁the"]); // no dummy prefix, spaces kept
    expect(tokens(gemma, "é")).toEqual(["<0xC3>", "<0xA9>"]);
    expect(tokens(gemma, "a<mask>\nb")).toEqual(["a", "<mask>", "\n", "b"]);
    expect(ids(gemma, "<bos>")).not.toContain(2);
    expect(gemma.encode("the").ids[0]).toBe(2); // <bos> x
    expect(gemma.decode(gemma.encode("é😀 the\nquick").ids, { skipSpecialTokens: true })).toBe("é😀 the\nquick");
  });

  it("SentencePiece unigram (XLM-R layout): fairseq ids, dummy prefix, whitespace rules, <unk> runs", () => {
    expect(xlmr.vocabularySize).toBe(3 + 29 + 2); // spm pieces + <pad> + <mask>
    expect(xlmr.specialTokenId("mask")).toBe(xlmr.vocabularySize - 1);
    expect([0, 1, 2, 3].map((i) => xlmr.idToToken(i))).toEqual(["<s>", "<pad>", "</s>", "<unk>"]);
    expect(tokens(xlmr, "  the   fox  ")).toEqual(["▁the", "▁fox"]);
    expect(ids(xlmr, "zzz")).toEqual([4, 3]); // "▁" then one <unk> for the run (spm id 0 → 3)
    expect(ids(xlmr, "")).toEqual([]);
    expect(ids(xlmr, " \t ")).toEqual(ids(xlmr, ""));
    expect(xlmr.encode("the fox").ids).toEqual([0, 5, 8, 2]);
    expect(tokens(xlmr, "<s> ab")).toEqual(["▁", "<", "s", ">", "▁ab"]); // control symbols are not matched
  });

  it("special-token spellings: HF semantics for HF files, SentencePiece's for .model files, explicit override", async () => {
    expect(ids(wp, "[CLS] the [SEP]")).toEqual([2, 5, 3]);
    expect(ids(bpe, "<s>x</s>")).toEqual([0, ids(bpe, "x")[0], 2]);
    const literal = await Tokenizer.fromPreset(await preset(wordPieceFiles()), { specialTokensInText: false });
    expect(tokens(literal, "[CLS] the")).toEqual(["[", "cls", "]", "the"]);
    const matching = await Tokenizer.fromPreset(await preset({ "sentencepiece.bpe.model": xlmrStyleModel() }), { specialTokensInText: true });
    expect(ids(matching, "<s> ab")).toEqual([0, 32]);
  });
});

describe("edge cases, every family", () => {
  const long = Array.from({ length: 1500 }, (_, i) => ["the", "quick", "brown", "fox", "héllo", "你好", "😀", "ab"][i % 8]).join(" ");
  const cases: [string, string][] = [
    ["empty", ""],
    ["whitespace only", " \t\n\u3000 "],
    ["control and zero-width", "a\u0000b\u0007c\u200bd\u200de\ufeff\u00adf\u202e"],
    ["CJK", "東京は日本の首都です。你好，世界"],
    ["emoji", "👨‍👩‍👧‍👦 👍🏽 🇺🇸 1️⃣"],
    ["special-token text", "[CLS] <s> </s> <mask> <bos> <eos> <pad> <unk> <|endoftext|>"],
    ["very long word", "x".repeat(5000)],
    ["10k characters", long.slice(0, 10_000)],
    // Past ~10⁵ tokens in one model call tokenizers.js's Unigram overflows the stack; the engine cuts first.
    ["300k characters", long.repeat(30).slice(0, 300_000)],
    ["40k characters without a space", "ab".repeat(20_000)],
  ];
  it.each(cases)("%s: encodes without crashing, offsets inside the text", (_, text) => {
    for (const t of [wp, bpe, gemma, xlmr]) {
      const e = t.encode(text);
      expect(e.ids.length).toBe(e.offsets.length);
      expect(e.ids.every((id) => id >= 0 && id < t.vocabularySize)).toBe(true);
      expect(e.offsets.every(([s, end]) => s >= 0 && s <= end && end <= text.length)).toBe(true);
      expect(typeof t.decode(e.ids)).toBe("string");
    }
  });

  it("encodes 10k characters quickly", () => {
    const text = long.slice(0, 10_000);
    for (const t of [wp, bpe, gemma, xlmr]) {
      const t0 = performance.now();
      t.encode(text);
      expect(performance.now() - t0).toBeLessThan(2000);
    }
  });

  it("rejects unpaired surrogates with their position, and non-strings", () => {
    for (const t of [wp, bpe, gemma, xlmr]) {
      expect(() => t.encode("ab\ud83d")).toThrow(InputError);
      expect(() => t.encode("ab\ud83dc")).toThrow(/unpaired UTF-16 surrogate U\+D83D at index 2/);
      expect(() => t.encode("\ude00")).toThrow(/U\+DE00 at index 0/);
      expect(() => t.encode(5 as unknown as string)).toThrow(/text must be a string, got number/);
    }
    expect(wp.encode("😀").ids).toBeDefined(); // a proper pair is fine
  });

  it("decode checks ids and handles the empty list", () => {
    expect(gemma.decode([])).toBe("");
    expect(() => gemma.decode([gemma.vocabularySize])).toThrow(/token id \d+ at position 0 is out of range for vocabulary size/);
    expect(() => gemma.decode([1.5])).toThrow(/out of range/);
  });
});

describe("offsets", () => {
  it("point into the caller's string, special tokens at [0, 0]", () => {
    const text = "Héllo, wörld!";
    const e = wp.encode(text);
    expect(e.tokens).toEqual(["[CLS]", "hello", ",", "world", "!", "[SEP]"]);
    expect(e.offsets).toEqual([[0, 0], [0, 5], [5, 6], [7, 12], [12, 13], [0, 0]]);
    expect(e.special).toEqual([true, false, false, false, false, true]);
  });

  it("exclude absorbed whitespace and give each byte token its character", () => {
    const text = "the 😀 fox";
    const e = bpe.encode(text, { addSpecialTokens: false });
    expect(e.tokens[2]).toBe("Ġ"); // a whitespace-only token keeps its span
    expect(e.offsets.map(([s, t]) => text.slice(s, t))).toEqual(["t", "he", " ", "😀", "😀", "😀", "😀", "fox"]);
    const g = gemma.encode("é the", { addSpecialTokens: false });
    expect(g.offsets).toEqual([[0, 1], [0, 1], [2, 5]]);
  });

  it("survive normalization that deletes, expands and collapses characters", () => {
    const text = "  The   fox  ";
    const e = xlmr.encode(text, { addSpecialTokens: false });
    expect(e.offsets.map(([s, t]) => text.slice(s, t))).toEqual(["", "T", "h", "e", "fox"]);
    const z = "zero\u200b\u200bwidth";
    expect(wp.encode(z, { addSpecialTokens: false }).offsets).toEqual([[0, 4], [6, 11]]);
  });
});

describe("SentencePiece precompiled charsmap", () => {
  /** A hand-built Darts double array: "A" → "a", "AB" → "x" (longest match wins). */
  function charsMap(): PrecompiledCharsMap {
    const units = new Uint32Array(66);
    units[0] = 0x40 << 10; // root: base 0x40
    units[1] = 0x41 | (1 << 8) | (3 << 10); // "A" at 0x40 ^ 0x41, has a leaf, base 1 ^ 3 = 2
    units[2] = (0x80000000 | 0) >>> 0; // leaf of "A": string offset 0
    units[64] = 0x42 | (1 << 8) | (1 << 10); // "B" at 2 ^ 0x42, base 64 ^ 1 = 65
    units[65] = (0x80000000 | 2) >>> 0; // leaf of "AB": string offset 2
    const strings = enc.encode("a\0x\0");
    const blob = new Uint8Array(4 + units.byteLength + strings.length);
    new DataView(blob.buffer).setUint32(0, units.byteLength, true);
    blob.set(new Uint8Array(units.buffer), 4);
    blob.set(strings, 4 + units.byteLength);
    return new PrecompiledCharsMap(blob);
  }

  it("applies the longest rule at each position and keeps provenance", () => {
    const out = charsMap().normalize(AlignedText.identity("AABÀB😀A"));
    expect(out.text).toBe("axÀB😀a");
    expect(out.span(1, 2)).toEqual([1, 3]); // "x" came from "AB"
    expect(out.span(4, 6)).toEqual([5, 7]); // the emoji passes through whole
  });

  it("rejects a corrupt blob", () => {
    expect(() => new PrecompiledCharsMap(new Uint8Array([1, 2]))).toThrow(TokenizerError);
    expect(() => new PrecompiledCharsMap(Uint8Array.from([255, 0, 0, 0, 1]))).toThrow(/precompiled_charsmap is corrupt/);
  });
});

describe("asset import", () => {
  it("reads KerasHub presets: tokenizer.json config + assets/tokenizer/, with KerasHub defaults", async () => {
    const files = await preset({
      "config.json": { registered_name: "keras_hub>DistilBertBackbone", config: {} },
      "tokenizer.json": { class_name: "DistilBertTokenizer", config: { lowercase: true } },
      "assets/tokenizer/vocabulary.txt": wordPieceFiles()["vocab.txt"],
    });
    const t = await Tokenizer.fromPreset(files);
    expect(t.meta).toMatchObject({ source: "keras_hub", lowercase: true, strip_accents: false, special_tokens_in_text: false });
    expect(tokens(t, "Café [CLS]")).toEqual(["café", "[", "cls", "]"]); // KerasHub: no accent stripping, specials are text
  });

  it("reads a plain Hugging Face tokenizer.json with HF semantics and the family from config.json", async () => {
    const json = JSON.parse(new TextDecoder().decode(await xlmr.toJson()));
    delete json.edgebone;
    const t = await Tokenizer.fromPreset(await preset({ "config.json": { model_type: "xlm-roberta" }, "tokenizer.json": json }));
    expect(t).toBeInstanceOf(XLMRobertaTokenizer);
    expect(t.meta.source).toBe("hf_tokenizer_json");
    expect(ids(t, "<s> ab")).toEqual([0, 32]);
    expect(ids(t, "the fox")).toEqual(ids(xlmr, "the fox"));
  });

  it("loads an HF SentencePiece-BPE tokenizer.json (byte fallback) with SentencePiece's piece ranks", async () => {
    const json = JSON.parse(new TextDecoder().decode(await gemma.toJson()));
    delete json.edgebone;
    const t = await Tokenizer.fromPreset(await preset({ "config.json": { model_type: "gemma" }, "tokenizer.json": json }));
    expect(t).toBeInstanceOf(GemmaTokenizer);
    for (const text of ["the quick fox.", "  the", "é😀 x", "a<mask>\nb"]) expect(ids(t, text), text).toEqual(ids(gemma, text));
    expect(ids(t, "<bos>")).toEqual([2]); // HF semantics: the special token matches
  });

  it("gives the ids of tokenizers.js's own encode for HF-semantics tokenizers", () => {
    const texts = ["The quick brown fox.", "unaffable Café!", "[CLS] x [SEP]", " the quick", "héllo 😀 <mask>.", "你好 \t\n "];
    for (const t of [wp, bpe]) for (const text of texts) expect(ids(t, text), text).toEqual(t.engine.lib.encode(text, { add_special_tokens: false }).ids);
  });

  it("takes do_lower_case / strip_accents from tokenizer_config.json, else looks at the vocabulary", async () => {
    const cased = await Tokenizer.fromPreset(await preset({ ...wordPieceFiles(), "tokenizer_config.json": { do_lower_case: false } }));
    expect(cased.meta).toMatchObject({ lowercase: false, strip_accents: false });
    const keepAccents = await Tokenizer.fromPreset(await preset({ ...wordPieceFiles(), "tokenizer_config.json": { do_lower_case: true, strip_accents: false } }));
    expect(tokens(keepAccents, "Café")).toEqual(["café"]);
    expect(wp.meta).toMatchObject({ lowercase: true, strip_accents: true }); // no config, uncased vocabulary
  });

  it("fails with one clear line for missing or broken assets", async () => {
    await expect(Tokenizer.fromPreset(await preset({ "config.json": { model_type: "bert" } }))).rejects.toThrow(/has no tokenizer: looked for tokenizer\.hf\.json, tokenizer\.json, vocab\.txt/);
    await expect(Tokenizer.fromPreset(await preset({ "vocab.json": "{}" }))).rejects.toThrow(/has vocab\.json but no merges\.txt/);
    await expect(Tokenizer.fromPreset(await preset({ "tokenizer.model": enc.encode("not a proto") }))).rejects.toThrow(/tokenizer\.model is not a SentencePiece model/);
    await expect(Tokenizer.fromPreset(await preset({ "tokenizer.json": "{oops" }))).rejects.toThrow(/tokenizer\.json is not valid JSON/);
    await expect(Tokenizer.fromPreset(await preset({ "tokenizer.json": { class_name: "BertTokenizer" } }))).rejects.toThrow(/KerasHub tokenizer class "BertTokenizer" is not supported/);
    await expect(Tokenizer.fromPreset(await preset({ "vocab.txt": "a\nb\n" }))).rejects.toThrow(/has no \[PAD\] token/);
    await expect(Tokenizer.fromPreset(await preset({ "config.json": { model_type: "gemma" }, ...wordPieceFiles() }))).rejects.toThrow(/is a DistilBertTokenizer vocabulary, but the preset's model needs a GemmaTokenizer/);
    await expect(GemmaTokenizer.fromPreset(await preset(wordPieceFiles()))).rejects.toThrow(/DistilBertTokenizer vocabulary, but the preset's model needs a GemmaTokenizer/);
  });

  it("decodes the SentencePiece proto with protobufjs and refuses unsupported model types", async () => {
    const model = parseSentencePieceModel(gemmaStyleModel(), "m");
    expect(model.pieces[4]).toMatchObject({ piece: "<mask>", type: 4 });
    expect(model.normalizerSpec?.addDummyPrefix).toBe(false);
    const { encodeSentencePieceModel } = await import("../shared/node/index.js");
    const word = encodeSentencePieceModel({ pieces: [{ piece: "<unk>", type: 2 }, { piece: "a" }], trainerSpec: { modelType: 3 } });
    await expect(Tokenizer.fromPreset(await preset({ "tokenizer.model": word }), { family: "gemma" })).rejects.toThrow(/model type WORD is not supported/);
  });
});

describe("presets: canonical tokenizer.hf.json plus KerasHub's tokenizer.json and assets", () => {
  it.each([
    ["WordPiece", () => wp, "vocabulary.txt"],
    ["byte-level BPE", () => bpe, "vocabulary.json"],
    ["SentencePiece BPE", () => gemma, "vocabulary.spm"],
    ["SentencePiece unigram", () => xlmr, "vocabulary.spm"],
  ] as const)("%s round-trips through both forms", async (_, get, asset) => {
    const t = get();
    const target = store.open(`saved${keyCounter++}`);
    const saved = await t.saveToPreset(target);
    expect(saved.kerasIncomplete).toBeUndefined();
    expect(saved.written).toContain("tokenizer.hf.json");
    expect(saved.written).toContain(`assets/tokenizer/${asset}`);
    const keras = JSON.parse(new TextDecoder().decode((await target.read("tokenizer.json"))!));
    expect(keras).toMatchObject({ class_name: t.className, registered_name: `keras_hub>${t.className}`, config: { config_file: "tokenizer.json" } });
    const sample = "The quick brown fox, héllo 😀 <mask> [CLS] 你好";
    // Canonical file.
    const fromCanonical = await Tokenizer.fromPreset(target);
    expect(fromCanonical.encode(sample).ids).toEqual(t.encode(sample).ids);
    // KerasHub files only (what KerasHub itself reads).
    const kerasOnly = store.open(`keras${keyCounter++}`);
    for (const f of saved.written.filter((w) => w !== "tokenizer.hf.json")) await kerasOnly.write(f, (await target.read(f))!);
    const fromKeras = await Tokenizer.fromPreset(kerasOnly, { specialTokensInText: t.specialTokensInText, stripAccents: t.meta.strip_accents });
    expect(fromKeras.encode(sample).ids).toEqual(t.encode(sample).ids);
  });

  it("writes KerasHub's config keys for each family (spec §2.2)", () => {
    expect(wp.kerasConfig().config).toMatchObject({ vocabulary: null, lowercase: true, strip_accents: true, suffix_indicator: "##", oov_token: "[UNK]", special_tokens_in_strings: true });
    expect(bpe.kerasConfig().config).toMatchObject({ add_prefix_space: false, unsplittable_tokens: ["<s>", "</s>", "<pad>", "<mask>"] });
    expect(gemma.kerasConfig()).toMatchObject({ module: "keras_hub.src.models.gemma.gemma_tokenizer", config: { proto: null, add_bos: false, add_eos: false } });
  });

  it("keeps the SentencePiece model bytes as the KerasHub asset", async () => {
    const target = store.open(`spm${keyCounter++}`);
    await xlmr.saveToPreset(target);
    expect(await target.read("assets/tokenizer/vocabulary.spm")).toEqual(xlmrStyleModel());
  });
});
