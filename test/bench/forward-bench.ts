/**
 * Forward throughput baseline (issue #2): distil_bert_base_en_uncased with random weights, batch 8 × 128,
 * on onnxruntime-web WASM (1 thread, as at the edge) vs onnxruntime-node (1 thread and all threads).
 * Runs are interleaved round-robin so machine noise hits every runtime alike; ratios are the result.
 *
 *   npm run bench [-- --preset NAME --batch 8 --seq 128 --iterations 10]
 */
import { availableParallelism, cpus } from "node:os";
import { parseArgs } from "node:util";
import { Backbone, nodeRuntime, tokenBatch, wasmRuntime, type BackboneSession, type OnnxRuntime } from "../../shared/node/index.js";

const { values } = parseArgs({
  options: {
    preset: { type: "string", default: "distil_bert_base_en_uncased" },
    batch: { type: "string", default: "8" },
    seq: { type: "string", default: "128" },
    iterations: { type: "string", default: "10" },
  },
});
const batchSize = Number(values.batch);
const seqLength = Number(values.seq);
const iterations = Number(values.iterations);

const log = (msg: string) => console.error(`[bench] ${msg}`);
const started = performance.now();
const backbone = await Backbone.fromPreset(values.preset!, { loadWeights: false, seed: 0 });
log(`${values.preset}: ${backbone.countParams().toLocaleString("en-US")} parameters, random init ${(performance.now() - started).toFixed(0)} ms`);
const encodeStart = performance.now();
const model = backbone.toOnnx();
log(`ONNX graph: ${(model.byteLength / 2 ** 20).toFixed(1)} MiB, built in ${(performance.now() - encodeStart).toFixed(0)} ms`);

const ids = Array.from({ length: batchSize }, (_, b) => Array.from({ length: seqLength }, (_, t) => 1000 + ((b * 131 + t * 17) % 20000)));
const batch = tokenBatch(ids);
const tokens = batchSize * seqLength;

interface Entry { runtime: OnnxRuntime; label: string; session?: BackboneSession; times: number[]; createMs: number }
const entries: Entry[] = [
  { runtime: wasmRuntime(), label: "onnxruntime-web WASM, 1 thread", times: [], createMs: 0 },
  { runtime: nodeRuntime({ threads: 1 }), label: "onnxruntime-node CPU, 1 thread", times: [], createMs: 0 },
  { runtime: nodeRuntime({ threads: 0 }), label: `onnxruntime-node CPU, ${availableParallelism()} threads`, times: [], createMs: 0 },
];
for (const e of entries) {
  const t0 = performance.now();
  e.session = await backbone.createSession(e.runtime);
  e.createMs = performance.now() - t0;
  await e.session.forward(batch); // warm-up
  log(`${e.label}: session ${e.createMs.toFixed(0)} ms`);
}
for (let i = 0; i < iterations; i++) {
  for (const e of entries) {
    const t0 = performance.now();
    await e.session!.forward(batch);
    e.times.push(performance.now() - t0);
  }
  log(`iteration ${i + 1}/${iterations}`);
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const base = median(entries[0].times);
console.log(`\n${values.preset}, random weights, batch ${batchSize} × ${seqLength} tokens, ${iterations} interleaved iterations`);
console.log(`CPU: ${cpus()[0]?.model ?? "unknown"} (${availableParallelism()} logical cores), Node ${process.version}\n`);
console.log("| runtime | median latency | tokens/s | speed vs WASM | session create |");
console.log("|---|---|---|---|---|");
for (const e of entries) {
  const m = median(e.times);
  console.log(`| ${e.label} | ${m.toFixed(0)} ms | ${Math.round((tokens / m) * 1000).toLocaleString("en-US")} | ${(base / m).toFixed(2)}× | ${e.createMs.toFixed(0)} ms |`);
}
