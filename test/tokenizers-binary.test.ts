/**
 * The compiled tokenizer (tokenizer.bin) against the same tokenizer loaded from its tokenizer.hf.json (tokenizers.js's
 * models, the path every tokenizer took before): identical ids, tokens, offsets and decoded text on every corpus the
 * tests have (the tiny tokenizers, hand-made HF files reaching the library's rarer branches, the golden fixtures, the
 * benchmark's synthetic 256k SentencePiece BPE and 250k unigram, each with the seeded multilingual corpus), and the
 * same vocabulary id by id. Then the file: saving writes it, loading prefers it, and a stale, damaged, foreign or
 * orphaned binary is ignored with a warning, never used.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import * as edgebone from "../shared/node/index.js";
import { LibraryModel } from "../shared/tokenizers/vocab-model.js";
import { fuzzCorpus, syntheticGemma, syntheticXlmr } from "./bench/tokenizer-bench.js";
import { byteBpeFiles, gemmaStyleModel, wordPieceFiles, writePresetDir, xlmrStyleModel } from "./helpers/tiny-tokenizers.js";
import { FIXTURE_DIRS, TOKENIZER_FIXTURES, loadGoldenIds, tokenizerFixturesPresent } from "./helpers/tokenizer-fixtures.js";

const { COMPILED_TOKENIZER_FILE, GemmaTokenizer, Tokenizer, UnusableBinaryError, directoryFiles, parseSentencePieceModel, sentencePieceTokenizerJson } = edgebone;
type Tokenizer = edgebone.Tokenizer;
type PresetFiles = edgebone.PresetFiles;

const enc = new TextEncoder();
const root = mkdtempSync(join(tmpdir(), "edgebone-tok-bin-"));
let dirs = 0;
/** A preset directory holding `files` (objects as JSON). */
function preset(files: Record<string, Uint8Array | string | object> = {}): PresetFiles {
  const asBytes = Object.entries(files).map(([name, v]) => [name, v instanceof Uint8Array || typeof v === "string" ? v : JSON.stringify(v)]);
  return directoryFiles(writePresetDir(root, `p${dirs++}`, Object.fromEntries(asBytes)));
}

const corpus = fuzzCorpus();
const EDGE_TEXTS = [
  "",
  " \t\n\u3000 ",
  "a\u0000b\u0007c\u200bd\u200de\ufeff\u00adf\u202e",
  "x".repeat(5000),
  "a".repeat(101),
  "ab".repeat(20_000),
  "The quick brown fox, héllo 😀 <mask> [CLS] 你好",
];

/** The compiled twin of a tokenizer loaded from JSON. */
async function compiledTwin(t: Tokenizer): Promise<Tokenizer> {
  expect(t.engine.model).toBeInstanceOf(LibraryModel);
  const twin = Tokenizer.fromBinary(await t.toBinary(), { json: await t.toJson() });
  expect(twin.engine.model).not.toBeInstanceOf(LibraryModel);
  return twin;
}

/** Texts on which the two differ: ids, tokens, offsets, special flags (template included), decoded text. */
function differences(a: Tokenizer, b: Tokenizer, texts: readonly string[]): string[] {
  const out: string[] = [];
  for (const text of texts) {
    const x = a.encode(text);
    const y = b.encode(text);
    if (JSON.stringify(x) !== JSON.stringify(y)) out.push(`${JSON.stringify(text.slice(0, 60))}: ${JSON.stringify(x.ids.slice(0, 12))} ≠ ${JSON.stringify(y.ids.slice(0, 12))}`);
    for (const skipSpecialTokens of [true, false]) {
      if (a.decode(x.ids, { skipSpecialTokens }) !== b.decode(x.ids, { skipSpecialTokens })) out.push(`${JSON.stringify(text.slice(0, 60))}: decode differs`);
    }
  }
  return out;
}

/** Every id: its token, the id of that token, and decoding (in runs of 500 ids), in both. */
function vocabularyDifferences(a: Tokenizer, b: Tokenizer): string[] {
  const out: string[] = [];
  if (a.vocabularySize !== b.vocabularySize) out.push(`vocabulary size ${a.vocabularySize} ≠ ${b.vocabularySize}`);
  for (let id = 0; id < a.vocabularySize && out.length < 10; id++) {
    const token = a.idToToken(id);
    if (token !== b.idToToken(id)) out.push(`id ${id}: ${JSON.stringify(token)} ≠ ${JSON.stringify(b.idToToken(id))}`);
    else if (token !== undefined && a.tokenToId(token) !== b.tokenToId(token)) out.push(`${JSON.stringify(token)}: id ${a.tokenToId(token)} ≠ ${b.tokenToId(token)}`);
  }
  for (let from = 0; from < a.vocabularySize && out.length < 10; from += 500) {
    const ids = Array.from({ length: Math.min(500, a.vocabularySize - from) }, (_, k) => from + k);
    for (const skipSpecialTokens of [true, false]) {
      if (a.decode(ids, { skipSpecialTokens }) !== b.decode(ids, { skipSpecialTokens })) out.push(`decode of ids ${from}..${from + ids.length} differs`);
    }
  }
  for (const t of ["", "▁the", "Ġthe", "##s", "<0x41>", "\ud800", "not a token at all"]) if (a.tokenToId(t) !== b.tokenToId(t)) out.push(`tokenToId(${JSON.stringify(t)})`);
  return out;
}

async function expectTwins(t: Tokenizer, texts: readonly string[]): Promise<void> {
  const twin = await compiledTwin(t);
  expect(vocabularyDifferences(t, twin)).toEqual([]);
  expect(differences(t, twin, texts)).toEqual([]);
}

describe("compiled = JSON-loaded, tiny tokenizers (every family)", () => {
  const hfJson = async (t: Tokenizer) => {
    const json = JSON.parse(new TextDecoder().decode(await t.toJson()));
    delete json.edgebone;
    return json;
  };
  it.each([
    ["WordPiece", () => preset(wordPieceFiles())],
    ["WordPiece, KerasHub semantics", () => preset({ "config.json": { registered_name: "keras_hub>DistilBertBackbone" }, "tokenizer.json": { class_name: "DistilBertTokenizer", config: { lowercase: true } }, "assets/tokenizer/vocabulary.txt": wordPieceFiles()["vocab.txt"] })],
    ["byte-level BPE", () => preset(byteBpeFiles())],
    ["SentencePiece BPE", () => preset({ "tokenizer.model": gemmaStyleModel() })],
    ["SentencePiece unigram", () => preset({ "sentencepiece.bpe.model": xlmrStyleModel() })],
  ] as const)("%s", async (_, files) => {
    await expectTwins(await Tokenizer.fromPreset(await files()), [...corpus, ...EDGE_TEXTS]);
  });

  it("HF tokenizer.json of SentencePiece models (HF semantics: special tokens match in text)", async () => {
    const gemma = await hfJson(await Tokenizer.fromPreset(preset({ "tokenizer.model": gemmaStyleModel() })));
    const xlmr = await hfJson(await Tokenizer.fromPreset(preset({ "sentencepiece.bpe.model": xlmrStyleModel() })));
    await expectTwins(await Tokenizer.fromPreset(preset({ "config.json": { model_type: "gemma" }, "tokenizer.json": gemma })), [...corpus, ...EDGE_TEXTS]);
    await expectTwins(await Tokenizer.fromPreset(preset({ "config.json": { model_type: "xlm-roberta" }, "tokenizer.json": xlmr })), [...corpus, ...EDGE_TEXTS]);
  });
});

describe("compiled = JSON-loaded, the library's rarer branches", () => {
  const meta = (family: string) => ({ format: 1, family, source: "hf_tokenizer_json", special_tokens_in_text: true });
  const added = (content: string, id: number, special = true) => ({ id, content, special, normalized: !special });

  it("BPE rules: parts missing from the vocabulary, repeated rules, end-of-word and continuing-subword suffixes, ignore_merges", async () => {
    const vocab: Record<string, number> = { "<s>": 0, "<pad>": 1, "</s>": 2, "<unk>": 3 };
    for (const t of ["a", "b", "c", "d", "e", "a</w>", "b</w>", "c</w>", "d</w>", "e</w>", "abc", "abc</w>", "de</w>", "cd", "bcde"]) vocab[t] = Object.keys(vocab).length;
    // "ab" is no token, but a rule makes it and another rule uses it; "c d" is repeated (the later rank wins).
    const merges = ["a b", "c d", "ab c", "d e</w>", "ab c</w>", "c d", "b cd", "bcd e", "x y z"];
    for (const model of [{ end_of_word_suffix: "</w>" }, { continuing_subword_suffix: "@@" }, { ignore_merges: true }, { byte_fallback: true, unk_token: "<unk>", fuse_unk: true }]) {
      const json = {
        added_tokens: [added("<s>", 0), added("<pad>", 1), added("</s>", 2)],
        normalizer: null,
        pre_tokenizer: { type: "Whitespace" },
        post_processor: null,
        decoder: { type: "BPEDecoder", suffix: "</w>" },
        model: { type: "BPE", dropout: null, unk_token: null, vocab, merges, ...model },
        edgebone: meta("roberta"),
      };
      const t = Tokenizer.fromJson(JSON.stringify(json));
      const texts = ["abc de abcde bcde x", "abcd", "a b c d e", "ab", "zz abc", "<s>abc</s>", ...corpus.slice(0, 50)];
      await expectTwins(t, texts);
    }
  });

  it("unigram: duplicated pieces, scores that are not float32, a user-defined symbol, no single-character piece", async () => {
    const pieces: [string, number][] = [["<unk>", 0], ["<s>", 0], ["</s>", 0], ["▁", -1.1], ["a", -2.000000001], ["b", -3.3], ["ab", -4.1], ["▁ab", -3.9], ["b", -2.5], ["<sep>", 0], ["abab", -7.77], ["\ufeffab", -5]];
    const json = {
      added_tokens: [added("<unk>", 0), added("<s>", 1), added("</s>", 2), added("<sep>", 9, false)],
      normalizer: null,
      pre_tokenizer: { type: "Metaspace", replacement: "▁", prepend_scheme: "always", split: false },
      post_processor: null,
      decoder: { type: "Metaspace", replacement: "▁", prepend_scheme: "always", split: false },
      model: { type: "Unigram", unk_id: 0, vocab: pieces, byte_fallback: false },
      edgebone: { ...meta("xlm_roberta"), special_tokens_in_text: false },
    };
    // XLM-R's template needs <pad> and <mask>: add them as the last ids.
    json.added_tokens.push(added("<pad>", 12), added("<mask>", 13));
    const t = Tokenizer.fromJson(JSON.stringify(json));
    await expectTwins(t, ["ab abab b a", "abba<sep>ab", "ccc ab c", "<s>ab", "\ufeffab \ufeffabab", ...corpus.slice(0, 50)]);
  });
});

describe.skipIf(!tokenizerFixturesPresent)("compiled = JSON-loaded, golden fixtures (../shared/fixtures/tokenizers)", () => {
  const golden = tokenizerFixturesPresent ? loadGoldenIds() : ({} as ReturnType<typeof loadGoldenIds>);
  it.each(Object.entries(FIXTURE_DIRS))("%s: golden texts and the corpus, and the golden ids", async (family, dir) => {
    const t = await Tokenizer.fromPreset(`${TOKENIZER_FIXTURES}${dir}`);
    const entries = golden[family as keyof typeof golden];
    await expectTwins(t, [...entries.map((e) => e.text), ...corpus]);
    const twin = await compiledTwin(t);
    for (const e of entries) expect(twin.encode(e.text).ids, e.text).toEqual(e.hf_fast_ids_with_special ?? e.ids_with_special);
  });
});

describe("compiled = JSON-loaded, the benchmark's synthetic 256k SentencePiece BPE and 250k unigram", () => {
  const big: Record<string, Tokenizer> = {};
  beforeAll(() => {
    for (const [family, model] of [["gemma", syntheticGemma()], ["xlm_roberta", syntheticXlmr()]] as const) {
      big[family] = Tokenizer.fromJson(sentencePieceTokenizerJson(parseSentencePieceModel(model, family), family, family));
    }
  }, 240_000);
  it.each(["gemma", "xlm_roberta"])("%s", async (family) => {
    await expectTwins(big[family], [...corpus, ...EDGE_TEXTS]);
  }, 240_000);
});

describe("tokenizer.bin in presets", () => {
  const warnings: string[] = [];
  beforeAll(() => {
    vi.spyOn(console, "warn").mockImplementation((msg: string) => void warnings.push(msg));
  });
  afterEach(() => void warnings.splice(0));

  /** A preset saved from the tiny unigram tokenizer: tokenizer.hf.json, tokenizer.bin and KerasHub's files. */
  async function savedPreset(): Promise<{ files: PresetFiles; original: Tokenizer }> {
    const original = await Tokenizer.fromPreset(preset({ "sentencepiece.bpe.model": xlmrStyleModel() }));
    const files = preset();
    const saved = await original.saveToPreset(files);
    expect(saved.written).toEqual(["assets/tokenizer/vocabulary.spm", "tokenizer.hf.json", COMPILED_TOKENIZER_FILE, "tokenizer.json"]);
    expect(saved.notCompiled).toBeUndefined();
    return { files, original };
  }
  const compiled = (t: Tokenizer) => !(t.engine.model instanceof LibraryModel);

  it("saveToPreset writes it, fromPreset prefers it, and saving a compiled tokenizer writes the same files", async () => {
    const { files, original } = await savedPreset();
    const loaded = await Tokenizer.fromPreset(files);
    expect(compiled(loaded)).toBe(true);
    expect(warnings).toEqual([]);
    expect(differences(original, loaded, corpus)).toEqual([]);
    const again = preset();
    const saved = await loaded.saveToPreset(again);
    for (const f of saved.written) expect(await again.read(f), f).toEqual(await files.read(f));
    await loaded.saveToPreset(files); // into the preset it came from
    expect(compiled(await Tokenizer.fromPreset(files))).toBe(true);
  });

  it("ignores a stale binary (its tokenizer.hf.json changed) with a warning and loads the JSON", async () => {
    const { files, original } = await savedPreset();
    const json = JSON.parse(new TextDecoder().decode((await files.read("tokenizer.hf.json"))!));
    json.edgebone.special_tokens_in_text = true;
    await files.write("tokenizer.hf.json", enc.encode(JSON.stringify(json)));
    const loaded = await Tokenizer.fromPreset(files);
    expect(compiled(loaded)).toBe(false);
    expect(warnings.join("\n")).toMatch(/tokenizer\.bin was compiled from another tokenizer\.hf\.json .*; loading tokenizer\.hf\.json instead/);
    expect(loaded.encode("<s> ab", { addSpecialTokens: false }).ids).toEqual([0, 32]); // the new file's semantics
    expect(original.encode("<s> ab", { addSpecialTokens: false }).ids).not.toEqual([0, 32]);
  });

  const spoilers: [string, (b: Uint8Array) => Uint8Array, RegExp][] = [
    ["another format version", (b) => (new DataView(b.buffer).setUint32(8, 99, true), b), /is compiled tokenizer format 99; this Edgebone reads format 1/],
    ["a damaged table", (b) => ((b[b.length - 100] ^= 1), b), /is damaged \(checksum mismatch\)/],
    ["a truncated file", (b) => b.subarray(0, b.length - 8), /is damaged/],
    ["not a binary at all", (b) => b.fill(7, 0, 8), /is not a compiled tokenizer \(no EBTOKBIN header\)/],
  ];
  it.each(spoilers)("ignores %s with a warning and loads the JSON", async (_, spoil, message) => {
    const { files } = await savedPreset();
    await files.write(COMPILED_TOKENIZER_FILE, spoil((await files.read(COMPILED_TOKENIZER_FILE))!.slice()));
    const loaded = await Tokenizer.fromPreset(files);
    expect(compiled(loaded)).toBe(false);
    expect(warnings.join("\n")).toMatch(message);
  });

  it("ignores a binary without its tokenizer.hf.json, and uses the JSON when options override its settings", async () => {
    const { files } = await savedPreset();
    const orphan = preset({ "sentencepiece.bpe.model": xlmrStyleModel(), [COMPILED_TOKENIZER_FILE]: (await files.read(COMPILED_TOKENIZER_FILE))! });
    expect(compiled(await Tokenizer.fromPreset(orphan))).toBe(false);
    expect(warnings.join("\n")).toMatch(/tokenizer\.bin is ignored: the preset has no tokenizer\.hf\.json beside it/);
    warnings.splice(0);
    const overridden = await Tokenizer.fromPreset(files, { specialTokensInText: true });
    expect(compiled(overridden)).toBe(false);
    expect(overridden.encode("<s> ab", { addSpecialTokens: false }).ids).toEqual([0, 32]);
    expect(warnings).toEqual([]);
  });

  it("checks the family, and the source file when one is given", async () => {
    const { files } = await savedPreset();
    await expect(GemmaTokenizer.fromPreset(files)).rejects.toThrow(/tokenizer\.bin is a xlm_roberta tokenizer, but the preset's model is gemma/);
    const bin = (await files.read(COMPILED_TOKENIZER_FILE))!;
    expect(() => Tokenizer.fromBinary(bin, { json: enc.encode("{}") })).toThrow(UnusableBinaryError);
    const bare = Tokenizer.fromBinary(bin);
    await expect(bare.toJson()).rejects.toThrow(/was loaded without its tokenizer\.hf\.json/);
    // Bytes at an unaligned offset are copied once, then read the same.
    const unaligned = new Uint8Array(bin.length + 3).subarray(3);
    unaligned.set(bin);
    expect(Tokenizer.fromBinary(unaligned).encode("the fox").ids).toEqual(bare.encode("the fox").ids);
  });

  it("saves a tokenizer it cannot compile exactly without a binary, and says why", async () => {
    // Two strings on one id: tokenizers.js keeps both in its map, a string table cannot.
    const wp = await Tokenizer.fromPreset(preset(wordPieceFiles()));
    const json = JSON.parse(new TextDecoder().decode(await wp.toJson()));
    json.model.vocab.alias = json.model.vocab.the;
    const t = Tokenizer.fromJson(JSON.stringify(json));
    const files = preset();
    const saved = await t.saveToPreset(files);
    expect(saved.notCompiled).toMatch(/"the" and "alias" share id 5|"alias" and "the" share id 5/);
    expect(saved.written).not.toContain(COMPILED_TOKENIZER_FILE);
    expect(await files.read(COMPILED_TOKENIZER_FILE)).toBeNull();
    expect((await Tokenizer.fromPreset(files)).encode("alias the").ids).toEqual(t.encode("alias the").ids);
  });
});
