/**
 * Encoders bigger than one isolate (issue #12): real-size XLM-R / RoBERTa-large architectures with seeded random
 * weights, installed as the install tool does (int8 edge artifact; no plan fits one 128 MiB isolate, so it is cut into
 * a pipeline of isolates, each stage measured in a fresh process), then served by the production worker under
 * `wrangler dev` through PipelineStage Durable Objects. Reports, per model, from one run:
 *
 *   - every stage's peak isolate memory (measured in a fresh process with the worker's code, as edge-measure.ts does)
 *     and its time for one row of 128 tokens;
 *   - the pipeline's output vs the single-process quantized model (EdgeModel in Node, same onnxruntime-web build) and
 *     vs the fp32 graph (pooled and per-token cosine; the edge fidelity bars are 0.999 / 0.995);
 *   - latency of one 1×128 request and throughput under 16 clients, pipeline vs the same artifact in one isolate
 *     (the same preset without its plan, placed in the isolate: wrangler dev runs with a budget that holds it).
 *
 * wrangler dev runs every Durable Object of the script in the worker's own isolate, on one thread: the stages cannot
 * run in parallel here, so the throughput ratio measures the pipeline's overhead, not its parallelism (which needs
 * stages in separate isolates, as Cloudflare places them); the stage times give the pipelined bound.
 *
 *   npm run bench:pipeline [-- --presets xlm_roberta_base_multi,roberta_large_en --requests 48]
 */
import { linkSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { Backbone, EDGE_MANIFEST, EdgeModel, ISOLATE_BUDGET_BYTES, describeStage, directoryFiles, fidelity, nodeRuntime, readEdgeManifest, sampleBatch, toFloat32, wasmRuntime, type TokenBatch } from "../../shared/node/index.js";
import { camelKeys } from "../../shared/backbone/config.js";
import { classByName } from "../../shared/backbone/registry.js";
import type { EncoderBackbone } from "../../shared/models/encoder/encoder-backbone.js";
import { writeEdgeArtifact } from "../../shared/node/edge-build.js";
import { measurePipelineStage } from "../../shared/node/edge-measure.js";
import { startWranglerPlatform, type WranglerPlatform } from "../helpers/wrangler-dev.js";

const { values } = parseArgs({
  options: {
    presets: { type: "string", default: "xlm_roberta_base_multi,roberta_large_en" },
    requests: { type: "string", default: "48" },
    "work-dir": { type: "string" },
  },
});
const REQUESTS = Number(values.requests);
const WORKER = fileURLToPath(new URL("../../workers/app.ts", import.meta.url));
const log = (msg: string) => console.error(`[bench:pipeline] ${msg}`);
const mib = (b: number) => (b / 2 ** 20).toFixed(1);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/**
 * The preset directory `dir` again under `copy` (hard links) with `manifest` as its edge manifest, without the float
 * weights (the edge never reads them; uploading them would only slow the install).
 */
function edgeCopy(dir: string, copy: string, manifest: object): string {
  rmSync(copy, { recursive: true, force: true });
  const walk = (d: string): string[] => readdirSync(d, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(d, e.name)) : [join(d, e.name)]));
  for (const file of walk(dir)) {
    const name = relative(dir, file);
    if (name === EDGE_MANIFEST || name === "model.safetensors") continue;
    mkdirSync(dirname(join(copy, name)), { recursive: true });
    linkSync(file, join(copy, name));
  }
  writeFileSync(join(copy, EDGE_MANIFEST), JSON.stringify(manifest));
  return copy;
}

interface Served {
  ms: number;
  backend: string | null;
  data: Float32Array;
}

async function forward(platform: WranglerPlatform, preset: string, batch: TokenBatch): Promise<Served> {
  const rows = Array.from({ length: batch.batchSize }, (_, b) => Array.from(batch.tokenIds.subarray(b * batch.sequenceLength, (b + 1) * batch.sequenceLength)));
  const t0 = performance.now();
  const res = await fetch(new URL(`/v1/models/${preset}/forward`, platform.url), {
    method: "POST",
    headers: { authorization: `Bearer ${platform.key}`, "content-type": "application/json", accept: "application/octet-stream" },
    body: JSON.stringify({ token_ids: rows }),
  });
  const body = await res.arrayBuffer();
  const ms = performance.now() - t0;
  if (!res.ok) throw new Error(`${preset}: ${res.status} ${new TextDecoder().decode(body)}`);
  return { ms, backend: res.headers.get("x-edgebone-backend"), data: new Float32Array(body) };
}

/**
 * Requests per second of `clients` concurrent clients over REQUESTS requests. wrangler dev's proxy sometimes answers
 * 503 "Your worker restarted mid-request" under such bursts (see BENCHMARKS.md, the load benchmark): those are
 * counted, not fatal, and left out of the rate.
 */
async function load(platform: WranglerPlatform, preset: string, batch: TokenBatch, clients: number): Promise<{ rps: number; proxy503: number }> {
  let next = 0;
  let proxy503 = 0;
  const t0 = performance.now();
  await Promise.all(Array.from({ length: clients }, async () => {
    while (next++ < REQUESTS) {
      await forward(platform, preset, batch).catch((e: Error) => {
        if (!/restarted mid-request/.test(e.message)) throw e;
        proxy503++;
      });
    }
  }));
  return { rps: (REQUESTS - proxy503) / ((performance.now() - t0) / 1000), proxy503 };
}

const root = values["work-dir"] ?? mkdtempSync(join(tmpdir(), "edgebone-bench-pipeline-"));
const report: string[] = [];
try {
  const extra: Record<string, string> = {};
  const models: { preset: string; backbone: EncoderBackbone; batch: TokenBatch; quantized: Float32Array; float: Float32Array; section: string[] }[] = [];
  for (const preset of values.presets!.split(",")) {
    const info = Backbone.presets[preset];
    const backbone = new (classByName(info.className)!)(camelKeys(info.config)) as EncoderBackbone;
    const dir = join(root, preset);
    log(`${preset}: ${backbone.countParams().toLocaleString("en-US")} parameters, random weights → ${dir}`);
    let manifest = await readEdgeManifest(directoryFiles(dir)).catch(() => null);
    let fidelityLine = "(artifact reused from --work-dir)";
    if (!manifest?.pipeline) {
      await backbone.saveToPreset(directoryFiles(dir));
      const t0 = performance.now();
      // int8, as `preset:install --quantize int8` builds it (auto ends there too for these models, after trying
      // mixed and int4, none of which fits one isolate either)
      const built = await writeEdgeArtifact(backbone, dir, { plan: "int8", budgetBytes: ISOLATE_BUDGET_BYTES, preload: [WORKER], log });
      manifest = built.manifest;
      if (!manifest?.pipeline) throw new Error(`${preset}: no pipeline plan (${built.reports.map((r) => `${r.plan}: ${r.rejected}`).join("; ")})`);
      log(`${preset}: install-time build, checks and measurements took ${((performance.now() - t0) / 1000).toFixed(0)} s`);
      const f = built.reports[0].fidelity;
      fidelityLine = `Install-time fidelity of the ${manifest.plan} artifact vs fp32 (calibration batches, random ids): pooled ${f.minPooled.toFixed(5)}, token ≥ ${f.minToken.toFixed(4)}.`;
    }
    const plan = manifest.pipeline;
    const stageRows: string[] = [];
    const blockMs: number[] = [];
    for (const [k, stage] of plan.stages.entries()) {
      const m = await measurePipelineStage(dir, k, [WORKER]);
      stageRows.push(`| ${describeStage(plan, k)} | ${mib(stage.bytes)} | ${mib(stage.estimated_bytes)} | ${mib(m.peak_bytes)} | ${mib(m.wasm_memory_bytes)} | ${m.row_ms} |`);
      if (stage.kind === "blocks") blockMs.push(m.row_ms);
    }
    const chainMs = blockMs.reduce((a, b) => a + b, 0);

    // Same batch through the single-process quantized model (Node, same onnxruntime-web build) and the fp32 graph.
    const batch = sampleBatch(backbone, null, 1);
    const whole = await EdgeModel.load(directoryFiles(dir), backbone, wasmRuntime());
    const quantized = Float32Array.from(toFloat32((await whole.forward(batch)).sequenceOutput));
    const t1 = performance.now();
    for (let i = 0; i < 5; i++) await whole.forward(batch);
    const nodeMs = (performance.now() - t1) / 5;
    await whole.release();
    const floatSession = await backbone.createSession(nodeRuntime({ threads: 0 }));
    const float = Float32Array.from(toFloat32((await floatSession.forward(batch)).sequenceOutput));
    await floatSession.release();

    const { pipeline: _, ...single } = manifest;
    extra[`${preset}-pipe`] = edgeCopy(dir, join(root, `${preset}-pipe`), manifest);
    extra[`${preset}-one`] = edgeCopy(dir, join(root, `${preset}-one`), single);
    models.push({
      preset,
      backbone,
      batch,
      quantized,
      float,
      section: [
        `\n### ${preset} (${(backbone.countParams() / 1e6).toFixed(0)}M parameters, ${manifest.plan}, ${mib(manifest.total_bytes)} MiB of files, ${plan.stages.length} stages, basis: ${plan.basis})\n`,
        fidelityLine,
        `Single process (Node, onnxruntime-web ${manifest.onnxruntime_web}, whole artifact): ${nodeMs.toFixed(0)} ms per 1×128 row.\n`,
        "| stage | files (MiB) | predicted peak (MiB) | measured peak (MiB) | of it WASM (MiB) | ms per 128-token row |",
        "|---|---|---|---|---|---|",
        ...stageRows,
        `\nBlock stages: ${chainMs.toFixed(0)} ms per row in all, the slowest ${Math.max(...blockMs).toFixed(0)} ms: with each stage in an isolate of its own (on its own core), the pipeline's throughput bound is ${(chainMs / Math.max(...blockMs)).toFixed(2)}× one isolate's.`,
      ],
    });
  }

  // One wrangler dev per mode: its one isolate holds every stage of the pipelines (the budget is raised so that they
  // fit together), or the whole models; both at once would be twice the models in one isolate.
  const served: Record<"pipe" | "one", { cold: Served; restarts: number; latency: number; throughput: { rps: number; proxy503: number } }[]> = { pipe: [], one: [] };
  for (const mode of ["pipe", "one"] as const) {
    log(`starting wrangler dev and installing the ${mode === "pipe" ? "pipelined" : "one-isolate"} presets…`);
    const presets = Object.fromEntries(models.map((m) => [`${m.preset}-${mode}`, extra[`${m.preset}-${mode}`]]));
    const platform = await startWranglerPlatform({ EDGE_MEMORY_BUDGET_MB: "8192", EDGE_PIPELINE_TIMEOUT_MS: "600000" }, 120_000, presets);
    try {
      for (const m of models) {
        const preset = `${m.preset}-${mode}`;
        const cold = await forward(platform, preset, m.batch);
        if (cold.backend !== (mode === "pipe" ? "pipeline" : "isolate")) throw new Error(`${preset} ran on ${cold.backend}`);
        // wrangler dev sometimes restarts workerd once after the first large load (the request answers 503 "Your
        // worker restarted mid-request"): warm up until three requests in a row succeed, and report the restarts.
        let restarts = 0;
        for (let ok = 0; ok < 3; ) {
          try {
            await forward(platform, preset, m.batch);
            ok++;
          } catch (e) {
            if (!/restarted mid-request/.test((e as Error).message) || ++restarts > 3) throw e;
            ok = 0;
          }
        }
        const latency: number[] = [];
        for (let i = 0; i < 10; i++) latency.push((await forward(platform, preset, m.batch)).ms);
        served[mode].push({ cold, restarts, latency: median(latency), throughput: await load(platform, preset, m.batch, 16) });
        log(`${preset}: served`);
      }
    } catch (e) {
      log(`wrangler dev said: ${platform.logs().slice(-3000)}`);
      throw e;
    } finally {
      await platform.stop();
    }
  }
  models.forEach((m, i) => {
    const [pipe, one] = [served.pipe[i], served.one[i]];
    const vsQuantized = fidelity(m.quantized, pipe.cold.data, m.batch.paddingMask, 1);
    const vsFloat = fidelity(m.float, pipe.cold.data, m.batch.paddingMask, 1);
    const worst = m.quantized.reduce((w, v, j) => Math.max(w, Math.abs(v - pipe.cold.data[j])), 0);
    const row = (label: string, a: number, b: number, digits = 0) => `| ${label} | ${a.toFixed(digits)} | ${b.toFixed(digits)} | ${(a / b).toFixed(2)}× |`;
    report.push(
      ...m.section,
      "",
      `Served under wrangler dev, one 1×128 request: pipeline output vs the single-process quantized model: pooled cosine ${vsQuantized.minPooled.toFixed(6)}, token ≥ ${vsQuantized.minToken.toFixed(6)} (max |Δ| ${worst.toExponential(1)}); vs fp32: pooled ${vsFloat.minPooled.toFixed(5)}, token ≥ ${vsFloat.minToken.toFixed(4)}.\n`,
      "| | pipeline | one isolate | ratio |",
      "|---|---|---|---|",
      row("cold first request (ms: R2 → loaded → answer)", pipe.cold.ms, one.cold.ms),
      row("latency 1×128, median of 10 (ms)", pipe.latency, one.latency),
      row(`throughput, 16 clients, ${REQUESTS} requests (req/s)`, pipe.throughput.rps, one.throughput.rps, 2),
      `\nworkerd restarts while warming up (wrangler dev): pipeline ${pipe.restarts}, one isolate ${one.restarts}; wrangler dev proxy 503s under 16 clients: pipeline ${pipe.throughput.proxy503}, one isolate ${one.throughput.proxy503}.`,
    );
  });
} finally {
  if (!values["work-dir"]) rmSync(root, { recursive: true, force: true });
}
console.log(report.join("\n"));
