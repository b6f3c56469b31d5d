/**
 * Node-only: measures an edge artifact the way an isolate holds it, in a fresh process on the same onnxruntime-web
 * build the worker runs. Isolate memory = JS heap + ArrayBuffers + onnxruntime's WebAssembly.Memory
 * (`process.memoryUsage().arrayBuffers` does not include the latter; the runtime hook reports its byteLength).
 * The heap counts from the process's start, so Node's own heap is left out; `preload` modules (the worker's code)
 * are imported first so that their heap is counted. Samples are taken after every file the loader reads (its peak:
 * one stage in JavaScript beside everything loaded so far) and after every forward pass; they count live memory
 * (after a GC) and report the largest amount of garbage that was waiting for collection separately.
 *
 *   node --expose-gc --import tsx shared/node/edge-measure.ts <preset dir> [preload module …]   → JSON on stdout
 */
import { execFile } from "node:child_process";
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

/** Runs the measurement in a fresh Node process (so nothing of the caller's memory counts). */
export async function measureEdgeArtifact(dir: string, preload: readonly string[] = []): Promise<EdgeMeasurement> {
  const tsx = import.meta.resolve("tsx");
  const { stdout } = await promisify(execFile)(process.execPath, ["--expose-gc", "--import", tsx, fileURLToPath(import.meta.url), dir, ...preload], {
    maxBuffer: 1 << 20,
    env: { ...process.env, EDGEBONE_MEASURE: "1" },
  });
  return JSON.parse(stdout) as EdgeMeasurement;
}

/** In the fresh process: Edgebone's own code is imported after the baseline, so its heap counts too. */
async function measure(dir: string, preload: readonly string[]): Promise<EdgeMeasurement> {
  const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});
  gc();
  const base = process.memoryUsage().heapUsed;
  const { Backbone, EdgeModel, Preprocessor, NoTokenizerError, sampleBatch } = await import("../index.js");
  const { directoryFiles, FsPresetStore } = await import("./fs-preset-store.js");
  const { wasmRuntime } = await import("./runtimes.js");
  const runtime = wasmRuntime();
  // Live memory: garbage is collected first (V8 collects ArrayBuffers once their total grows by tens of MB, so
  // uncollected garbage is a transient the limit's own GC reclaims); the most garbage seen is reported beside it.
  let garbage = 0;
  const isolate = () => {
    const used = () => {
      const m = process.memoryUsage();
      return m.heapUsed - base + m.arrayBuffers + (runtime.memoryBytes?.() ?? 0);
    };
    const before = used();
    gc();
    const live = used();
    garbage = Math.max(garbage, before - live);
    return live;
  };
  for (const module of preload) await import(module);
  gc();
  const codeHeap = process.memoryUsage().heapUsed - base;

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

  let peak = isolate();
  const t0 = performance.now();
  const model = await EdgeModel.load(files, backbone, runtime, { onProgress: () => (peak = Math.max(peak, isolate())) });
  const loadMs = performance.now() - t0;
  const loadPeak = Math.max(peak, isolate());

  const rows = (n: number) => sampleBatch(backbone, preprocessor, n);
  const serve = async (batch: TokenBatch) => {
    let servePeak = isolate();
    await model.forward(batch); // warm-up: arenas grow to their size
    servePeak = Math.max(servePeak, isolate());
    const runs = 3;
    const start = performance.now();
    for (let i = 0; i < runs; i++) {
      await model.forward(batch);
      servePeak = Math.max(servePeak, isolate());
    }
    const seconds = (performance.now() - start) / 1000 / runs;
    return { peak: Math.max(loadPeak, servePeak), tokensPerSecond: (batch.batchSize * batch.sequenceLength) / seconds };
  };
  const one = await serve(rows(1));
  const two = await serve(rows(2));
  return {
    runtime: runtime.version ?? runtime.name,
    peak_bytes: { load: loadPeak, "1x128": one.peak, "2x128": two.peak },
    wasm_memory_bytes: runtime.memoryBytes?.() ?? 0,
    garbage_bytes: garbage,
    code_heap_bytes: codeHeap,
    tokenizer_heap_bytes: tokenizerHeap,
    load_ms: Math.round(loadMs),
    tokens_per_second: { "1x128": Math.round(one.tokensPerSecond), "2x128": Math.round(two.tokensPerSecond) },
    at: new Date().toISOString(),
  };
}

if (process.env.EDGEBONE_MEASURE && process.argv[1] === fileURLToPath(import.meta.url)) {
  const [dir, ...preload] = process.argv.slice(2);
  measure(dir, preload).then(
    (m) => process.stdout.write(JSON.stringify(m) + "\n"),
    (e: Error) => {
      process.stderr.write(`edge-measure: ${e.message}\n`);
      process.exit(1);
    },
  );
}
