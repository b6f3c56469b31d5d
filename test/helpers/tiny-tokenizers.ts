/**
 * Small tokenizer assets built in the tests themselves (no ../shared needed): a WordPiece vocab.txt, a
 * byte-level BPE vocab.json + merges.txt, and SentencePiece models (BPE with byte fallback, unigram with the
 * fairseq layout) encoded with protobufjs.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { encodeSentencePieceModel } from "../../shared/node/index.js";

const enc = new TextEncoder();

export const WORDPIECE_VOCAB = [
  "[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]",
  "the", "quick", "brown", "fox", ".", ",", "!", "?", "'", "[", "]",
  "un", "##aff", "##able", "hello", "world", "cafe", "café", "zero", "##width",
  "你", "好", "a", "##a", "b", "##b", "cls", "s", "##s", "x", "##x", "the##",
];

export function wordPieceFiles(): Record<string, Uint8Array> {
  return { "vocab.txt": enc.encode(WORDPIECE_VOCAB.join("\n") + "\n") };
}

/** GPT-2's printable byte alphabet, so every byte has a token. */
export function byteLevelAlphabet(): string[] {
  const printable = (b: number) => (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
  const out: string[] = [];
  let n = 0;
  for (let b = 0; b < 256; b++) out.push(String.fromCharCode(printable(b) ? b : 256 + n++));
  return out;
}

export const BPE_MERGES: [string, string][] = [
  ["Ġ", "t"], ["h", "e"], ["Ġt", "he"], ["Ġ", "q"], ["u", "i"], ["Ġq", "ui"], ["c", "k"], ["Ġqui", "ck"], ["o", "x"], ["Ġ", "f"], ["Ġf", "ox"],
];

export function byteBpeFiles(): Record<string, Uint8Array> {
  const tokens = ["<s>", "<pad>", "</s>", "<unk>", ...byteLevelAlphabet(), ...BPE_MERGES.map(([a, b]) => a + b), "<mask>"];
  const vocab = Object.fromEntries(tokens.map((t, i) => [t, i]));
  return {
    "vocab.json": enc.encode(JSON.stringify(vocab)),
    "merges.txt": enc.encode(["#version: 0.2", ...BPE_MERGES.map((m) => m.join(" "))].join("\n") + "\n"),
  };
}

const T = { NORMAL: 1, UNKNOWN: 2, CONTROL: 3, USER_DEFINED: 4, UNUSED: 5, BYTE: 6 };

/**
 * Gemma-style SentencePiece BPE: <pad> <eos> <bos> <unk>, user-defined <mask> and "\n", 256 byte pieces,
 * then merged pieces by score. Identity normalizer, no dummy prefix, whitespace kept.
 */
export function gemmaStyleModel(): Uint8Array {
  const normal = ["▁t", "he", "▁the", "▁q", "ui", "ck", "▁qui", "▁quick", "▁▁", "o", "x", "▁f", "ox", "▁fox"];
  const chars = ["▁", "t", "h", "e", "q", "u", "i", "c", "k", "f", "o", "x", "a", "b", "."];
  const pieces = [
    { piece: "<pad>", score: 0, type: T.CONTROL },
    { piece: "<eos>", score: 0, type: T.CONTROL },
    { piece: "<bos>", score: 0, type: T.CONTROL },
    { piece: "<unk>", score: 0, type: T.UNKNOWN },
    { piece: "<mask>", score: 0, type: T.USER_DEFINED },
    { piece: "\n", score: 0, type: T.USER_DEFINED },
    ...Array.from({ length: 256 }, (_, b) => ({ piece: `<0x${b.toString(16).toUpperCase().padStart(2, "0")}>`, score: 0, type: T.BYTE })),
    ...[...new Set(normal)].map((piece, i) => ({ piece, score: -i, type: T.NORMAL })),
    ...chars.filter((c) => !normal.includes(c)).map((piece, i) => ({ piece, score: -100 - i, type: T.NORMAL })),
  ];
  return encodeSentencePieceModel({
    pieces,
    trainerSpec: { modelType: 2, vocabSize: pieces.length, byteFallback: true, unkId: 3, bosId: 2, eosId: 1, padId: 0 },
    normalizerSpec: { name: "identity", addDummyPrefix: false, removeExtraWhitespaces: false, escapeWhitespaces: true },
  });
}

/**
 * XLM-R-style SentencePiece unigram: <unk> <s> </s>, then scored pieces. No charsmap (so no NFKC), but the
 * dummy prefix and whitespace removal of XLM-R.
 */
export function xlmrStyleModel(): Uint8Array {
  const scored: [string, number][] = [
    ["▁", -2], ["▁the", -3], ["▁quick", -5], ["▁brown", -5], ["▁fox", -5], [".", -3], ["s", -4], ["<", -6], [">", -6],
    ["t", -6], ["h", -6], ["e", -5], ["a", -5], ["b", -6], ["c", -6], ["k", -7], ["q", -8], ["u", -6], ["i", -6], ["o", -6],
    ["x", -7], ["w", -7], ["n", -6], ["r", -6], ["f", -7], ["m", -7], ["/", -8], ["ab", -7.5], ["▁ab", -9],
  ];
  const pieces = [
    { piece: "<unk>", score: 0, type: T.UNKNOWN },
    { piece: "<s>", score: 0, type: T.CONTROL },
    { piece: "</s>", score: 0, type: T.CONTROL },
    ...scored.map(([piece, score]) => ({ piece, score, type: T.NORMAL })),
  ];
  return encodeSentencePieceModel({
    pieces,
    trainerSpec: { modelType: 1, vocabSize: pieces.length, unkId: 0, bosId: 1, eosId: 2, padId: -1 },
    normalizerSpec: { name: "nmt_nfkc", addDummyPrefix: true, removeExtraWhitespaces: true, escapeWhitespaces: true },
  });
}

/** Writes files into a fresh directory under `root`. */
export function writePresetDir(root: string, name: string, files: Record<string, Uint8Array | string>): string {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  for (const [file, bytes] of Object.entries(files)) {
    mkdirSync(join(dir, file, ".."), { recursive: true });
    writeFileSync(join(dir, file), bytes);
  }
  return dir;
}
