/**
 * Preprocessing (KerasHub semantics): templates, pairs, sequence length, padding, truncation (never
 * silent), chunking of long texts with their spans, and the output feeding a real Backbone forward.
 */
import { readFileSync } from "node:fs";
import { beforeAll, describe, expect, it } from "vitest";
import { Backbone, InputError, MemoryPresetStore, Preprocessor, Tokenizer, wasmRuntime, type PresetFiles } from "../shared/node/index.js";
import { GOLDEN_DIR } from "./helpers/golden.js";
import { byteBpeFiles, gemmaStyleModel, wordPieceFiles } from "./helpers/tiny-tokenizers.js";

const enc = new TextEncoder();
const store = new MemoryPresetStore();

async function preset(key: string, files: Record<string, Uint8Array | object>): Promise<PresetFiles> {
  const f = store.open(key);
  for (const [name, v] of Object.entries(files)) await f.write(name, v instanceof Uint8Array ? v : enc.encode(JSON.stringify(v)));
  return f;
}

let wp: Tokenizer, bpe: Tokenizer, gemma: Tokenizer;
beforeAll(async () => {
  wp = await Tokenizer.fromPreset(await preset("wp", wordPieceFiles()));
  bpe = await Tokenizer.fromPreset(await preset("bpe", byteBpeFiles()));
  gemma = await Tokenizer.fromPreset(await preset("gemma", { "tokenizer.model": gemmaStyleModel() }));
});

describe("Preprocessor", () => {
  it("packs each family's template and pads right to the longest row", () => {
    const out = new Preprocessor(wp).call(["the quick fox", "hello"]);
    expect(out.tokenIds).toEqual([[2, 5, 6, 8, 3], [2, 19, 3, 0, 0]]);
    expect(out.paddingMask).toEqual([[1, 1, 1, 1, 1], [1, 1, 1, 0, 0]]);
    expect(out.offsets[1]).toEqual([[0, 0], [0, 5], [0, 0], [0, 0], [0, 0]]);
    expect(new Preprocessor(gemma).call("the").tokenIds).toEqual([[2, ...gemma.encode("the", { addSpecialTokens: false }).ids]]);
    expect(new Preprocessor(wp, { addSpecialTokens: false }).call("the quick").tokenIds).toEqual([[5, 6]]);
  });

  it("packs pairs ([CLS] a [SEP] b [SEP]; <s> a </s></s> b </s>) and refuses them for Gemma", () => {
    expect(new Preprocessor(wp).call("the", "fox").tokenIds).toEqual([[2, 5, 3, 8, 3]]);
    const x = bpe.encode("x", { addSpecialTokens: false }).ids[0];
    expect(new Preprocessor(bpe).call("x", "x").tokenIds).toEqual([[0, x, 2, 2, x, 2]]);
    expect(() => new Preprocessor(gemma).call("a", "b")).toThrow(/GemmaTokenizer does not take text pairs/);
    expect(() => new Preprocessor(wp).call(["a", "b"], ["c"])).toThrow(/got 2 texts but 1 pairs/);
  });

  it("pads to max_length on request", () => {
    const out = new Preprocessor(wp, { sequenceLength: 6, padding: "max_length" }).call("the");
    expect(out.tokenIds).toEqual([[2, 5, 3, 0, 0, 0]]);
    expect(() => new Preprocessor(wp, { sequenceLength: null, padding: "max_length" })).toThrow(/needs a sequence length/);
  });

  it("never truncates silently: too-long text fails with its length, truncation is explicit", () => {
    const text = "the quick brown fox hello world";
    expect(() => new Preprocessor(wp, { sequenceLength: 5 }).call(["the", text])).toThrow(
      /text 1 is 8 tokens long with special tokens, more than the sequence length 5: truncate it \(--truncate left\|right\) or split it into overlapping chunks \(--chunk\)/,
    );
    const right = new Preprocessor(wp, { sequenceLength: 5, truncate: "right" }).call(text);
    expect(right.tokenIds).toEqual([[2, 5, 6, 7, 3]]);
    expect(right.rows[0]).toMatchObject({ tokenStart: 0, tokenEnd: 3, start: 0, end: 15, truncated: 3 });
    const left = new Preprocessor(wp, { sequenceLength: 5, truncate: "left" }).call(text);
    expect(left.tokenIds).toEqual([[2, 8, 19, 20, 3]]);
    expect(left.rows[0]).toMatchObject({ tokenStart: 3, tokenEnd: 6, start: 16, end: 31, truncated: 3 });
    expect(() => new Preprocessor(wp, { sequenceLength: 2 })).toThrow(/leaves no room for text next to 2 special tokens/);
  });

  it("shares the budget of a pair round-robin (KerasHub's default trimmer)", () => {
    const p = new Preprocessor(wp, { sequenceLength: 8, truncate: "right" });
    // 5 tokens of room: the longer segment gets 3, the other 2; a short segment keeps all of its tokens.
    expect(p.call("the quick brown fox", "hello world cafe").tokenIds).toEqual([[2, 5, 6, 7, 3, 19, 20, 3]]);
    expect(p.call("the", "hello world cafe the quick").tokenIds).toEqual([[2, 5, 3, 19, 20, 21, 5, 3]]);
  });

  it("chunks long texts into overlapping windows with their spans", () => {
    const words = Array.from({ length: 50 }, (_, i) => ["the", "quick", "brown", "fox"][i % 4]);
    const text = words.join(" ");
    const p = new Preprocessor(wp, { sequenceLength: 12 });
    expect(() => p.call(text)).toThrow(/more than the sequence length 12/);
    const out = p.chunk(["hello", text], { overlap: 2 });
    expect(out.rows[0]).toMatchObject({ text: 0, tokenStart: 0, tokenEnd: 1 });
    const rows = out.rows.filter((r) => r.text === 1);
    expect(rows[0].tokenStart).toBe(0);
    expect(rows.at(-1)!.tokenEnd).toBe(50);
    for (let i = 1; i < rows.length; i++) expect(rows[i - 1].tokenEnd - rows[i].tokenStart).toBe(2);
    for (const [i, r] of out.rows.entries()) {
      expect(out.tokenIds[i]).toHaveLength(12);
      expect(out.tokenIds[i].slice(0, r.tokenEnd - r.tokenStart + 2)).toEqual([2, ...wp.encode(r.text ? text : "hello", { addSpecialTokens: false }).ids.slice(r.tokenStart, r.tokenEnd), 3]);
      const span = (r.text ? text : "hello").slice(r.start, r.end);
      expect(span.startsWith(["the", "quick", "brown", "fox", "hello"].find((w) => span.startsWith(w))!)).toBe(true);
    }
    expect(() => p.chunk(text, { overlap: 10 })).toThrow(/chunk overlap must be an integer from 0 to 9/);
  });

  it("does not cut a character's byte tokens or a word when chunking", () => {
    const text = "😀 ".repeat(40) + "é".repeat(30);
    const p = new Preprocessor(gemma, { sequenceLength: 16 });
    const out = p.chunk(text);
    const full = gemma.encode(text, { addSpecialTokens: false });
    for (const r of out.rows) {
      // A window starts at a token whose span differs from the previous token's (never mid-character).
      if (r.tokenStart > 0) expect(full.offsets[r.tokenStart]).not.toEqual(full.offsets[r.tokenStart - 1]);
      if (r.tokenEnd < full.ids.length) expect(full.offsets[r.tokenEnd]).not.toEqual(full.offsets[r.tokenEnd - 1]);
    }
    expect(out.rows.at(-1)!.end).toBe(text.length);
  });

  it("handles hundreds of thousands of rows and windows without deep calls (no stack overflow)", () => {
    const p = new Preprocessor(wp, { sequenceLength: 4 });
    const many = p.call(Array(200_000).fill("hello"));
    expect(many.tokenIds).toHaveLength(200_000);
    expect(many.tokenIds[199_999]).toEqual([2, 19, 3]);
    // one text of 200,000 tokens: 100,000 windows of 2 tokens, iterated (never one call per window)
    const windows = p.chunk("the ".repeat(200_000), { overlap: 0 });
    expect(windows.rows).toHaveLength(100_000);
    expect(windows.rows.at(-1)).toMatchObject({ tokenStart: 199_998, tokenEnd: 200_000 });
  });

  it("takes the default sequence length from the preset's config", async () => {
    const keras = await preset("keras", { ...wordPieceFiles(), "config.json": { registered_name: "keras_hub>DistilBertBackbone", config: { max_sequence_length: 8 } } });
    expect((await Preprocessor.fromPreset(keras)).sequenceLength).toBe(8);
    const hf = await preset("hf", { ...byteBpeFiles(), "config.json": { model_type: "roberta", max_position_embeddings: 66 } });
    expect((await Preprocessor.fromPreset(hf)).sequenceLength).toBe(64);
    expect(new Preprocessor(gemma).sequenceLength).toBeNull();
    expect(new Preprocessor(wp).sequenceLength).toBe(512);
  });

  it("reports bad input as InputError with the text's index", () => {
    expect(() => new Preprocessor(wp).call(["ok", "bad\ud800"])).toThrow(/text 1: text contains an unpaired UTF-16 surrogate/);
    expect(() => new Preprocessor(wp).call([])).toThrow(InputError);
  });
});

describe("Preprocessor → Backbone", () => {
  it("feeds a DistilBERT forward pass directly", async () => {
    const files = store.open("tiny-distilbert");
    for (const f of ["config.json", "model.safetensors"]) await files.write(f, readFileSync(`${GOLDEN_DIR}distilbert/${f}`));
    for (const [f, b] of Object.entries(wordPieceFiles())) await files.write(f, b);
    const pre = await Preprocessor.fromPreset("tiny-distilbert", { store });
    expect(pre.sequenceLength).toBe(64);
    const out = pre.call(["the quick brown fox", "hello"]);
    const backbone = await Backbone.fromPreset("tiny-distilbert", { store });
    const session = await backbone.createSession(wasmRuntime());
    const { sequenceOutput } = await session.forward(Preprocessor.toTokenBatch(out));
    expect(sequenceOutput.shape).toEqual([2, 6, backbone.hiddenDim]);
  });
});
