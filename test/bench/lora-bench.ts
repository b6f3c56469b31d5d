/**
 * LoRA serving cost (issue #4): a batch of 8 × 128 tokens on distil_bert_base_en_uncased (random weights)
 * with no adapter (plain session), and through one LoRA-input session with: no adapter, one adapter shared by
 * all rows, and 8 different adapters (one per row); KerasHub per-head adapters and PEFT-style flat ones, rank 8
 * and 64. Configurations are interleaved round-robin; the result is each one's latency over the plain session's.
 *
 *   npm run bench:lora [-- --iterations 5 --runtimes wasm,node]
 */
import { parseArgs } from "node:util";
import { Backbone, initLora, nodeRuntime, tokenBatch, wasmRuntime, type ForwardOptions, type LoraAdapter, type LoraTarget } from "../../shared/node/index.js";

const { values } = parseArgs({ options: { iterations: { type: "string", default: "5" }, runtimes: { type: "string", default: "wasm,node" } } });
const iterations = Number(values.iterations);
const log = (msg: string) => console.error(`[bench:lora] ${msg}`);

const backbone = await Backbone.fromPreset("distil_bert_base_en_uncased", { loadWeights: false, seed: 0 });
const targets = backbone.loraTargets();
const ids = Array.from({ length: 8 }, (_, b) => Array.from({ length: 128 }, (_, t) => 1000 + ((b * 131 + t * 17) % 20000)));
const batch = tokenBatch(ids);

function flat(rank: number, seed: number): LoraAdapter {
  const kerasLike = initLora(targets, rank, seed, true); // reuse the seeded init for values, reshape to flat
  const factors = new Map(targets.map((t: LoraTarget) => {
    const f = kerasLike.factors.get(t.kernelPath)!;
    const a = { dtype: "float32" as const, shape: [t.inputDim, rank], data: (f.a.data as Float32Array).slice(0, t.inputDim * rank) };
    const b = { dtype: "float32" as const, shape: [rank, t.heads * t.headDim], data: new Float32Array(rank * t.heads * t.headDim).fill(0.01) };
    return [t.kernelPath, { a, b }];
  }));
  return { rank, scale: 2, layout: "flat", factors };
}

interface Config { label: string; options: ForwardOptions; plain?: boolean }
const configs: Config[] = [
  { label: "no adapter (plain session)", options: {}, plain: true },
  { label: "LoRA session, no adapter", options: { adapters: [] } },
];
for (const rank of [8, 64]) {
  for (const layout of ["per_head", "flat"] as const) {
    const make = (seed: number) => (layout === "per_head" ? initLora(targets, rank, seed, true) : flat(rank, seed));
    const name = layout === "per_head" ? "KerasHub" : "PEFT";
    const shared = make(1);
    configs.push({ label: `${name} rank ${rank}, 1 shared adapter`, options: { adapters: [shared] } });
    const eight = Array.from({ length: 8 }, (_, i) => make(10 + i));
    configs.push({ label: `${name} rank ${rank}, 8 different adapters`, options: { adapters: eight, adapterIds: [0, 1, 2, 3, 4, 5, 6, 7] } });
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const results: string[] = [];
for (const runtime of values.runtimes!.split(",").map((r) => (r === "wasm" ? wasmRuntime() : nodeRuntime({ threads: 1 })))) {
  const plain = await backbone.createSession(runtime, { lora: false });
  const lora = await backbone.createSession(runtime, { lora: true });
  const times = configs.map(() => [] as number[]);
  for (let i = -1; i < iterations; i++) {
    for (const [c, config] of configs.entries()) {
      const t0 = performance.now();
      await (config.plain ? plain : lora).forward(batch, config.options);
      if (i >= 0) times[c].push(performance.now() - t0); // iteration -1 warms up (and stacks adapters once)
    }
    log(`${runtime.name}: iteration ${i + 2}/${iterations + 1}`);
  }
  const base = median(times[0]);
  results.push(`\n${runtime.name === "wasm" ? "onnxruntime-web WASM, 1 thread" : "onnxruntime-node CPU, 1 thread"}\n`);
  results.push("| configuration | median latency | vs no adapter |", "|---|---|---|");
  configs.forEach((config, c) => results.push(`| ${config.label} | ${median(times[c]).toFixed(0)} ms | ${(median(times[c]) / base).toFixed(2)}× |`));
  await plain.release();
  await lora.release();
}
console.log(`distil_bert_base_en_uncased, random weights, batch 8 × 128, median of ${iterations} interleaved runs`);
console.log(results.join("\n"));
