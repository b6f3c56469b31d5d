/**
 * Id-exactness against reference tokenizers: golden_ids.json and the real vocabularies in
 * ../shared/fixtures/tokenizers (HF transformers' BERT/RoBERTa tokenizers, Google SentencePiece for the
 * look-alike models), the KerasHub test pins (spec §7), and offsets on the whole corpus.
 */
import { existsSync } from "node:fs";
import { beforeAll, describe, expect, it } from "vitest";
import { PrecompiledCharsMap, Tokenizer, parseSentencePieceModel, AlignedText } from "../shared/node/index.js";
import { readFileSync } from "node:fs";
import { FIXTURE_DIRS, TOKENIZER_FIXTURES, loadGoldenIds, tokenizerFixturesPresent, type GoldenEntry, type GoldenFamily } from "./helpers/tokenizer-fixtures.js";

const hasSpecialSpelling = (e: GoldenEntry) => Boolean(e.special_token_text_in_input);

describe.skipIf(!tokenizerFixturesPresent)("golden ids (../shared/fixtures/tokenizers)", () => {
  const golden = tokenizerFixturesPresent ? loadGoldenIds() : ({} as ReturnType<typeof loadGoldenIds>);
  const tokenizers = new Map<string, Tokenizer>();
  beforeAll(async () => {
    for (const [family, dir] of Object.entries(FIXTURE_DIRS)) tokenizers.set(family, await Tokenizer.fromPreset(`${TOKENIZER_FIXTURES}${dir}`));
  });

  describe.each(Object.keys(FIXTURE_DIRS) as GoldenFamily[])("%s", (family) => {
    it("reproduces every entry, with and without special tokens", () => {
      const tok = tokenizers.get(family)!;
      const mismatches: string[] = [];
      for (const e of golden[family]) {
        // One bert_cased entry differs between HF's slow and fast tokenizers; tokenizer.json semantics are the fast ones.
        const want = e.hf_fast_ids ?? e.ids;
        const wantSpecial = e.hf_fast_ids_with_special ?? e.ids_with_special;
        const ids = tok.encode(e.text, { addSpecialTokens: false }).ids;
        const withSpecial = tok.encode(e.text).ids;
        if (JSON.stringify(ids) !== JSON.stringify(want)) mismatches.push(`${JSON.stringify(e.text)}: ${JSON.stringify(ids)} ≠ ${JSON.stringify(want)}`);
        if (JSON.stringify(withSpecial) !== JSON.stringify(wantSpecial)) mismatches.push(`${JSON.stringify(e.text)} (special): ${JSON.stringify(withSpecial)}`);
      }
      expect(mismatches).toEqual([]);
      expect(golden[family].length).toBe(97);
    });

    it("gives the ids of tokenizers.js's own encode (the engine only adds offsets)", () => {
      const tok = tokenizers.get(family)!;
      // SentencePiece semantics keep special-token spellings as text, which the library's encode cannot do.
      const entries = golden[family].filter((e) => tok.specialTokensInText || !hasSpecialSpelling(e));
      expect(entries.length).toBeGreaterThan(80);
      for (const e of entries) {
        expect(tok.encode(e.text, { addSpecialTokens: false }).ids, e.text).toEqual(tok.engine.lib.encode(e.text, { add_special_tokens: false }).ids);
      }
    });

    it("reports offsets that point at each token's text", () => {
      const tok = tokenizers.get(family)!;
      const surfaceOf = surfaceCheck(family);
      const problems: string[] = [];
      for (const { text } of golden[family]) {
        const enc = tok.encode(text, { addSpecialTokens: false });
        let last = 0;
        enc.offsets.forEach(([s, e], k) => {
          if (!(s >= 0 && s <= e && e <= text.length) || s < last) problems.push(`${JSON.stringify(text)} token ${k}: bad span [${s}, ${e})`);
          last = s;
          const want = surfaceOf(enc.tokens[k]);
          // A character can expand into several tokens (NFKC "…" → "...", "™" → "TM"): the span holds the token.
          if (want !== null && !canonical(family, text.slice(s, e)).includes(want)) {
            problems.push(`${JSON.stringify(text)} token ${k} ${JSON.stringify(enc.tokens[k])} → ${JSON.stringify(text.slice(s, e))}`);
          }
        });
      }
      expect(problems.slice(0, 10)).toEqual([]);
    });
  });

  it("matches the KerasHub tokenizer pins and backbone test inputs (spec §7)", () => {
    const uncased = tokenizers.get("bert_uncased")!;
    const roberta = tokenizers.get("roberta")!;
    expect(uncased.encode("The quick brown fox.", { addSpecialTokens: false }).ids).toEqual([1996, 4248, 2829, 4419, 1012]);
    expect(roberta.encode("The quick brown fox.", { addSpecialTokens: false }).ids).toEqual([133, 2119, 6219, 23602, 4]);
    // The backbone pins feed "[CLS] the quick [SEP]" and "<s> The quick </s>".
    expect(uncased.encode("The quick").ids).toEqual([101, 1996, 4248, 102]);
    expect(roberta.encode("The quick").ids).toEqual([0, 133, 2119, 2]);
  });

  it("keeps HF's accent stripping for uncased BERT by default and KerasHub's (none) on request", async () => {
    const hf = tokenizers.get("bert_uncased")!;
    const keras = await Tokenizer.fromPreset(`${TOKENIZER_FIXTURES}bert_uncased`, { stripAccents: false });
    expect(hf.meta).toMatchObject({ lowercase: true, strip_accents: true, source: "hf_files" });
    expect(keras.meta).toMatchObject({ lowercase: true, strip_accents: false });
    let flaggedDiffer = 0;
    for (const e of golden.bert_uncased) {
      const a = hf.encode(e.text).ids;
      const b = keras.encode(e.text).ids;
      if (e.accent_stripping_changes_ids) flaggedDiffer += Number(JSON.stringify(a) !== JSON.stringify(b));
      else if (/^[\x20-\x7e]*$/.test(e.text)) expect(b, e.text).toEqual(a);
    }
    expect(flaggedDiffer).toBe(golden.bert_uncased.filter((e) => e.accent_stripping_changes_ids).length);
    expect(keras.encode("Café", { addSpecialTokens: false }).tokens).not.toEqual(hf.encode("Café", { addSpecialTokens: false }).tokens);
  });

  it("decodes ids back to the text", () => {
    const gemma = tokenizers.get("gemma_like")!;
    const roberta = tokenizers.get("roberta")!;
    for (const e of golden.gemma_like) {
      // Byte fallback makes SentencePiece lossless except for a literal ▁ (fixture README).
      if (!e.text.includes("▁")) expect(gemma.decode(e.ids)).toBe(e.text);
    }
    for (const e of golden.roberta) if (!hasSpecialSpelling(e)) expect(roberta.decode(roberta.encode(e.text, { addSpecialTokens: false }).ids)).toBe(e.text);
    expect(gemma.decode(gemma.encode("Hi there").ids, { skipSpecialTokens: true })).toBe("Hi there");
    expect(tokenizers.get("xlmr_like")!.decode(tokenizers.get("xlmr_like")!.encode("The quick brown fox.").ids, { skipSpecialTokens: true })).toBe("The quick brown fox.");
    expect(tokenizers.get("bert_uncased")!.decode([101, 1996, 4248, 102], { skipSpecialTokens: true })).toBe("the quick");
  });

  const REAL = { gemma: "gemma/tokenizer.model", xlm_roberta: "xlm_roberta/sentencepiece.bpe.model" } as const;
  describe.each(Object.entries(REAL))("real %s model", (family, file) => {
    const present = tokenizerFixturesPresent && existsSync(`${TOKENIZER_FIXTURES}${file}`);
    if (!present) console.warn(`[tokenizers] ${file} is not in ../shared (fixture README, "Missing assets"): the ${family} golden entries and its KerasHub pin are skipped`);
    it.skipIf(!present)("reproduces the golden entries and the KerasHub pin", async () => {
      const tok = await Tokenizer.fromPreset(`${TOKENIZER_FIXTURES}${file.split("/")[0]}`);
      const pin = family === "gemma" ? [651, 4320, 8426, 25341, 235265] : [581, 63773, 119455, 6, 147797, 5];
      expect(tok.encode("The quick brown fox.", { addSpecialTokens: false }).ids).toEqual(pin);
      for (const e of golden[family as GoldenFamily]) expect(tok.encode(e.text).ids, e.text).toEqual(e.ids_with_special);
    });
  });
});

/** What a token's span must contain, brought into the token's own form (null: not checkable, e.g. [UNK]). */
function surfaceCheck(family: GoldenFamily): (token: string) => string | null {
  switch (family) {
    case "bert_uncased":
    case "bert_cased":
      return (t) => (/^\[[A-Z]+\]$/.test(t) ? null : t.replace(/^##/, ""));
    case "roberta":
      return (t) => byteLevelText(t)?.trim() || null;
    default:
      return (t) => (/^<0x[0-9A-F]{2}>$/.test(t) || t === "<unk>" ? null : t.replaceAll("▁", " ").trim() || null);
  }
}

let xlmrMap: PrecompiledCharsMap | undefined;
function canonical(family: GoldenFamily, slice: string): string {
  switch (family) {
    case "bert_cased":
      return slice.replace(/[\p{C}\ufffd]/gu, "");
    case "bert_uncased":
      return slice.replace(/[\p{C}\ufffd]/gu, "").toLowerCase().normalize("NFD").replace(/\p{Mn}/gu, "");
    case "xlmr_like": {
      xlmrMap ??= new PrecompiledCharsMap(parseSentencePieceModel(readFileSync(`${TOKENIZER_FIXTURES}spm_xlmr_like/sentencepiece.bpe.model`), "xlmr").normalizerSpec!.precompiledCharsmap!);
      return xlmrMap.normalize(AlignedText.identity(slice)).text.trim().replace(/ {2,}/g, " ");
    }
    default:
      return slice.trim();
  }
}

const BYTE_DECODER = (() => {
  const printable = (b: number) => (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
  const m = new Map<string, number>();
  let n = 0;
  for (let b = 0; b < 256; b++) m.set(String.fromCharCode(printable(b) ? b : 256 + n++), b);
  return m;
})();

function byteLevelText(token: string): string | null {
  if (["<s>", "</s>", "<pad>", "<unk>", "<mask>"].includes(token)) return token;
  const bytes = Uint8Array.from([...token].map((c) => BYTE_DECODER.get(c) ?? 0));
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    return null; // part of a character split across tokens
  }
}
