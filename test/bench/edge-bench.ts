/**
 * Edge worker benchmark (`npm run bench:edge`): the production entry (workers/index.ts) in workerd (Miniflare, the
 * workerd wrangler dev runs), real local D1/R2, a DistilBERT-architecture preset sized for the 128 MB isolate
 * budget (vocab 8192, 6 layers, hidden 256, 4 heads, FFN 1024; random weights). Reports:
 *  - cold start: first /v1/embeddings after the isolate starts (R2 read, graph build, session creation);
 *  - latency p50/p99 and requests/s of /v1/embeddings (1 × 32 token ids) under 16 concurrent clients;
 *  - peak RSS of the workerd process (VmHWM: the isolate plus the runtime itself).
 */
import { readFileSync, readdirSync } from "node:fs";
import { execSync } from "node:child_process";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { applyMigrations, edgeWorker, putPreset } from "../helpers/edge-platform.js";
import { Miniflare } from "miniflare";
import { DistilBertBackbone } from "../../shared/node/index.js";
import { collectPresetFiles } from "../../shared/runner/layout.js";

const CLIENTS = 16;
const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 800);
const TOKENS = 32;
const ADMIN = "bench-admin";

const options = { ...(await edgeWorker({ ADMIN_TOKEN: ADMIN })), d1Persist: false, r2Persist: false };

const backbone = new DistilBertBackbone({ vocabularySize: 8192, numLayers: 6, numHeads: 4, hiddenDim: 256, intermediateDim: 1024, maxSequenceLength: 512, seed: 3 });
const files = collectPresetFiles();
await backbone.saveToPreset(files);

function workerdPids(): number[] {
  return execSync("ps -eo pid,ppid,args").toString().split("\n").filter((l) => /workerd serve/.test(l)).map((l) => Number(l.trim().split(/\s+/)[0]));
}
function peakRssMiB(pids: number[]): number {
  let max = 0;
  for (const pid of pids) {
    try {
      const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
      if (m) max = Math.max(max, Number(m[1]) / 1024);
    } catch {
      // gone
    }
  }
  return max;
}

const before = new Set(workerdPids());
const mf = new Miniflare(options);
await mf.ready;
await applyMigrations(mf);
const bucket = (await mf.getR2Bucket("BUCKET")) as unknown as { put(key: string, value: Uint8Array): Promise<unknown> };
await putPreset(bucket, "bench", files.files);

const post = async (path: string, token: string, body: unknown) =>
  mf.dispatchFetch(`http://edge${path}`, { method: "POST", headers: { authorization: `Bearer ${token}`, "content-type": "application/json" }, body: JSON.stringify(body) });
const tenant = (await (await post("/admin/tenants", ADMIN, { name: "bench" })).json()) as { id: string };
const { key } = (await (await post(`/admin/tenants/${tenant.id}/keys`, ADMIN, {})).json()) as { key: string };

// Cold start: this isolate's first request for the preset (R2 read, graph build, session creation, the request).
const ids = (seed: number) => [Array.from({ length: TOKENS }, (_, t) => 1 + ((seed * 131 + t * 17) % 8000))];
let t0 = performance.now();
let res = await post("/v1/embeddings", key, { model: "bench", input: ids(0) });
if (res.status !== 200) throw new Error(`bench request failed: ${res.status} ${await res.text()}`);
await res.arrayBuffer();
const cold = performance.now() - t0;

for (let i = 0; i < 32; i++) await (await post("/v1/embeddings", key, { model: "bench", input: ids(i) })).arrayBuffer(); // warm-up

const latencies: number[] = [];
let next = 0;
t0 = performance.now();
await Promise.all(
  Array.from({ length: CLIENTS }, async () => {
    for (;;) {
      const i = next++;
      if (i >= REQUESTS) return;
      const s = performance.now();
      const r = await post("/v1/embeddings", key, { model: "bench", input: ids(i) });
      await r.arrayBuffer();
      if (r.status !== 200) throw new Error(`status ${r.status}`);
      latencies.push(performance.now() - s);
    }
  }),
);
const seconds = (performance.now() - t0) / 1000;
latencies.sort((a, b) => a - b);
const q = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))];
const pids = workerdPids().filter((p) => !before.has(p));
const result = {
  model: `DistilBERT architecture, ${(backbone.countParams() / 1e6).toFixed(1)}M params (fp32 ${(backbone.countParams() * 4 / 2 ** 20).toFixed(0)} MiB)`,
  request: `/v1/embeddings, 1 x ${TOKENS} token ids, mean pooling`,
  clients: CLIENTS,
  requests: REQUESTS,
  cold_start_ms: Math.round(cold),
  p50_ms: +q(0.5).toFixed(1),
  p99_ms: +q(0.99).toFixed(1),
  requests_per_s: +(REQUESTS / seconds).toFixed(1),
  workerd_peak_rss_mib: Math.round(peakRssMiB(pids)),
  cpus: (await import("node:os")).cpus().length,
};
console.log(JSON.stringify(result, null, 2));
await mf.dispose();
