/**
 * Edge worker benchmark (`npm run bench:edge`): the production worker under `wrangler dev` (local D1/R2), serving
 * DistilBERT-base from the isolate through its int8 edge artifact (`demo-distilbert` of `npm start`: the real
 * architecture, random weights, the demo WordPiece tokenizer). Reports:
 *  - cold start: the isolate's first /v1/embeddings for the preset (R2 → artifact loaded → first embedding), and
 *    the second request (warm);
 *  - latency p50/p99 and requests/s of /v1/embeddings, one row of 128 token ids per request, under 1, 4 and 16
 *    concurrent clients (one WASM thread serves them all: latency grows with the queue, throughput does not).
 *
 *   npm run bench:edge [-- --requests 48] [--preset-dir <a demo-distilbert dir made earlier>]
 */
import { existsSync } from "node:fs";
import { parseArgs } from "node:util";
import { startWranglerPlatform } from "../helpers/wrangler-dev.js";
import { writeDemoDistilBertBase } from "../../workers/tools/demo-presets.js";

const { values } = parseArgs({ options: { requests: { type: "string", default: "48" }, "preset-dir": { type: "string" } } });
const REQUESTS = Number(values.requests);
const log = (msg: string) => console.error(`[bench:edge] ${msg}`);
const PRESET = "demo-distilbert";

const presetDir = values["preset-dir"];
const source = presetDir && existsSync(`${presetDir}/edge/manifest.json`) ? presetDir : (dir: string) => writeDemoDistilBertBase(dir, (l) => log(l));
log("starting wrangler dev and installing the presets…");
const platform = await startWranglerPlatform({}, 120_000, { [PRESET]: source });
// 128 token ids: [CLS] … [SEP] of the demo vocabulary (a text's length would depend on its tokenizer)
const ids = [2, ...Array.from({ length: 126 }, (_, i) => 60 + ((i * 37) % 500)), 3];

async function embed(): Promise<{ ms: number; status: number; backend: string | null }> {
  const t0 = performance.now();
  const res = await fetch(new URL("/v1/embeddings", platform.url), {
    method: "POST",
    headers: { authorization: `Bearer ${platform.key}`, "content-type": "application/json" },
    body: JSON.stringify({ model: PRESET, input: [ids] }),
  });
  await res.arrayBuffer();
  return { ms: performance.now() - t0, status: res.status, backend: res.headers.get("x-edgebone-backend") };
}

try {
  const cold = await embed();
  if (cold.status !== 200 || cold.backend !== "isolate") throw new Error(`first request: ${cold.status} on ${cold.backend}: ${platform.logs().slice(-2000)}`);
  const warm = await embed();
  const results: Record<string, unknown>[] = [];
  for (const clients of [1, 4, 16]) {
    const latencies: number[] = [];
    const statuses = new Map<number, number>();
    let next = 0;
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: clients }, async () => {
        while (next++ < REQUESTS) {
          const r = await embed();
          statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
          if (r.status === 200) latencies.push(r.ms);
        }
      }),
    );
    const seconds = (performance.now() - t0) / 1000;
    latencies.sort((a, b) => a - b);
    const q = (p: number) => Math.round(latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))]);
    results.push({ clients, requests: REQUESTS, statuses: Object.fromEntries(statuses), p50_ms: q(0.5), p99_ms: q(0.99), requests_per_s: +(latencies.length / seconds).toFixed(2) });
    log(`${clients} clients done`);
  }
  // onnxruntime's WebAssembly memory in the isolate after serving (and how it grew: shared/runtime/ort-web.ts)
  const info = (await (await fetch(new URL("/info", platform.url))).json()) as { isolate_wasm_memory_mb: number; isolate_wasm_growth: string | null };
  const isolate = { wasm_memory_mb: info.isolate_wasm_memory_mb, wasm_growth: info.isolate_wasm_growth };
  console.log(JSON.stringify({ preset: `${PRESET} (DistilBERT-base, int8 edge artifact)`, request: "/v1/embeddings, 1 row × 128 token ids", cold_start_ms: Math.round(cold.ms), warm_ms: Math.round(warm.ms), load: results, isolate }, null, 2));
} finally {
  await platform.stop();
}
