/**
 * GPU runner throughput on CPU (issue #6): a Gemma 2-architecture model (hidden 1024, 4 blocks, 8 query / 4 KV
 * heads of 128, GeGLU 8192, sliding window, soft caps, post norms; vocabulary 16,384: ~80M parameters, random
 * weights) served by an in-process runner: signed HTTP requests through the Hono app (`app.request()`, no
 * socket), the runner's admission, batcher and LoRA session, and the binary response.
 *
 * Configurations, interleaved round-robin (median of --iterations rounds after a warm-up round; configurations
 * shorter than 0.5 s run several times per round):
 * - one request of batch 1 / 8 / 32 rows × --seq tokens, with no adapter or with 8 different adapters
 *   (KerasHub per-head, rank 8; row i uses adapter i mod 8);
 * - 32 concurrent single-row requests with mixed adapters, batched by the runner (closed loop);
 * - the library's own session.forward of batch 32 without the runner, for the runner's overhead.
 *
 * --provider runs the runner (and the library baseline) on cuda or webgpu instead of cpu, and fails if that provider
 * is unavailable rather than measure the CPU fallback; --json prints the results as one JSON object (check:gpu).
 *
 *   npm run bench:runner [-- --iterations 3 --seq 128 --threads 0 --provider cpu --json]
 */
import { availableParallelism, loadavg } from "node:os";
import { join } from "node:path";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { parseArgs } from "node:util";
import { GemmaBackbone, initLora, loraSafetensorsFormat, tokenBatch } from "../../shared/node/index.js";
import { HEADERS, collectPresetFiles, importSigningKey, publishAdapter, publishPreset, signRequest, type ForwardRequest } from "../../shared/runner/index.js";
import { createApp } from "../../gpu-runner/app.js";
import { defaultConfig } from "../../gpu-runner/config.js";
import { requireProvider } from "../../gpu-runner/execution.js";
import { silentLogger } from "../../gpu-runner/log.js";
import { LocalDirStore } from "../../gpu-runner/object-store.js";
import { Runner } from "../../gpu-runner/runner.js";

const { values } = parseArgs({
  options: {
    iterations: { type: "string", default: "3" },
    seq: { type: "string", default: "128" },
    threads: { type: "string", default: "0" },
    provider: { type: "string", default: "cpu" },
    json: { type: "boolean", default: false },
  },
});
const iterations = Number(values.iterations);
const seq = Number(values.seq);
const threads = Number(values.threads) || availableParallelism();
const log = (msg: string) => console.error(`[bench:runner] ${msg}`);

const config = {
  vocabularySize: 16384,
  numLayers: 4,
  numQueryHeads: 8,
  numKeyValueHeads: 4,
  hiddenDim: 1024,
  intermediateDim: 8192,
  headDim: 128,
  useSlidingWindowAttention: true,
  slidingWindowSize: 4096,
  usePostFfwNorm: true,
  usePostAttentionNorm: true,
  attentionLogitSoftCap: 50,
  finalLogitSoftCap: 30,
};
const KEY = "bench-signing-key-0123456789abcdef0123456789";
const dir = mkdtempSync(join(tmpdir(), "edgebone-runner-bench-"));
const store = new LocalDirStore(join(dir, "store"));
const backbone = new GemmaBackbone({ ...config, seed: 1 });
log(`Gemma 2 architecture, ${(backbone.countParams() / 1e6).toFixed(1)}M parameters; publishing preset and 8 adapters to ${dir}`);
const files = collectPresetFiles();
await backbone.saveToPreset(files);
await publishPreset(store, "bench_gemma", files.files);
for (let i = 0; i < 8; i++) await publishAdapter(store, "bench", `a${i}`, await loraSafetensorsFormat.encode(initLora(backbone.loraTargets(), 8, 10 + i, true), backbone));

const execution = await requireProvider(values.provider!, threads);
const runner = await Runner.create(
  defaultConfig({ signingKeys: [KEY], cacheDir: join(dir, "cache"), maxBatchTokens: 32 * seq, maxClientBatchSize: 32, requestTimeoutMs: 600_000, preload: ["bench_gemma"] }),
  { store, execution, log: silentLogger },
);
const app = await createApp(runner);
const key = await importSigningKey(KEY);

const ids = (rows: number, salt: number) => Array.from({ length: rows }, (_, b) => Array.from({ length: seq }, (_, t) => 1 + ((salt * 131 + b * 977 + t * 17) % 16000)));

async function post(request: ForwardRequest): Promise<number> {
  const body = JSON.stringify(request);
  const res = await app.request(new Request("http://runner/v1/forward", { method: "POST", headers: { ...(await signRequest(key, "POST", "/v1/forward", body)), "content-type": "application/json" }, body }));
  if (res.status !== 200) throw new Error(`runner answered ${res.status}: ${await res.text()}`);
  await res.arrayBuffer();
  return Number(res.headers.get(HEADERS.batchRows));
}

interface Config {
  label: string;
  rows: number;
  /** One round; returns the rows of the batches it ran in. */
  run(round: number): Promise<number[]>;
}

const configs: Config[] = [];
for (const rows of [1, 8, 32]) {
  for (const mixed of [false, true]) {
    configs.push({
      label: `batch ${rows}, ${mixed ? (rows === 1 ? "1 of 8 adapters (rotating)" : "8 different adapters") : "no adapter"}`,
      rows,
      run: async (round) => [await post({ preset: "bench_gemma", ...(mixed ? { tenant: "bench", adapter: Array.from({ length: rows }, (_, r) => `a${(r + round) % 8}`) } : {}), token_ids: ids(rows, round) })],
    });
  }
}
configs.push({
  label: "32 concurrent 1-row requests, 8 adapters (runner-formed batches)",
  rows: 32,
  run: (round) => Promise.all(Array.from({ length: 32 }, (_, r) => post({ preset: "bench_gemma", tenant: "bench", adapter: `a${r % 8}`, token_ids: ids(1, round * 32 + r) }))),
});
const direct = await backbone.createSession(execution.runtime, { lora: true });
configs.push({
  label: "library session.forward, batch 32, no adapter (no runner)",
  rows: 32,
  run: async (round) => (await direct.forward(tokenBatch(ids(32, round)), { adapters: [] }), [32]),
});

const times = configs.map(() => [] as number[]);
const batchRows = configs.map(() => [] as number[]);
// Short configurations run several times back to back per round (about 0.5 s each), so they get as many samples
// as noise needs; the warm-up round measures how long each takes.
const reps = configs.map(() => 1);
const load = [loadavg()[0]];
for (let i = -1; i < iterations; i++) {
  for (const [c, cfg] of configs.entries()) {
    for (let r = 0; r < reps[c]; r++) {
      const t0 = performance.now();
      const rows = await cfg.run((i + 1) * 8 + r);
      const ms = performance.now() - t0;
      if (i < 0) reps[c] = Math.min(8, Math.max(1, Math.ceil(500 / ms)));
      else {
        times[c].push(ms);
        batchRows[c].push(...rows);
      }
    }
  }
  log(`round ${i + 2}/${iterations + 1}`);
}
load.push(loadavg()[0]);

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const results = configs.map((cfg, c) => {
  const ms = median(times[c]);
  return { label: cfg.label, rows: cfg.rows, batch_rows: [...new Set(batchRows[c])].sort((a, b) => a - b), median_ms: Math.round(ms), tokens_per_s: Math.round((cfg.rows * seq) / (ms / 1000)) };
});
if (values.json) {
  console.log(JSON.stringify({ provider: execution.provider, parameters: backbone.countParams(), seq, threads, iterations, load_average: load.map((l) => Number(l.toFixed(2))), results }));
} else {
  const base = new Map<number, number>();
  const lines = ["| configuration | rows per executed batch | median latency | tokens/s | vs. no adapter |", "|---|---|---|---|---|"];
  for (const r of results) {
    if (r.label.endsWith("no adapter")) base.set(r.rows, r.tokens_per_s);
    const vs = r.label.includes("adapter") && base.has(r.rows) ? `${(r.tokens_per_s / base.get(r.rows)!).toFixed(2)}×` : "";
    lines.push(`| ${r.label} | ${r.batch_rows.join(", ")} | ${r.median_ms} ms | ${r.tokens_per_s.toLocaleString("en-US")} | ${vs} |`);
  }
  console.log(`Gemma 2 architecture (hidden 1024, 4 blocks, ${(backbone.countParams() / 1e6).toFixed(1)}M parameters), ${seq} tokens per row, onnxruntime-node ${execution.provider} ${threads} thread(s), median of ${iterations} rounds (× ${Math.min(...reps)}–${Math.max(...reps)} runs); 1-min load average ${load.map((l) => l.toFixed(2)).join(" → ")}`);
  console.log(lines.join("\n"));
}
await direct.release();
await runner.close();
rmSync(dir, { recursive: true, force: true });
