/**
 * Tokenizer cold load and throughput (issue #3), in Node and inside workerd (miniflare), for:
 * - WordPiece, 30,522 tokens: bert-base-uncased's real vocab.txt (../shared; a synthetic 30k vocabulary without it);
 * - byte-level BPE, 50,265 tokens + 50,000 merges: roberta-base's real files (../shared only);
 * - SentencePiece BPE, 256,000 pieces, Gemma's layout: SYNTHETIC (the real tokenizer.model is not available);
 * - SentencePiece unigram, 250,002 ids, XLM-R's layout: SYNTHETIC pieces with the real nmt_nfkc charsmap of
 *   spm_xlmr_like (../shared).
 * Load = JSON.parse of the canonical tokenizer.hf.json + building the tokenizer (what a cold isolate pays).
 * Throughput = encode() of an English passage, offsets included. Memory = V8 heap retained in Node after GC
 * (the same engine as workerd; miniflare does not report or cap isolate memory).
 *
 *   npm run bench:tokenizers [-- --repeat 40 --cold 3]
 * workerd runs when miniflare can be imported: it is not a project dependency (165 MB with its workerd binary);
 * `npm install --no-save miniflare@4.20260426.0`, or point EDGEBONE_MINIFLARE at a node_modules/miniflare elsewhere.
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

const { values } = parseArgs({ options: { repeat: { type: "string", default: "40" }, cold: { type: "string", default: "3" } } });
const repeat = Number(values.repeat);
const coldRuns = Number(values.cold);
const log = (msg: string) => console.error(`[bench:tokenizers] ${msg}`);
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) log("run with node --expose-gc for heap figures (npm run bench:tokenizers does)");

const FIXTURES = fileURLToPath(new URL("../../../shared/fixtures/tokenizers/", import.meta.url));
const haveShared = existsSync(`${FIXTURES}golden_ids.json`);
if (!haveShared) log(`${FIXTURES} is absent: real vocabularies are replaced by synthetic ones, roberta is skipped`);

// An English passage (written for this benchmark), about 180 words.
const PASSAGE = [
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

function syntheticGemma(): Uint8Array {
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

function syntheticXlmr(): Uint8Array {
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

function rows(): Row[] {
  const out: Row[] = [];
  const add = (name: string, note: string, make: () => Uint8Array, spm?: Row["spm"]) => {
    const [json, ms] = timed(make);
    out.push({ name, note, bytes: json, convertMs: ms, spm });
    log(`${name}: canonical tokenizer.hf.json ${(json.length / 2 ** 20).toFixed(1)} MiB, converted in ${ms.toFixed(0)} ms`);
  };
  const serialize = (t: object) => new TextEncoder().encode(JSON.stringify(t));
  if (haveShared) {
    add("WordPiece 30,522", "bert-base-uncased vocab.txt (real)", () =>
      serialize(wordPieceTokenizerJson(parseVocabTxt(readFileSync(`${FIXTURES}bert_uncased/vocab.txt`), "vocab.txt"), { lowercase: true, stripAccents: true, specialTokensInText: true, source: "hf_files" }, "vocab.txt")),
    );
    add("byte-level BPE 50,265", "roberta-base vocab.json + merges.txt (real)", () =>
      serialize(byteBpeTokenizerJson(parseVocabJson(readFileSync(`${FIXTURES}roberta/vocab.json`), "v"), parseMerges(readFileSync(`${FIXTURES}roberta/merges.txt`), "m"), { source: "hf_files" }, "roberta")),
    );
  } else {
    const vocab = ["[PAD]", ...Array.from({ length: 99 }, (_, i) => `[unused${i}]`), "[UNK]", "[CLS]", "[SEP]", "[MASK]", ...characters().slice(0, 900)];
    const ws = words(40_000);
    for (let i = 0; vocab.length < 30_522; i++) vocab.push(i % 4 === 3 ? "##" + ws[i].slice(1) : ws[i]);
    add("WordPiece 30,522", "synthetic vocabulary (../shared absent)", () =>
      serialize(wordPieceTokenizerJson(vocab, { lowercase: true, stripAccents: true, specialTokensInText: true, source: "hf_files" }, "synthetic")),
    );
  }
  const gemma = syntheticGemma();
  add("SentencePiece BPE 256,000", "SYNTHETIC Gemma-layout model (byte fallback)", () =>
    serialize(sentencePieceTokenizerJson(parseSentencePieceModel(gemma, "synthetic gemma"), "gemma", "synthetic gemma")),
    { model: gemma, family: "gemma" },
  );
  const xlmr = syntheticXlmr();
  add("SentencePiece unigram 250,002", `SYNTHETIC XLM-R-layout model${haveShared ? ", real nmt_nfkc charsmap" : ""}`, () =>
    serialize(sentencePieceTokenizerJson(parseSentencePieceModel(xlmr, "synthetic xlmr"), "xlm_roberta", "synthetic xlmr")),
    { model: xlmr, family: "xlm_roberta" },
  );
  return out;
}

// ---------------------------------------------------------------------------------------------- Node

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

interface NodeResult {
  firstLoadMs: number;
  loadMs: number;
  heapMiB: number;
  tokensPerSec: number;
  tokensPerText: number;
}

function nodeRun(row: Row): NodeResult {
  const loads: number[] = [];
  let heapMiB = NaN;
  let tok: Tokenizer | undefined;
  for (let i = 0; i < coldRuns; i++) {
    tok = undefined;
    gc?.();
    const before = process.memoryUsage().heapUsed;
    const [t, ms] = timed(() => Tokenizer.fromJson(row.bytes));
    tok = t;
    loads.push(ms);
    gc?.();
    // First run only: later ones start with the previous tokenizer still in a stack slot.
    if (gc && i === 0) heapMiB = (process.memoryUsage().heapUsed - before) / 2 ** 20;
  }
  const tokensPerText = tok!.encode(PASSAGE).ids.length;
  tok!.encode(PASSAGE); // warm-up
  const [, ms] = timed(() => {
    for (let r = 0; r < repeat; r++) tok!.encode(PASSAGE);
  });
  return { firstLoadMs: loads[0], loadMs: median(loads), heapMiB, tokensPerSec: (tokensPerText * repeat) / (ms / 1000), tokensPerText };
}

// ---------------------------------------------------------------------------------------------- workerd

interface WorkerdResult {
  loadMs: number[];
  tokensPerSec: number;
  convertMs?: number;
}

/** The part of miniflare's API the benchmark uses (miniflare is not a dependency, so no typings). */
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

async function workerdRun(mf: MiniflareModule, script: string, row: Row): Promise<WorkerdResult> {
  const loadMs: number[] = [];
  let tokensPerSec = NaN;
  let convertMs: number | undefined;
  for (let i = 0; i < coldRuns; i++) {
    // A fresh Miniflare (fresh workerd process and isolate) per cold load.
    const instance = new mf.Miniflare({ modules: true, script, compatibilityDate: "2026-04-26" });
    try {
      const load = await instance.dispatchFetch("http://bench/load", { method: "POST", body: row.bytes });
      const lj = (await load.json()) as { loadMs?: number; error?: string };
      if (lj.error !== undefined || lj.loadMs === undefined) throw new Error(`workerd load failed: ${lj.error}`);
      loadMs.push(lj.loadMs);
      if (i === coldRuns - 1 && row.spm) {
        const c = await instance.dispatchFetch(`http://bench/convert?family=${row.spm.family}`, { method: "POST", body: row.spm.model });
        const cj = (await c.json()) as { convertMs?: number; error?: string };
        if (cj.error !== undefined) throw new Error(`workerd convert failed: ${cj.error}`);
        convertMs = cj.convertMs;
      }
      if (i === coldRuns - 1) {
        const body = JSON.stringify({ texts: [PASSAGE], repeat: 1 });
        await instance.dispatchFetch("http://bench/encode", { method: "POST", body }); // warm-up
        const r = await instance.dispatchFetch("http://bench/encode", { method: "POST", body: JSON.stringify({ texts: [PASSAGE], repeat }) });
        const ej = (await r.json()) as { ms: number; tokens: number; error?: string };
        if (ej.error) throw new Error(`workerd encode failed: ${ej.error}`);
        tokensPerSec = ej.tokens / (Math.max(ej.ms, 1) / 1000);
      }
    } finally {
      await instance.dispose();
    }
  }
  return { loadMs, tokensPerSec, convertMs };
}

// ---------------------------------------------------------------------------------------------- main

const all = rows();
const mf = await importMiniflare();
const script = mf ? await workerBundle() : "";
if (mf) log(`worker bundle ${(script.length / 1024).toFixed(0)} KiB (minified), workerd via miniflare`);
else log("miniflare not importable: workerd columns skipped (see the header comment)");

const fmt = (n: number, d = 0) => (Number.isFinite(n) ? n.toLocaleString("en-US", { maximumFractionDigits: d, minimumFractionDigits: d }) : "–");
const lines = [
  `| tokenizer | canonical file | Node load (first / median of ${coldRuns}) | Node heap | Node tokens/s | workerd cold load (${coldRuns} isolates) | workerd tokens/s |`,
  "|---|---|---|---|---|---|---|",
];
for (const row of all) {
  const node = nodeRun(row);
  log(`${row.name}: Node load ${node.firstLoadMs.toFixed(0)} / ${node.loadMs.toFixed(0)} ms, heap ${node.heapMiB.toFixed(1)} MiB, ${node.tokensPerSec.toFixed(0)} tokens/s (${node.tokensPerText} tokens per passage)`);
  const wd = mf ? await workerdRun(mf, script, row) : null;
  if (wd) log(`${row.name}: workerd loads ${wd.loadMs.join(", ")} ms, ${wd.tokensPerSec.toFixed(0)} tokens/s${wd.convertMs !== undefined ? `, SentencePiece model converted in ${wd.convertMs} ms` : ""}`);
  lines.push(
    `| ${row.name} (${row.note}) | ${fmt(row.bytes.length / 2 ** 20, 1)} MiB, converted in ${fmt(row.convertMs)} ms${wd?.convertMs !== undefined ? ` (workerd ${fmt(wd.convertMs)} ms)` : ""} | ${fmt(node.firstLoadMs)} / ${fmt(node.loadMs)} ms | ${fmt(node.heapMiB, 1)} MiB | ${fmt(node.tokensPerSec)} | ${wd ? wd.loadMs.map((m) => fmt(m)).join(", ") + " ms" : "–"} | ${wd ? fmt(wd.tokensPerSec) : "–"} |`,
  );
}
console.log(`\n${cpus().length}-core ${cpus()[0]?.model.trim()}, Node ${process.version}; passage of ${PASSAGE.length} characters, ${repeat} encodes per measurement\n`);
console.log(lines.join("\n"));
