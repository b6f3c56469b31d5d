/**
 * Edge-class encoders (issue #9): real-size DistilBERT / RoBERTa architectures (seeded random weights; the real
 * tokenizers from ../shared when present) compiled into edge artifacts, against the float graph and the
 * transformers.js q8 recipe, all in one run:
 *
 *   - fidelity of each plan vs the float graph of the same weights (pooled and per-token cosine), on plain weights
 *     and on weights with outlier channels (LayerNorm gammas and embedding dimensions ×20–50);
 *   - peak isolate memory (JS heap + ArrayBuffers + onnxruntime's WebAssembly.Memory), each model measured in a
 *     fresh process with the worker's code (workers/app.ts) and the tokenizer loaded (shared/node/edge-measure.ts);
 *   - WASM throughput at 1×128 and 2×128 tokens (onnxruntime-web, 1 thread), interleaved round-robin with the fp32
 *     WASM graph, the peer recipe and onnxruntime-node fp32 on 1 thread, so the ratios come from one run;
 *   - the model's feed-forward GEMMs alone (`gemmCeiling`): int8 DynamicQuantizeMatMul in WASM against fp32 MatMul
 *     in WASM and in onnxruntime-node on 1 thread: the ceiling of the model's ratios.
 *
 *   npm run bench:edge-models [-- --presets distil_bert_base_en_uncased,roberta_base_en --iterations 5]
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import {
  Backbone,
  EdgeModel,
  FsPresetStore,
  Preprocessor,
  QuantizedWeights,
  Tokenizer,
  directoryFiles,
  nodeRuntime,
  parsePlan,
  sampleBatch,
  wasmRuntime,
  type TokenBatch,
} from "../../shared/node/index.js";
import { camelKeys } from "../../shared/backbone/config.js";
import { classByName } from "../../shared/backbone/registry.js";
import type { EncoderBackbone } from "../../shared/models/encoder/encoder-backbone.js";
import { writeEdgeArtifact } from "../../shared/node/edge-build.js";
import { GraphBuilder } from "../../shared/graph/graph-builder.js";
import type { OnnxRuntime } from "../../shared/runtime/runtime.js";
import { measureEdgeArtifact, type EdgeMeasurement } from "../../shared/node/edge-measure.js";
import { TOKENIZER_FIXTURES, tokenizerFixturesPresent } from "../helpers/tokenizer-fixtures.js";
import { withOutliers } from "../helpers/quant-models.js";

const { values } = parseArgs({
  options: {
    presets: { type: "string", default: "distil_bert_base_en_uncased,distil_bert_base_en,roberta_base_en" },
    iterations: { type: "string", default: "5" },
  },
});
const iterations = Number(values.iterations);
const WORKER = fileURLToPath(new URL("../../workers/app.ts", import.meta.url));
const TOKENIZERS: Record<string, string> = { distil_bert_base_en_uncased: "bert_uncased", distil_bert_base_en: "bert_cased", roberta_base_en: "roberta" };
/** int8 ships for DistilBERT; RoBERTa-base does not fit int8, so its smaller plans are measured too. */
const PLANS: Record<string, string[]> = { roberta_base_en: ["int8", "mixed", "int4"] };
const log = (msg: string) => console.error(`[bench] ${msg}`);
const mib = (b: number) => (b / 2 ** 20).toFixed(1);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

interface Row {
  label: string;
  files: number | null;
  peak: EdgeMeasurement | null;
  fidelity?: string;
  forward: (batch: TokenBatch) => Promise<unknown>;
  times: Record<string, number[]>;
}

const report: string[] = [];
for (const preset of values.presets!.split(",")) {
  const info = Backbone.presets[preset];
  const backbone = new (classByName(info.className)!)(camelKeys(info.config)) as EncoderBackbone;
  const dir = mkdtempSync(join(tmpdir(), `edgebone-bench-${preset}-`));
  log(`${preset}: ${backbone.countParams().toLocaleString("en-US")} parameters, writing a random-weight preset to ${dir}`);
  const store = new FsPresetStore();
  const files = await backbone.saveToPreset(dir, store);
  const tokenizerName = TOKENIZERS[preset];
  if (tokenizerFixturesPresent && tokenizerName) await (await Tokenizer.fromPreset(`${TOKENIZER_FIXTURES}${tokenizerName}`)).saveToPreset(files);
  else log(`no real tokenizer (../shared absent): token ids instead of text`);
  const preprocessor = tokenizerFixturesPresent && tokenizerName ? await Preprocessor.fromPreset(directoryFiles(dir)) : null;

  const wasm = wasmRuntime();
  const rows: Row[] = [];
  const add = (row: Omit<Row, "times">) => rows.push({ ...row, times: { "1x128": [], "2x128": [] } });

  // Float graph: WASM (the baseline) and onnxruntime-node on one thread.
  const floatOnnx = join(dir, "float.onnx");
  writeFileSync(floatOnnx, backbone.toOnnx());
  const floatWasm = await backbone.createSession(wasm);
  const floatNode = await backbone.createSession(nodeRuntime({ threads: 1 }));
  add({ label: "fp32 graph, WASM (baseline)", files: null, peak: await measureEdgeArtifact(dir, [WORKER], { onnx: floatOnnx }), forward: (b) => floatWasm.forward(b) });
  add({ label: "fp32 graph, onnxruntime-node 1 thread", files: null, peak: null, forward: (b) => floatNode.forward(b) });

  // The transformers.js q8 recipe: one in-memory ONNX, per-tensor uint8 MatMulInteger + DynamicQuantizeLinear.
  const peerBytes = backbone.toOnnx({ weights: new QuantizedWeights(parsePlan("q8-tensor")) });
  const peerOnnx = join(dir, "peer-q8.onnx");
  writeFileSync(peerOnnx, peerBytes);
  const peer = await wasm.ort.InferenceSession.create(peerBytes, wasm.sessionOptions);
  add({
    label: "transformers.js q8 recipe, WASM (one in-memory ONNX)",
    files: peerBytes.byteLength,
    peak: await measureEdgeArtifact(dir, [WORKER], { onnx: peerOnnx }),
    forward: (b) => peer.run({ token_ids: new wasm.ort.Tensor("int32", b.tokenIds, [b.batchSize, b.sequenceLength]), padding_mask: new wasm.ort.Tensor("int32", b.paddingMask, [b.batchSize, b.sequenceLength]) }),
  });

  for (const plan of PLANS[preset] ?? ["int8"]) {
    log(`${preset}: ${plan} edge artifact`);
    const { reports } = await writeEdgeArtifact(backbone, dir, { plan, preload: [WORKER], log });
    const built = reports[0];
    const model = await EdgeModel.load(directoryFiles(dir), backbone, wasm);
    // The same plan on weights with outlier channels (fidelity only).
    const outlierDir = mkdtempSync(join(tmpdir(), `edgebone-bench-outliers-`));
    const outlier = withOutliers(new (classByName(info.className)!)(camelKeys(info.config)) as EncoderBackbone);
    await (await outlier.saveToPreset(outlierDir, store)).write("tokenizer.hf.json", (await directoryFiles(dir).read("tokenizer.hf.json")) ?? new Uint8Array());
    const outlierReport = (await writeEdgeArtifact(outlier, outlierDir, { plan, measure: false })).reports[0];
    rmSync(outlierDir, { recursive: true, force: true });
    const f = (x: typeof built) => `${x.fidelity.minPooled.toFixed(5)} / ${x.fidelity.minToken.toFixed(4)}`;
    add({
      label: `Edgebone ${plan} edge artifact, WASM`,
      files: model.bytes,
      peak: built.measured,
      fidelity: `${f(built)} (outliers: ${f(outlierReport)})`,
      forward: (b) => model.forward(b),
    });
  }

  const batches = { "1x128": sampleBatch(backbone, preprocessor, 1), "2x128": sampleBatch(backbone, preprocessor, 2) };
  for (const row of rows) for (const batch of Object.values(batches)) await row.forward(batch); // warm-up
  for (let i = 0; i < iterations; i++) {
    for (const row of rows) {
      for (const [key, batch] of Object.entries(batches)) {
        const t0 = performance.now();
        await row.forward(batch);
        row.times[key].push(performance.now() - t0);
      }
    }
    log(`${preset}: iteration ${i + 1}/${iterations}`);
  }
  const gemm = await gemmCeiling(backbone.config.hiddenDim, backbone.config.intermediateDim, backbone.config.numLayers, wasm, iterations);
  const tps = (row: Row, key: "1x128" | "2x128") => (batches[key].batchSize * batches[key].sequenceLength * 1000) / median(row.times[key]);
  const [base, node] = rows;
  report.push(
    `\n### ${preset} (${(backbone.countParams() / 1e6).toFixed(1)}M parameters, ${preprocessor ? "real tokenizer, real text" : "token ids"})\n`,
    "| model | files (MiB) | peak isolate memory 1×128 / 2×128 (MiB) | WASM memory (MiB) | tokens/s 1×128 | tokens/s 2×128 | vs fp32 WASM | vs node fp32 1 thread | pooled / token cosine vs fp32 |",
    "|---|---|---|---|---|---|---|---|---|",
  );
  for (const row of rows) {
    const peak = row.peak ? `${mib(row.peak.peak_bytes["1x128"])} / ${mib(row.peak.peak_bytes["2x128"])}` : "—";
    const ratio = (other: Row) => `${(tps(row, "1x128") / tps(other, "1x128")).toFixed(2)}× / ${(tps(row, "2x128") / tps(other, "2x128")).toFixed(2)}×`;
    report.push(
      `| ${row.label} | ${row.files === null ? "—" : mib(row.files)} | ${peak} | ${row.peak ? mib(row.peak.wasm_memory_bytes) : "—"} | ${tps(row, "1x128").toFixed(0)} | ${tps(row, "2x128").toFixed(0)} | ${ratio(base)} | ${ratio(node)} | ${row.fidelity ?? "—"} |`,
    );
  }
  const edge = rows.find((r) => r.label.startsWith("Edgebone"))?.peak;
  if (edge) report.push(`\nPeak parts (Edgebone ${PLANS[preset]?.[0] ?? "int8"}): worker code heap ${mib(edge.code_heap_bytes)} MiB, tokenizer heap ${mib(edge.tokenizer_heap_bytes)} MiB, load ${edge.load_ms} ms (load peak ${mib(edge.peak_bytes.load)} MiB), largest uncollected garbage ${mib(edge.garbage_bytes)} MiB.`);
  report.push(gemm);
  rmSync(dir, { recursive: true, force: true });
}
console.log(report.join("\n"));

/**
 * The model's feed-forward GEMMs alone: `layers` × ([128, H]·[H, I], then [128, I]·[I, H]) chained in one graph
 * (so that feeding and reading back tensors is amortised as in the model): int8 (DynamicQuantizeMatMul, the int8
 * plan's op) and fp32 in WASM, fp32 in onnxruntime-node on 1 thread, interleaved. The int8-WASM / node ratio here
 * bounds the model's: the model runs these GEMMs plus attention, GELU and LayerNorm, which int8 does not speed up.
 */
async function gemmCeiling(H: number, I: number, layers: number, wasm: OnnxRuntime, iterations: number): Promise<string> {
  const M = 128;
  const matrix = (K: number, N: number, seed: number) => ({ dtype: "float32" as const, shape: [K, N], data: Float32Array.from({ length: K * N }, (_, i) => Math.sin(i + seed) * 0.02) });
  const up = matrix(H, I, 1);
  const down = matrix(I, H, 2);
  const graph = (int8: boolean) => {
    const g = new GraphBuilder("gemm", int8 ? { weights: new QuantizedWeights(parsePlan("int8")) } : {});
    let y = g.input("x", "float32", [M, H]);
    const dense = (kernel: typeof up, name: string) => g.options.weights?.dense(g, y, kernel, undefined, "ffn", name) ?? g.op("MatMul", [y, g.weight(name, kernel)]);
    for (let l = 0; l < layers; l++) {
      y = dense(up, `up_${l}`);
      y = dense(down, `down_${l}`);
    }
    g.output(y, "y", "float32", [M, H]);
    return g.encode();
  };
  const node = nodeRuntime({ threads: 1 });
  const x = Float32Array.from({ length: M * H }, (_, i) => Math.cos(i));
  const cases = [
    { label: "fp32 MatMul, WASM", rt: wasm, int8: false },
    { label: "int8 DynamicQuantizeMatMul, WASM", rt: wasm, int8: true },
    { label: "fp32 MatMul, onnxruntime-node 1 thread", rt: node, int8: false },
  ];
  const runs = await Promise.all(cases.map(async (c) => ({ ...c, session: await c.rt.ort.InferenceSession.create(graph(c.int8), c.rt.sessionOptions), ms: [] as number[] })));
  for (let i = 0; i < 2 + iterations * 2; i++) {
    for (const r of runs) {
      const t0 = performance.now();
      await r.session.run({ x: new r.rt.ort.Tensor("float32", x, [M, H]) });
      if (i >= 2) r.ms.push(performance.now() - t0);
    }
  }
  const gops = (ms: number) => (4 * layers * M * H * I) / ms / 1e6;
  const [f32, i8, nodeF32] = runs.map((r) => gops(median(r.ms)));
  return [
    `\nThe feed-forward GEMMs alone, ${layers} × [${M}, ${H}]·[${H}, ${I}]·[${I}, ${H}] in one graph, interleaved:`,
    ...runs.map((r) => `- ${r.label}: ${gops(median(r.ms)).toFixed(1)} GOP/s`),
    `- int8 WASM = ${(i8 / f32).toFixed(2)}× fp32 WASM and **${(i8 / nodeF32).toFixed(2)}× node fp32 (1 thread)**: the ceiling of the model's ratios.`,
  ].join("\n");
}
