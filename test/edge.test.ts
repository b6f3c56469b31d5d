/**
 * The edge worker (workers/) in workerd, for what needs Node beside it: test/edge/entry.ts (the real app) is
 * bundled with esbuild and run in Miniflare with real D1 (SQLite, migrations/ applied) and R2 bindings, next to
 * a real GPU runner on loopback. Covers numerical agreement (the in-isolate forward against the HF golden, and
 * with adapters, PEFT uploads and embeddings against the library run in Node), the official `openai` client,
 * routing to the runner pool with a live runner, and `npm run preset:install` against the admin API.
 * Routes, auth, tenant isolation, error statuses, upload atomicity and routing decisions are tested in workerd
 * by the pool (test/workers/). Loopback only, nothing downloaded.
 */
import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { createRequire } from "node:module";
import { bundleForWorkerd } from "./helpers/workerd-bundle.js";
import { readReply, type Json, type Reply } from "./helpers/reply.js";
import { FormData, Miniflare } from "miniflare";
import OpenAI from "openai";
import { mkdtempSync, mkdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { installPreset } from "../workers/tools/install-preset.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  Backbone,
  importPeftAdapter,
  initLora,
  loadTokenizer,
  Preprocessor,
  saveTokenizer,
  loraSafetensorsFormat,
  tokenBatch,
  wasmRuntime,
  writeSafetensors,
  type LoraAdapter,
  type PresetFiles,
} from "./edge/node-lib.js";
import { putPreset } from "./helpers/edge-platform.js";
import { loadGolden, maxAbsDiff } from "./helpers/golden.js";
import { wordPieceFiles } from "./helpers/tiny-tokenizers.js";
import { serve } from "@hono/node-server";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { createApp as createRunnerApp } from "../gpu-runner/app.js";
import type { RunnerStore } from "../gpu-runner/object-store.js";
import type { Runner } from "../gpu-runner/runner.js";
import { collectPresetFiles, publishPreset } from "../shared/runner/layout.js";
import { PRESET as GEMMA, SIGNING_KEY, makeFixture, makeRunner, reference, type Fixture } from "./helpers/runner-fixtures.js";
import type { R2BucketLike } from "../workers/env.js";

async function r2(): Promise<R2BucketLike> {
  return (await mf.getR2Bucket("BUCKET")) as unknown as R2BucketLike;
}

const golden = loadGolden("distilbert");
const ortWasmPath = createRequire(import.meta.url).resolve("onnxruntime-web/ort-wasm-simd-threaded.wasm");
const ADMIN = "test-admin-token";
const PRESET = "tiny-distilbert";

let mf: Miniflare;
let baseUrl: URL;
let gemma: Fixture;
let runner: Runner;
let runnerServer: Server | undefined;

async function r2Get(key: string): Promise<Uint8Array | null> {
  const object = await (await r2()).get(key);
  return object ? new Uint8Array(await object.arrayBuffer()) : null;
}
let backbone: Backbone; // the golden model, loaded in Node
const presetFiles = new Map<string, Uint8Array>();


async function call(method: string, path: string, { key, body, headers = {} }: { key?: string; body?: unknown; headers?: Record<string, string> } = {}): Promise<Reply> {
  const h: Record<string, string> = { ...headers };
  if (key) h.authorization = `Bearer ${key}`;
  let payload: any = undefined;
  if (body instanceof Uint8Array || body instanceof FormData) payload = body;
  else if (typeof body === "string") payload = body;
  else if (body !== undefined) {
    payload = JSON.stringify(body);
    h["content-type"] = "application/json";
  }
  const res = await mf.dispatchFetch(`http://edge${path}`, { method, headers: h, body: payload });
  return readReply(res as unknown as Response);
}

async function tenantWithKey(name: string): Promise<{ tenantId: string; key: string; keyId: string }> {
  const t = await call("POST", "/admin/tenants", { key: ADMIN, body: { name } });
  expect(t.status).toBe(201);
  const k = await call("POST", `/admin/tenants/${t.json.id}/keys`, { key: ADMIN, body: { name: "default" } });
  expect(k.status).toBe(201);
  return { tenantId: t.json.id, key: k.json.key, keyId: k.json.id };
}

async function putAdapter(key: string, name: string, bytes: Uint8Array | FormData, base = PRESET) {
  return call("PUT", `/v1/adapters/${name}?base=${base}`, { key, body: bytes });
}

async function r2Keys(prefix: string): Promise<string[]> {
  const bucket = await r2();
  return (await bucket.list({ prefix })).objects.map((o) => o.key).sort();
}

beforeAll(async () => {
  backbone = await Backbone.fromPreset(golden.dir);
  const collector: PresetFiles = {
    location: "memory:golden",
    read: async (f) => presetFiles.get(f) ?? null,
    write: async (f, bytes) => void presetFiles.set(f, bytes),
  };
  await backbone.saveToPreset(collector);
  // a small WordPiece tokenizer (ids fit the golden vocabulary), saved as the preset's tokenizer.hf.json
  for (const [file, bytes] of Object.entries(wordPieceFiles())) presetFiles.set(file, bytes);
  await saveTokenizer(await loadTokenizer(collector), collector);
  presetFiles.delete("vocab.txt");

  // A real GPU runner (CPU) on loopback whose object store is the worker's R2 bucket, as in production.
  const r2Runner: RunnerStore = {
    description: "miniflare R2 BUCKET",
    async open(key) {
      const bytes = await r2Get(key);
      return bytes ? { body: (async function* () { yield bytes; })(), size: bytes.byteLength } : null;
    },
    get: (key) => r2Get(key),
    async put(key, bytes) {
      await (await r2()).put(key, bytes);
    },
  };
  gemma = await makeFixture(0);
  runner = await makeRunner(gemma, {}, r2Runner);
  const runnerApp = await createRunnerApp(runner);
  runnerServer = await new Promise<Server>((resolve) => {
    const server = serve({ fetch: runnerApp.fetch, hostname: "127.0.0.1", port: 0 }, () => resolve(server as Server)) as Server;
  });
  const runnerUrl = `http://127.0.0.1:${(runnerServer.address() as AddressInfo).port}`;

  const bundled = await bundleForWorkerd(new URL("./edge/entry.ts", import.meta.url), ["./ort-wasm-simd-threaded.wasm", "cloudflare:workers"]);
  mf = new Miniflare({
    workers: [
      {
        name: "edgebone",
        modules: [
          { type: "ESModule", path: "worker.mjs", contents: bundled },
          { type: "CompiledWasm", path: "ort-wasm-simd-threaded.wasm", contents: readFileSync(ortWasmPath) },
        ],
        compatibilityDate: "2026-04-01",
        compatibilityFlags: ["nodejs_compat"],
        d1Databases: ["DB"],
        r2Buckets: ["BUCKET"],
        bindings: { ADMIN_TOKEN: ADMIN, ADAPTER_MAX_BYTES: String(256 * 1024), RUNNER_URLS: runnerUrl, RUNNER_SIGNING_KEY: SIGNING_KEY },
      },
    ],
    host: "127.0.0.1",
    port: 0,
  });
  baseUrl = await mf.ready;

  const db = await mf.getD1Database("DB");
  const dir = fileURLToPath(new URL("../migrations/", import.meta.url));
  for (const file of readdirSync(dir).filter((f) => f.endsWith(".sql")).sort()) {
    for (const stmt of readFileSync(dir + file, "utf8").split("--> statement-breakpoint")) {
      if (stmt.trim()) await db.prepare(stmt).run();
    }
  }
  const bucket = await r2();
  await putPreset(bucket, PRESET, presetFiles);
  const gemmaFiles = collectPresetFiles();
  await gemma.backbone.saveToPreset(gemmaFiles);
  await publishPreset(r2Runner, GEMMA, gemmaFiles.files);
  // A preset far over the 128 MB isolate budget (only its config is needed to route it).
  const hf = JSON.parse(readFileSync(`${golden.dir}/config.json`, "utf8"));
  await putPreset(bucket, "huge-distilbert", [["config.json", JSON.stringify({ ...hf, dim: 2048, hidden_dim: 8192, n_layers: 24, n_heads: 16 })]]);
}, 120_000);

afterAll(async () => {
  await mf?.dispose();
  await new Promise((resolve) => (runnerServer ? runnerServer.close(resolve) : resolve(undefined)));
  await runner?.close();
});

describe("edge worker: adapters against the library", () => {
  let a: { key: string; tenantId: string };

  beforeAll(async () => {
    a = await tenantWithKey("tenant-a");
  });

  it("a PEFT upload (multipart) serves exactly as the library applies it", async () => {
    const r = 2;
    const peft = new Map<string, { dtype: "float32"; shape: number[]; data: Float32Array }>();
    let seed = 1;
    const rand = (shape: number[]) => ({ dtype: "float32" as const, shape, data: Float32Array.from({ length: shape[0] * shape[1] }, () => Math.sin(seed++) * 0.05) });
    for (let i = 0; i < 2; i++) {
      for (const m of ["q_lin", "v_lin"]) {
        peft.set(`base_model.model.distilbert.transformer.layer.${i}.attention.${m}.lora_A.weight`, rand([r, 64]));
        peft.set(`base_model.model.distilbert.transformer.layer.${i}.attention.${m}.lora_B.weight`, rand([64, r]));
      }
    }
    const config = { peft_type: "LORA", r, lora_alpha: 4, target_modules: ["q_lin", "v_lin"], bias: "none" };
    const weights = writeSafetensors([...peft.entries()]);
    const form = new FormData();
    form.append("adapter_config.json", new Blob([JSON.stringify(config)]), "adapter_config.json");
    form.append("adapter_model.safetensors", new Blob([weights]), "adapter_model.safetensors");
    const put = await putAdapter(a.key, "peft", form);
    expect(put.status, JSON.stringify(put.json)).toBe(201);
    expect(put.json).toMatchObject({ format: "peft", layout: "flat", rank: r });

    const body = { token_ids: golden.inputIds, padding_mask: golden.attentionMask };
    const res = await call("POST", `/v1/models/${PRESET}/forward?adapter=peft`, { key: a.key, body });
    expect(res.status).toBe(200);
    const adapter = importPeftAdapter(config, peft, backbone.loraTargets());
    const session = await backbone.createSession(wasmRuntime(), { lora: true });
    const expected = (await session.forward(tokenBatch(golden.inputIds, golden.attentionMask), { adapters: [adapter] })).sequenceOutput;
    const got = { dtype: "float32" as const, shape: res.json.sequence_output.shape, data: Float32Array.from(res.json.sequence_output.data) };
    expect(maxAbsDiff(got, expected, golden.validLengths)).toBeLessThanOrEqual(1e-4);
  });
});

describe("edge worker: forward in the isolate", () => {
  let t: { key: string; tenantId: string };
  beforeAll(async () => {
    t = await tenantWithKey("forward-tenant");
  });

  it("matches Hugging Face on the golden DistilBERT", async () => {
    const body = { token_ids: golden.inputIds, padding_mask: golden.attentionMask };
    const res = await call("POST", `/v1/models/${PRESET}/forward`, { key: t.key, body });
    expect(res.status).toBe(200);
    expect(res.headers.get("x-edgebone-backend")).toBe("isolate");
    const out = res.json.sequence_output;
    expect(out.shape).toEqual(golden.lastHiddenState.shape);
    expect(maxAbsDiff({ dtype: "float32", shape: out.shape, data: Float32Array.from(out.data) }, golden.lastHiddenState, golden.validLengths)).toBeLessThanOrEqual(1e-4);
  });

  it("an adapter changes the output exactly as the library does", async () => {
    const body = { token_ids: golden.inputIds, padding_mask: golden.attentionMask };
    const adapter = initLora(backbone.loraTargets(), 2, 7, true);
    expect((await putAdapter(t.key, "tuned", await loraSafetensorsFormat.encode(adapter, backbone))).status).toBe(201);
    const viaQuery = await call("POST", `/v1/models/${PRESET}/forward?adapter=tuned`, { key: t.key, body });
    expect(viaQuery.status).toBe(200);

    const session = await backbone.createSession(wasmRuntime(), { lora: true });
    const decoded = await loraSafetensorsFormat.decode(await loraSafetensorsFormat.encode(adapter, backbone), backbone, "a");
    const expected = (await session.forward(tokenBatch(golden.inputIds, golden.attentionMask), { adapters: [decoded] })).sequenceOutput;
    const got = { dtype: "float32" as const, shape: viaQuery.json.sequence_output.shape, data: Float32Array.from(viaQuery.json.sequence_output.data) };
    expect(maxAbsDiff(got, expected, golden.validLengths)).toBeLessThanOrEqual(1e-4);
    expect(maxAbsDiff(got, golden.lastHiddenState, golden.validLengths)).toBeGreaterThan(1e-3);
  });
});

/** Reference embedding in Node: the library's forward, mean pooling over valid tokens, windows weighted by tokens, L2. */
async function referenceEmbeddings(rows: { ids: number[]; text: number }[], count: number, adapter?: LoraAdapter, dims?: number): Promise<Float32Array[]> {
  const session = await backbone.createSession(wasmRuntime(), { lora: true });
  const sums = Array.from({ length: count }, () => ({ v: new Float64Array(backbone.hiddenDim), w: 0 }));
  for (const row of rows) {
    const out = (await session.forward(tokenBatch([row.ids]), adapter ? { adapters: [adapter] } : {})).sequenceOutput;
    const data = out.data as Float32Array;
    const H = backbone.hiddenDim;
    for (let t = 0; t < row.ids.length; t++) for (let h = 0; h < H; h++) sums[row.text].v[h] += data[t * H + h];
    sums[row.text].w += row.ids.length;
  }
  return sums.map(({ v, w }) => {
    const mean = Float32Array.from(v, (x) => x / w).slice(0, dims ?? v.length);
    const n = Math.hypot(...mean);
    return mean.map((x) => x / n);
  });
}

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

describe("edge worker: /v1/embeddings (OpenAI-compatible)", () => {
  let t: { key: string; tenantId: string };
  beforeAll(async () => {
    t = await tenantWithKey("embeddings-tenant");
  });
  const embeddings = (key: string, body: unknown) => call("POST", "/v1/embeddings", { key, body });

  it("token id inputs: mean-pooled, L2-normalised, equal to the library's forward + pooling; base64 and dimensions", async () => {
    const rows = golden.inputIds.map((r, i) => r.slice(0, golden.validLengths[i]));
    const res = await embeddings(t.key, { model: PRESET, input: rows });
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ object: "list", model: PRESET, usage: { prompt_tokens: rows.flat().length, total_tokens: rows.flat().length } });
    expect(res.headers.get("x-tokenization-time")).not.toBeNull();
    const expected = await referenceEmbeddings(rows.map((ids, text) => ({ ids, text })), rows.length);
    res.json.data.forEach((d: Json, i: number) => {
      expect(d).toMatchObject({ object: "embedding", index: i });
      expect(maxDiff(d.embedding, expected[i])).toBeLessThanOrEqual(1e-5);
    });
    const one = await embeddings(t.key, { model: PRESET, input: rows[0] });
    expect(maxDiff(one.json.data[0].embedding, expected[0])).toBeLessThanOrEqual(1e-5);

    const b64 = await embeddings(t.key, { model: PRESET, input: rows, encoding_format: "base64" });
    const buf = Buffer.from(b64.json.data[1].embedding, "base64");
    expect(Array.from(new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4))).toEqual(res.json.data[1].embedding);

    const small = await embeddings(t.key, { model: PRESET, input: rows, dimensions: 16 });
    const expected16 = await referenceEmbeddings(rows.map((ids, text) => ({ ids, text })), rows.length, undefined, 16);
    expect(small.json.data[0].embedding).toHaveLength(16);
    expect(maxDiff(small.json.data[0].embedding, expected16[0])).toBeLessThanOrEqual(1e-5);
  });

  it("text inputs are tokenized with the preset's tokenizer; long texts are chunked and pooled unless truncate is asked", async () => {
    const pre = await Preprocessor.fromPreset({ location: "memory", read: async (f) => presetFiles.get(f) ?? null, write: async () => {} });
    const short = ["the quick brown fox!", "hello world"];
    const long = "the quick brown fox , hello world . ".repeat(20); // longer than the sequence length: several windows
    const res = await embeddings(t.key, { model: PRESET, input: [...short, long] });
    expect(res.status).toBe(200);
    const chunks = pre.chunk([...short, long]);
    expect(chunks.rows.filter((r) => r.text === 2).length).toBeGreaterThan(1);
    const rows = chunks.tokenIds.map((ids, i) => ({ ids: ids.slice(0, chunks.paddingMask[i].reduce((a, b) => a + b, 0)), text: chunks.rows[i].text }));
    const expected = await referenceEmbeddings(rows, 3);
    res.json.data.forEach((d: Json, i: number) => expect(maxDiff(d.embedding, expected[i])).toBeLessThanOrEqual(1e-5));
    expect(res.json.usage.prompt_tokens).toBe(rows.reduce((n, r) => n + r.ids.length, 0));

    const single = await embeddings(t.key, { model: PRESET, input: short[0] });
    expect(maxDiff(single.json.data[0].embedding, expected[0])).toBeLessThanOrEqual(1e-5);
    const truncated = await embeddings(t.key, { model: PRESET, input: long, truncate: true });
    expect(truncated.status).toBe(200);
    expect(truncated.json.usage.prompt_tokens).toBe(pre.sequenceLength);
    expect(maxDiff(truncated.json.data[0].embedding, expected[2])).toBeGreaterThan(1e-6);
  });

  it("model preset:adapter applies the tenant's adapter as the library does", async () => {
    const adapter = initLora(backbone.loraTargets(), 2, 41, true);
    expect((await putAdapter(t.key, "emb", await loraSafetensorsFormat.encode(adapter, backbone))).status).toBe(201);
    const rows = [golden.inputIds[0].slice(0, golden.validLengths[0])];
    const res = await embeddings(t.key, { model: `${PRESET}:emb`, input: rows });
    expect(res.status).toBe(200);
    expect(res.json.model).toBe(`${PRESET}:emb`);
    const expected = await referenceEmbeddings([{ ids: rows[0], text: 0 }], 1, adapter);
    expect(maxDiff(res.json.data[0].embedding, expected[0])).toBeLessThanOrEqual(1e-5);
  });

  it("the official openai client works unchanged over HTTP (embeddings in base64 and float, models.list / retrieve)", async () => {
    const client = new OpenAI({ apiKey: t.key, baseURL: new URL("/v1", baseUrl).href, maxRetries: 0 });
    const input = ["the quick brown fox!", "hello world"];
    const pre = await Preprocessor.fromPreset({ location: "memory", read: async (f) => presetFiles.get(f) ?? null, write: async () => {} });
    const enc = pre.call(input);
    const rows = enc.tokenIds.map((ids, i) => ({ ids: ids.slice(0, enc.paddingMask[i].reduce((a, b) => a + b, 0)), text: i }));
    const expected = await referenceEmbeddings(rows, 2);
    const viaDefault = await client.embeddings.create({ model: PRESET, input });
    const viaFloat = await client.embeddings.create({ model: PRESET, input, encoding_format: "float" });
    for (const res of [viaDefault, viaFloat]) {
      expect(res.data).toHaveLength(2);
      res.data.forEach((d, i) => expect(maxDiff(d.embedding, expected[i])).toBeLessThanOrEqual(1e-5));
      expect(res.usage.prompt_tokens).toBe(rows.reduce((n, r) => n + r.ids.length, 0));
    }
    await expect(client.embeddings.create({ model: "nope", input })).rejects.toMatchObject({ status: 404, code: "preset_not_found" });
    const listed: string[] = [];
    for await (const model of client.models.list()) listed.push(model.id);
    expect(listed).toContain(PRESET);
    expect(await client.models.retrieve(PRESET)).toMatchObject({ id: PRESET, object: "model", owned_by: "edgebone" });
    await expect(client.models.retrieve("nope")).rejects.toMatchObject({ status: 404, code: "model_not_found" });
    const anonymous = new OpenAI({ apiKey: "eb_wrong", baseURL: new URL("/v1", baseUrl).href, maxRetries: 0 });
    await expect(anonymous.embeddings.create({ model: PRESET, input })).rejects.toMatchObject({ status: 401, type: "authentication_error" });
  });
});

describe("edge worker: routing to the GPU runner pool", () => {
  let t: { key: string; tenantId: string };
  let other: { key: string; tenantId: string };
  const ids = [[2, 10, 20, 30, 40], [2, 11, 21, 0, 0]];
  const mask = [[1, 1, 1, 1, 1], [1, 1, 1, 0, 0]];
  beforeAll(async () => {
    t = await tenantWithKey("runner-tenant");
    other = await tenantWithKey("runner-other");
  });

  it("Gemma runs on the runner (header says where) and equals the library; adapters are pinned to their upload", async () => {
    const session = await gemma.backbone.createSession(wasmRuntime(), { lora: true });
    const res = await call("POST", `/v1/models/${GEMMA}/forward`, { key: t.key, body: { token_ids: ids, padding_mask: mask } });
    expect(res.status, JSON.stringify(res.json)).toBe(200);
    expect(res.headers.get("x-edgebone-backend")).toBe("runner");
    expect(res.headers.get("x-edgebone-runner")).toBe("test-runner");
    const base = await reference(session, ids, [null, null], mask);
    const got = Float32Array.from(res.json.sequence_output.data);
    const valid = (x: ArrayLike<number>) => Array.from(x).filter((_, i) => mask[Math.floor(i / (5 * 32))][Math.floor(i / 32) % 5] === 1);
    expect(maxDiff(valid(got), valid(base))).toBeLessThanOrEqual(1e-4);

    const v1 = initLora(gemma.backbone.loraTargets(), 4, 300, true);
    const bytes = await loraSafetensorsFormat.encode(v1, gemma.backbone);
    const put = await putAdapter(t.key, "g", bytes, GEMMA);
    expect(put.status).toBe(201);
    const withAdapter = await call("POST", `/v1/models/${GEMMA}/forward?adapter=g`, { key: t.key, body: { token_ids: ids, padding_mask: mask } });
    expect(withAdapter.status, JSON.stringify(withAdapter.json)).toBe(200);
    const decoded = await loraSafetensorsFormat.decode(bytes, gemma.backbone, "g");
    const expected = await reference(session, ids, [decoded, decoded], mask);
    expect(maxDiff(valid(Float32Array.from(withAdapter.json.sequence_output.data)), valid(expected))).toBeLessThanOrEqual(1e-4);
    // the runner read the upload's own object: nothing was copied to another key
    expect(await r2Keys(`adapters/${t.tenantId}/`)).toEqual([expect.stringMatching(new RegExp(`^adapters/${t.tenantId}/g/[0-9a-f-]{36}\\.lora\\.safetensors$`))]);

    // a new version is a new object: the runner is asked for exactly that one
    const v2 = initLora(gemma.backbone.loraTargets(), 4, 301, true);
    const bytes2 = await loraSafetensorsFormat.encode(v2, gemma.backbone);
    const put2 = await putAdapter(t.key, "g", bytes2, GEMMA);
    const again = await call("POST", `/v1/models/${GEMMA}/forward?adapter=g`, { key: t.key, body: { token_ids: ids, padding_mask: mask } });
    const expected2 = await reference(session, ids, [await loraSafetensorsFormat.decode(bytes2, gemma.backbone, "g2"), null], mask);
    expect(maxDiff(valid(Float32Array.from(again.json.sequence_output.data)).slice(0, 5 * 32), valid(expected2).slice(0, 5 * 32))).toBeLessThanOrEqual(1e-4);
    expect(put2.json.sha256).not.toBe(put.json.sha256);

    // another tenant cannot reach it through the runner either
    expect((await call("POST", `/v1/models/${GEMMA}/forward?adapter=g`, { key: other.key, body: { token_ids: ids } })).status).toBe(404);
    // deleted: its object is gone and the runner is never asked for it again
    expect((await call("DELETE", "/v1/adapters/g", { key: t.key })).status).toBe(200);
    expect(await r2Keys(`adapters/${t.tenantId}/`)).toEqual([]);
    expect((await call("POST", `/v1/models/${GEMMA}/forward?adapter=g`, { key: t.key, body: { token_ids: ids } })).status).toBe(404);
  });

  it("Gemma embeddings pool the last token; ids out of range are a 422 before any runner call", async () => {
    const session = await gemma.backbone.createSession(wasmRuntime());
    const res = await call("POST", "/v1/embeddings", { key: t.key, body: { model: GEMMA, input: [[2, 10, 20, 30, 40], [2, 11, 21]] } });
    expect(res.status, JSON.stringify(res.json)).toBe(200);
    for (const [i, row] of [[2, 10, 20, 30, 40], [2, 11, 21]].entries()) {
      const out = (await session.forward(tokenBatch([row]))).sequenceOutput.data as Float32Array;
      const last = out.slice((row.length - 1) * 32, row.length * 32);
      const n = Math.hypot(...last);
      expect(maxDiff(res.json.data[i].embedding, last.map((x) => x / n))).toBeLessThanOrEqual(1e-4);
    }
    const bad = await call("POST", `/v1/models/${GEMMA}/forward`, { key: t.key, body: { token_ids: [[1, 64]] } });
    expect(bad.status).toBe(422);
  });

  it("a DistilBERT over the isolate budget goes to the live runner, which names what it cannot load (a record without weights)", async () => {
    const huge = await call("POST", "/v1/models/huge-distilbert/forward", { key: t.key, body: { token_ids: [[1]] } });
    expect(huge.headers.get("x-edgebone-backend")).toBe("runner");
    expect(huge.status, JSON.stringify(huge.json)).toBe(502);
    expect(huge.json.error.code).toBe("corrupt_object");
    expect(huge.json.error.message).toMatch(/huge-distilbert.*no model\.safetensors/);
  });
});

describe("edge worker: preset install through the admin API", () => {
  it("installs a local preset dir (record.json last, sha256-verified) and serves it at once", async () => {
    const dir = mkdtempSync(join(tmpdir(), "edgebone-install-"));
    for (const [file, bytes] of presetFiles) {
      mkdirSync(join(dir, file, ".."), { recursive: true });
      writeFileSync(join(dir, file), bytes);
    }
    expect([...presetFiles.keys()].some((f) => f.startsWith("assets/"))).toBe(true); // KerasHub tokenizer assets: nested
    const progress: string[] = [];
    const record = await installPreset({ dir, name: "installed", url: baseUrl.href, token: ADMIN, onProgress: (f) => progress.push(f) });
    expect(Object.keys(record.files).sort()).toEqual([...presetFiles.keys()].filter((f) => !f.includes("/")).sort());
    expect(progress).toContain("model.safetensors");
    expect(progress.at(-1)).toBe("record.json");
    expect(await r2Keys("presets/installed/")).toEqual([...[...presetFiles.keys()].map((f) => `presets/installed/${f}`), "presets/installed/record.json"].sort());
    const t = await tenantWithKey("install-tenant");
    const res = await call("POST", "/v1/models/installed/forward", { key: t.key, body: { token_ids: golden.inputIds, padding_mask: golden.attentionMask } });
    expect(res.status).toBe(200);
    const got = { dtype: "float32" as const, shape: res.json.sequence_output.shape, data: Float32Array.from(res.json.sequence_output.data) };
    expect(maxAbsDiff(got, golden.lastHiddenState, golden.validLengths)).toBeLessThanOrEqual(1e-4);

    await expect(installPreset({ dir, name: "x", url: baseUrl.href, token: "wrong" })).rejects.toThrow(/403/);
    expect(await r2Keys("presets/x/")).toEqual([]);
  });
});
