/**
 * Node-only: measures an edge artifact the way an isolate holds it, in a fresh process on the same onnxruntime-web
 * build the worker runs. Isolate memory = JS heap + ArrayBuffers + onnxruntime's WebAssembly.Memory
 * (`process.memoryUsage().arrayBuffers` does not include the latter; the runtime hook reports its byteLength).
 * The heap counts from the process's start, so Node's own heap is left out; `preload` modules (the worker's code)
 * are imported first so that their heap is counted. Samples are taken after every file the loader reads (its peak:
 * one stage in JavaScript beside everything loaded so far) and after every forward pass; they count live memory
 * (after a GC) and report the largest amount of garbage that was waiting for collection separately.
 *
 *   EDGEBONE_MEASURE=edge node --expose-gc --import tsx shared/node/edge-measure.ts <preset dir> [preload module …]
 *   → JSON on stdout (EDGEBONE_MEASURE=<model.onnx>: that one in-memory model instead of the edge artifact;
 *     EDGEBONE_MEASURE=stage:<k>: stage k of the artifact's pipeline plan alone, as its Durable Object holds it)
 */
import { execFile } from "node:child_process";
import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import type { Preprocessor, TokenBatch } from "../index.js";

export interface EdgeMeasurement {
  runtime: string;
  /** Peak isolate memory while loading, and while serving batches of 1×128 and 2×128 tokens. */
  peak_bytes: { load: number; "1x128": number; "2x128": number };
  wasm_memory_bytes: number;
  /** The most uncollected garbage seen at a sample (on top of the live peak until V8 collects it). */
  garbage_bytes: number;
  /** Heap of the preloaded code and of the tokenizer, as parts of the peak. */
  code_heap_bytes: number;
  tokenizer_heap_bytes: number;
  load_ms: number;
  tokens_per_second: { "1x128": number; "2x128": number };
  at: string;
}

/** One pipeline stage as its isolate holds it: loading, then rows of 128 tokens and of the longest sequence. */
export interface StageMeasurement {
  peak_bytes: number;
  wasm_memory_bytes: number;
  code_heap_bytes: number;
  load_ms: number;
  /** Milliseconds of one row of 128 tokens through the stage (a lookup of 128 ids for a shard). */
  row_ms: number;
}

/** Runs the measurement in a fresh Node process (so nothing of the caller's memory counts). */
export function measureEdgeArtifact(dir: string, preload: readonly string[] = [], options: { onnx?: string } = {}): Promise<EdgeMeasurement> {
  return inFreshProcess(dir, preload, options.onnx ?? "edge");
}

/** Stage `k` of the artifact's pipeline plan alone, in a fresh Node process with the worker's code (`preload`). */
export function measurePipelineStage(dir: string, k: number, preload: readonly string[] = []): Promise<StageMeasurement> {
  return inFreshProcess(dir, preload, `stage:${k}`);
}

async function inFreshProcess<T>(dir: string, preload: readonly string[], what: string): Promise<T> {
  const tsx = import.meta.resolve("tsx");
  const { stdout } = await promisify(execFile)(process.execPath, ["--expose-gc", "--import", tsx, fileURLToPath(import.meta.url), dir, ...preload], {
    maxBuffer: 1 << 20,
    env: { ...process.env, EDGEBONE_MEASURE: what },
  });
  return JSON.parse(stdout) as T;
}

const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});

/**
 * In the fresh process, before anything of Edgebone is imported: a sampler of isolate memory from here on (JS heap
 * over this baseline + ArrayBuffers + onnxruntime's WebAssembly memory), and the preloaded code's heap.
 */
async function isolateSampler(preload: readonly string[]) {
  gc();
  const base = process.memoryUsage().heapUsed;
  const { wasmRuntime } = await import("./runtimes.js");
  const runtime = wasmRuntime();
  const raw = () => {
    const m = process.memoryUsage();
    return m.heapUsed - base + m.arrayBuffers + (runtime.memoryBytes?.() ?? 0);
  };
  // Live memory: garbage is collected first (V8 collects ArrayBuffers once their total grows by tens of MB, so
  // uncollected garbage is a transient the limit's own GC reclaims); the most garbage seen is reported beside it.
  let garbage = 0;
  const live = async () => {
    const before = raw();
    // Array buffers are released after the collection that finds them dead, on a later turn: collect twice.
    gc();
    await new Promise((resolve) => setImmediate(resolve));
    gc();
    const after = raw();
    garbage = Math.max(garbage, before - after);
    return after;
  };
  for (const module of preload) await import(module);
  gc();
  return { runtime, base, raw, live, garbage: () => garbage, codeHeap: process.memoryUsage().heapUsed - base };
}

/** In the fresh process: stage k of the pipeline plan, loaded as PipelineStage loads it, then run. */
async function measureStage(dir: string, preload: readonly string[], k: number): Promise<StageMeasurement> {
  const sampler = await isolateSampler(preload);
  const { Backbone, EdgeEmbedding, EdgeModel, readEdgeManifest } = await import("../index.js");
  const { directoryFiles, FsPresetStore } = await import("./fs-preset-store.js");
  const files = directoryFiles(dir);
  const manifest = await readEdgeManifest(files);
  const stage = manifest?.pipeline?.stages[k];
  if (!manifest || !stage) throw new Error(`${dir} has no pipeline stage ${k}`);
  const backbone = await Backbone.fromPreset(dir, { loadWeights: false, store: new FsPresetStore() });
  let peak = await sampler.live();
  const t0 = performance.now();
  const ids = Int32Array.from({ length: 128 }, (_, i) => (i * 7919) % manifest.embedding!.rows);
  let run: (length: number) => Promise<unknown>;
  if (stage.kind === "embedding") {
    const table = await EdgeEmbedding.load(files, manifest, stage.rows);
    peak = Math.max(peak, sampler.raw());
    const own = ids.map((id) => stage.rows[0] + (id % (stage.rows[1] - stage.rows[0])));
    run = async () => table.lookup(own);
  } else {
    const model = await EdgeModel.load(files, backbone, sampler.runtime, { stages: stage.stages, onProgress: () => (peak = Math.max(peak, sampler.raw())) });
    run = (length) => model.forwardHidden(new Float32Array(length * manifest.hidden_dim).map((_, i) => Math.sin(i)), new Int32Array(length).fill(1), null);
  }
  const loadMs = performance.now() - t0;
  peak = Math.max(peak, await sampler.live());
  // The longest row the model takes sets the activations onnxruntime's heap grows to (and keeps).
  for (const length of [128, backbone.maxSequenceLength ?? 512]) {
    await run(length);
    peak = Math.max(peak, await sampler.live());
  }
  const start = performance.now();
  for (let i = 0; i < 3; i++) await run(128);
  return {
    peak_bytes: peak,
    wasm_memory_bytes: sampler.runtime.memoryBytes?.() ?? 0,
    code_heap_bytes: sampler.codeHeap,
    load_ms: Math.round(loadMs),
    row_ms: +((performance.now() - start) / 3).toFixed(2),
  };
}

/** In the fresh process: Edgebone's own code is imported after the baseline, so its heap counts too. */
async function measure(dir: string, preload: readonly string[], onnx?: string): Promise<EdgeMeasurement> {
  const { runtime, base, raw, live: isolate, garbage, codeHeap } = await isolateSampler(preload);
  const { Backbone, EdgeModel, Preprocessor, NoTokenizerError, sampleBatch } = await import("../index.js");
  const { directoryFiles, FsPresetStore } = await import("./fs-preset-store.js");

  const files = directoryFiles(dir);
  const backbone = await Backbone.fromPreset(dir, { loadWeights: false, store: new FsPresetStore() });
  let preprocessor: Preprocessor | null = null;
  try {
    preprocessor = await Preprocessor.fromPreset(files);
  } catch (e) {
    if (!(e instanceof NoTokenizerError)) throw e;
  }
  gc();
  const tokenizerHeap = process.memoryUsage().heapUsed - base - codeHeap;

  // The model: the preset's edge artifact, or (benchmarks: the peer recipe, the float graph) one in-memory ONNX
  // model as transformers.js loads it.
  let peak = await isolate();
  const t0 = performance.now();
  let forward: (batch: TokenBatch) => Promise<unknown>;
  if (onnx === undefined) {
    // Sampled synchronously while the file just read is alive (the loader's peak); collected at the end.
    const model = await EdgeModel.load(files, backbone, runtime, { onProgress: () => (peak = Math.max(peak, raw())) });
    forward = (batch) => model.forward(batch);
  } else {
    let bytes: Uint8Array | null = await readFile(onnx);
    const session = await runtime.ort.InferenceSession.create(bytes, runtime.sessionOptions);
    peak = Math.max(peak, await isolate());
    bytes = null;
    forward = (batch) => {
      const dims = [batch.batchSize, batch.sequenceLength];
      return session.run({ token_ids: new runtime.ort.Tensor("int32", batch.tokenIds, dims), padding_mask: new runtime.ort.Tensor("int32", batch.paddingMask, dims) });
    };
  }
  const loadMs = performance.now() - t0;
  const loadPeak = Math.max(peak, await isolate());

  const serve = async (batch: TokenBatch) => {
    await forward(batch); // warm-up: arenas grow to their size
    const runs = 3;
    const start = performance.now();
    for (let i = 0; i < runs; i++) await forward(batch);
    const seconds = (performance.now() - start) / 1000 / runs;
    // WASM memory only grows, and live JS memory after a run is what the next one starts from.
    return { peak: Math.max(loadPeak, await isolate()), tokensPerSecond: (batch.batchSize * batch.sequenceLength) / seconds };
  };
  const one = await serve(sampleBatch(backbone, preprocessor, 1));
  const two = await serve(sampleBatch(backbone, preprocessor, 2));
  return {
    runtime: runtime.version ?? runtime.name,
    peak_bytes: { load: loadPeak, "1x128": one.peak, "2x128": two.peak },
    wasm_memory_bytes: runtime.memoryBytes?.() ?? 0,
    garbage_bytes: garbage(),
    code_heap_bytes: codeHeap,
    tokenizer_heap_bytes: tokenizerHeap,
    load_ms: Math.round(loadMs),
    tokens_per_second: { "1x128": Math.round(one.tokensPerSecond), "2x128": Math.round(two.tokensPerSecond) },
    at: new Date().toISOString(),
  };
}

if (process.env.EDGEBONE_MEASURE && process.argv[1] === fileURLToPath(import.meta.url)) {
  const [dir, ...preload] = process.argv.slice(2);
  const what = process.env.EDGEBONE_MEASURE;
  const stage = /^stage:(\d+)$/.exec(what);
  (stage ? measureStage(dir, preload, Number(stage[1])) : measure(dir, preload, what === "edge" ? undefined : what)).then(
    (m) => process.stdout.write(JSON.stringify(m) + "\n"),
    (e: Error) => {
      process.stderr.write(`edge-measure: ${e.message}\n`);
      process.exit(1);
    },
  );
}
