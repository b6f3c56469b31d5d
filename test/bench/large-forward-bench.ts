/**
 * A model beyond one ONNX protobuf on onnxruntime-node (issue #6: full-size Gemma on the runner): the
 * `gemma2_2b_en` architecture (vocabulary 256,000 × hidden 2304: the embedding alone is 2.2 GiB in float32) with
 * random weights, truncated to --layers blocks (default 4: ~0.9B parameters, 3.6 GB) so it fits this 23 GB CI-class
 * machine; --layers 26 is the full model. Builds the graph with its weights in an ONNX external data file, creates
 * the session from it (as the runner does for such presets), and reports build / session times and tokens/s of one
 * batch × --seq forward pass (median of --iterations).
 *
 * --provider cuda or webgpu runs it there (and fails if that provider is unavailable; check:gpu).
 *
 * (`npm run bench:large` serves the same architecture from a runner process, from a published checkpoint.)
 *
 *   npm run bench:large-forward [-- --layers 4 --batch 1 --seq 128 --iterations 3 --threads 0 --dtype float32 --provider cpu]
 */
import { availableParallelism } from "node:os";
import { parseArgs } from "node:util";
import { Backbone, BackboneSession, GemmaBackbone, tokenBatch, type FloatDType } from "../../shared/node/index.js";
import { requireProvider } from "../../gpu-runner/execution.js";

const { values } = parseArgs({
  options: {
    layers: { type: "string", default: "4" },
    batch: { type: "string", default: "1" },
    seq: { type: "string", default: "128" },
    iterations: { type: "string", default: "3" },
    threads: { type: "string", default: "0" },
    dtype: { type: "string", default: "float32" },
    provider: { type: "string", default: "cpu" },
  },
});
const log = (msg: string) => console.error(`[bench:large-forward] ${msg}`);
const threads = Number(values.threads) || availableParallelism();
const [batch, seq, iterations] = [Number(values.batch), Number(values.seq), Number(values.iterations)];

// Before building gigabytes of weights: fails at once if the provider is unavailable.
const execution = await requireProvider(values.provider!, threads);
const full = Backbone.presets.gemma2_2b_en;
const config = { ...(await GemmaBackbone.fromPreset("gemma2_2b_en", { loadWeights: false })).config, numLayers: Number(values.layers), dtype: values.dtype as FloatDType };
const backbone = new GemmaBackbone(config);
log(`gemma2_2b_en architecture with ${config.numLayers} of ${full.config.num_layers} blocks: ${(backbone.countParams() / 1e9).toFixed(2)}B parameters, weights ${values.dtype}`);

let t = performance.now();
const model = backbone.toOnnxModel();
const buildMs = performance.now() - t;
if (model instanceof Uint8Array) throw new Error("expected the weights to need external data");
log(`graph ${(model.model.byteLength / 1024).toFixed(0)} KiB + external data ${(model.externalData.bytes / 2 ** 30).toFixed(2)} GiB (built in ${(buildMs / 1000).toFixed(1)} s, weights initialised lazily on the way)`);

t = performance.now();
const session = await BackboneSession.create(backbone, execution.runtime, model);
const sessionMs = performance.now() - t;
log(`session created in ${(sessionMs / 1000).toFixed(1)} s (external data written, onnxruntime-node loaded it)`);

const ids = Array.from({ length: batch }, (_, b) => Array.from({ length: seq }, (_, i) => 2 + ((b * 7919 + i * 104729) % 255000)));
const times: number[] = [];
for (let i = 0; i <= iterations; i++) {
  t = performance.now();
  await session.forward(tokenBatch(ids));
  if (i > 0) times.push(performance.now() - t); // round 0 warms up
}
times.sort((a, b) => a - b);
const median = times[Math.floor(times.length / 2)];
const nonEmbedding = backbone.countParams() - config.vocabularySize * config.hiddenDim;
const result = {
  architecture: "gemma2_2b_en",
  provider: values.provider,
  layers: config.numLayers,
  parameters: backbone.countParams(),
  weight_dtype: values.dtype,
  external_data_gib: Number((model.externalData.bytes / 2 ** 30).toFixed(2)),
  session_create_s: Number((sessionMs / 1000).toFixed(1)),
  batch,
  seq,
  threads,
  forward_ms: Math.round(median),
  tokens_per_s: Math.round((batch * seq) / (median / 1000)),
  gflops_per_s: Math.round((2 * nonEmbedding * batch * seq) / (median / 1000) / 1e9),
  rss_peak_gib: Number((process.resourceUsage().maxRSS / 2 ** 20).toFixed(1)),
};
console.log(JSON.stringify(result, null, 2));
