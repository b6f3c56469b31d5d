/**
 * The edge worker (workers/) in workerd: test/edge/entry.ts (the real app plus two test-only routes) is bundled
 * with esbuild and run in Miniflare with real D1 (SQLite, migrations/ applied) and R2 bindings, as
 * test/workerd.test.ts does for the library. Covers auth, admin, tenant isolation of adapters, the atomic
 * upload protocol and its sweeper, error shapes and statuses, and the in-isolate forward pass (HF golden, and
 * with an adapter against the library in Node). Loopback only, nothing downloaded.
 */
import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { createRequire } from "node:module";
import { bundleForWorkerd } from "./helpers/workerd-bundle.js";
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
/** The RPC client worker: POST {op, args} → {ok, result} | {ok: false, message}. */
const RPC_CLIENT = `
export default {
  async fetch(request, env) {
    const { op, args } = await request.json();
    try {
      const result = await env.EDGEBONE[op](...args);
      if (op === "forward") return Response.json({ ok: true, float32: result.data instanceof Float32Array, result: { shape: result.shape, data: Array.from(result.data) } });
      return Response.json({ ok: true, result });
    } catch (e) {
      return Response.json({ ok: false, message: String(e.message) });
    }
  },
};`;
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

type Json = Record<string, any>;

async function call(method: string, path: string, { key, body, headers = {} }: { key?: string; body?: unknown; headers?: Record<string, string> } = {}): Promise<{ status: number; json: Json; headers: Headers; bytes?: ArrayBuffer }> {
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
  if ((res.headers.get("content-type") ?? "").includes("application/octet-stream")) {
    return { status: res.status, json: {}, headers: res.headers as unknown as Headers, bytes: await res.arrayBuffer() };
  }
  const text = await res.text();
  let json: Json;
  try {
    json = JSON.parse(text);
  } catch {
    json = { raw: text };
  }
  return { status: res.status, json, headers: res.headers as unknown as Headers };
}

async function tenantWithKey(name: string): Promise<{ tenantId: string; key: string; keyId: string }> {
  const t = await call("POST", "/admin/tenants", { key: ADMIN, body: { name } });
  expect(t.status).toBe(201);
  const k = await call("POST", `/admin/tenants/${t.json.id}/keys`, { key: ADMIN, body: { name: "default" } });
  expect(k.status).toBe(201);
  return { tenantId: t.json.id, key: k.json.key, keyId: k.json.id };
}

function adapterBytes(seed: number, rank = 2): Promise<Uint8Array> {
  return loraSafetensorsFormat.encode(initLora(backbone.loraTargets(), rank, seed, true), backbone);
}

async function putAdapter(key: string, name: string, bytes: Uint8Array | FormData, base = PRESET) {
  return call("PUT", `/v1/adapters/${name}?base=${base}`, { key, body: bytes });
}

async function d1Rows(sql: string, ...params: unknown[]): Promise<Json[]> {
  const db = await mf.getD1Database("DB");
  return ((await db.prepare(sql).bind(...params).all()).results ?? []) as Json[];
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
      {
        // a second Worker calling Edgebone over Workers RPC through a service binding
        name: "client",
        modules: true,
        script: RPC_CLIENT,
        compatibilityDate: "2026-04-01",
        serviceBindings: { EDGEBONE: { name: "edgebone", entrypoint: "EdgeboneRpc" } },
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
  for (const [file, bytes] of presetFiles) {
    await bucket.put(`presets/${PRESET}/${file}`, bytes);
    await bucket.put(`presets/${PRESET}-copy/${file}`, bytes); // same architecture, another base name
  }
  const gemmaFiles = collectPresetFiles();
  await gemma.backbone.saveToPreset(gemmaFiles);
  await publishPreset(r2Runner, GEMMA, gemmaFiles.files);
  // A preset far over the 128 MB isolate budget (only its config is needed to route it).
  const hf = JSON.parse(readFileSync(`${golden.dir}/config.json`, "utf8"));
  await bucket.put("presets/huge-distilbert/config.json", JSON.stringify({ ...hf, dim: 2048, hidden_dim: 8192, n_layers: 24, n_heads: 16 }));
}, 120_000);

afterAll(async () => {
  await mf?.dispose();
  await new Promise((resolve) => (runnerServer ? runnerServer.close(resolve) : resolve(undefined)));
  await runner?.close();
});

describe("edge worker: public routes and errors", () => {
  it("GET /health and /info", async () => {
    expect((await call("GET", "/health")).json).toEqual({ status: "ok" });
    const info = await call("GET", "/info");
    expect(info.status).toBe(200);
    expect(info.json).toMatchObject({ model_id: "edgebone", edge_memory_budget_mb: 128 });
  });

  it("GET /openapi.json is public", async () => {
    const doc = await call("GET", "/openapi.json");
    expect(doc.status).toBe(200);
    expect(doc.json.openapi).toBe("3.1.0");
    expect(Object.keys(doc.json.paths)).toContain("/v1/embeddings");
  });

  it("unknown routes: OpenAI shape under /v1, TEI shape elsewhere", async () => {
    const v1 = await call("GET", "/v1/nope");
    // /v1/* needs a key first
    expect(v1.status).toBe(401);
    expect(v1.json.error).toMatchObject({ type: "authentication_error", code: "missing_api_key" });
    const tei = await call("GET", "/nope");
    expect(tei.status).toBe(404);
    expect(tei.json).toEqual({ error: "no route for GET /nope", error_type: "NotFound" });
  });
});

describe("edge worker: admin and auth", () => {
  it("admin routes need ADMIN_TOKEN (401 without, 403 wrong or a tenant key), TEI error shape", async () => {
    const none = await call("POST", "/admin/tenants", { body: { name: "x" } });
    expect(none.status).toBe(401);
    expect(none.json).toMatchObject({ error_type: "Unauthorized" });
    expect((await call("POST", "/admin/tenants", { key: "wrong", body: { name: "x" } })).status).toBe(403);
    const { key } = await tenantWithKey("auth-tenant");
    expect((await call("POST", "/admin/tenants", { key, body: { name: "x" } })).status).toBe(403);
  });

  it("validates admin bodies (400 malformed JSON, 422 schema) and 404s unknown tenants and keys", async () => {
    const bad = await call("POST", "/admin/tenants", { key: ADMIN, body: "{not json", headers: { "content-type": "application/json" } });
    expect(bad.status).toBe(400);
    const invalid = await call("POST", "/admin/tenants", { key: ADMIN, body: { name: "" } });
    expect(invalid.status).toBe(422);
    expect(invalid.json.error_type).toBe("Validation");
    expect((await call("POST", "/admin/tenants/nope/keys", { key: ADMIN, body: {} })).status).toBe(404);
    expect((await call("DELETE", "/admin/keys/nope", { key: ADMIN })).status).toBe(404);
  });

  it("keys are shown once, stored hashed, and revocable (401 unknown, 403 revoked)", async () => {
    const { key, keyId, tenantId } = await tenantWithKey("key-tenant");
    expect(key).toMatch(/^eb_[A-Za-z0-9_-]{43}$/);
    const rows = await d1Rows("select * from api_keys where id = ?", keyId);
    expect(rows).toHaveLength(1);
    expect(rows[0].tenant_id).toBe(tenantId);
    expect(JSON.stringify(rows[0])).not.toContain(key);
    expect(rows[0].hash).toMatch(/^[0-9a-f]{64}$/);
    expect(key.startsWith(rows[0].prefix)).toBe(true);

    expect((await call("GET", "/v1/adapters", { key })).status).toBe(200);
    const unknown = await call("GET", "/v1/adapters", { key: key.slice(0, -2) + "xx" });
    expect(unknown.status).toBe(401);
    expect(unknown.json.error).toMatchObject({ type: "authentication_error", code: "invalid_api_key" });
    expect((await call("DELETE", `/admin/keys/${keyId}`, { key: ADMIN })).json).toEqual({ id: keyId, revoked: true });
    const revoked = await call("GET", "/v1/adapters", { key });
    expect(revoked.status).toBe(403);
    expect(revoked.json.error).toMatchObject({ type: "permission_error", code: "revoked_api_key" });
  });
});

describe("edge worker: adapters", () => {
  let a: { key: string; tenantId: string };
  let b: { key: string; tenantId: string };

  beforeAll(async () => {
    a = await tenantWithKey("tenant-a");
    b = await tenantWithKey("tenant-b");
  });

  it("uploads, lists, gets and deletes a tenant's adapter", async () => {
    const bytes = await adapterBytes(1);
    const put = await putAdapter(a.key, "style", bytes);
    expect(put.status).toBe(201);
    expect(put.json).toMatchObject({ object: "adapter", name: "style", base_preset: PRESET, format: "lora.safetensors", layout: "per_head", rank: 2, size: bytes.byteLength });
    expect((await call("GET", "/v1/adapters/style", { key: a.key })).json.sha256).toBe(put.json.sha256);
    expect((await call("GET", "/v1/adapters", { key: a.key })).json.data.map((x: Json) => x.name)).toContain("style");
    const keys = await r2Keys(`adapters/${a.tenantId}/style/`);
    expect(keys).toHaveLength(1);

    // replacing keeps one version: the new bytes, the old object removed
    const again = await putAdapter(a.key, "style", await adapterBytes(2));
    expect(again.status).toBe(200);
    expect(again.json.sha256).not.toBe(put.json.sha256);
    expect((await call("GET", "/v1/adapters/style", { key: a.key })).json.sha256).toBe(again.json.sha256);
    const after = await r2Keys(`adapters/${a.tenantId}/style/`);
    expect(after).toHaveLength(1);
    expect(after[0]).not.toBe(keys[0]);

    expect((await call("DELETE", "/v1/adapters/style", { key: a.key })).json).toEqual({ object: "adapter", id: "style", deleted: true });
    expect((await call("GET", "/v1/adapters/style", { key: a.key })).status).toBe(404);
    expect(await r2Keys(`adapters/${a.tenantId}/style/`)).toEqual([]);
    expect(await d1Rows("select * from adapters where tenant_id = ? and name = 'style'", a.tenantId)).toEqual([]);
    expect((await call("DELETE", "/v1/adapters/style", { key: a.key })).status).toBe(404);
  });

  it("rejects bad uploads: 400 missing base, 404 unknown base, 413 too big, 415 .lora.h5, 422 invalid", async () => {
    const bytes = await adapterBytes(3);
    const noBase = await call("PUT", "/v1/adapters/x", { key: a.key, body: bytes });
    expect(noBase.status).toBe(400);
    expect(noBase.json.error).toMatchObject({ type: "invalid_request_error", code: "missing_base", param: "base" });
    expect((await putAdapter(a.key, "x", bytes, "no-such-preset")).status).toBe(404);
    const big = await putAdapter(a.key, "x", new Uint8Array(300 * 1024));
    expect(big.status).toBe(413);
    const h5 = new Uint8Array(64);
    h5.set([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]);
    const h5res = await putAdapter(a.key, "x", h5);
    expect(h5res.status).toBe(415);
    expect(h5res.json.error.message).toContain("edgebone lora-convert");
    expect((await putAdapter(a.key, "x", new TextEncoder().encode("not safetensors"))).status).toBe(422);
    // right format, wrong shapes for this base
    const t = backbone.loraTargets()[0];
    const wrong: LoraAdapter = { rank: 2, scale: 1, layout: "per_head", factors: new Map([[t.kernelPath, { a: float32(3, 2), b: float32(2, 5) }]]) };
    const wrongRes = await putAdapter(a.key, "x", await loraSafetensorsFormat.encode(wrong, backbone));
    expect(wrongRes.status).toBe(422);
    expect(wrongRes.json.error.message).toMatch(/expected A/);
    expect((await putAdapter(a.key, "bad name!", bytes)).status).toBe(422);
    // nothing was written by any rejected upload
    expect(await d1Rows("select * from adapters where tenant_id = ? and name = 'x'", a.tenantId)).toEqual([]);
    expect(await r2Keys(`adapters/${a.tenantId}/x/`)).toEqual([]);
  });

  it("accepts PEFT files (multipart), stores them in our form, and serves them like the library", async () => {
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

    const missing = new FormData();
    missing.append("adapter_config.json", new Blob([JSON.stringify(config)]), "adapter_config.json");
    const bad = await putAdapter(a.key, "peft2", missing);
    expect(bad.status).toBe(422);
    expect(bad.json.error.param).toBe("adapter_model.safetensors");
    const dora = new FormData();
    dora.append("adapter_config.json", new Blob([JSON.stringify({ ...config, use_dora: true })]), "adapter_config.json");
    dora.append("adapter_model.safetensors", new Blob([weights]), "adapter_model.safetensors");
    expect((await putAdapter(a.key, "peft2", dora)).json.error.message).toMatch(/DoRA/);
  });

  it("isolates tenants: A can never list, read, use or delete B's adapters", async () => {
    const bShared = await putAdapter(b.key, "shared", await adapterBytes(10));
    const bOnly = await putAdapter(b.key, "b-only", await adapterBytes(11));
    const aShared = await putAdapter(a.key, "shared", await adapterBytes(12));
    expect([bShared.status, bOnly.status, aShared.status]).toEqual([201, 201, 201]);
    expect(aShared.json.sha256).not.toBe(bShared.json.sha256);

    const aList = (await call("GET", "/v1/adapters", { key: a.key })).json.data.map((x: Json) => x.name);
    expect(aList).toContain("shared");
    expect(aList).not.toContain("b-only");
    expect((await call("GET", "/v1/adapters/b-only", { key: a.key })).status).toBe(404);
    expect((await call("GET", "/v1/adapters/shared", { key: a.key })).json.sha256).toBe(aShared.json.sha256);
    const use = await call("POST", `/v1/models/${PRESET}/forward?adapter=b-only`, { key: a.key, body: { token_ids: [[101, 102]] } });
    expect(use.status).toBe(404);
    expect(use.json.error.code).toBe("adapter_not_found");
    expect((await call("DELETE", "/v1/adapters/b-only", { key: a.key })).status).toBe(404);
    expect((await call("GET", "/v1/adapters/b-only", { key: b.key })).status).toBe(200);
    // B deleting its "shared" leaves A's
    expect((await call("DELETE", "/v1/adapters/shared", { key: b.key })).status).toBe(200);
    expect((await call("GET", "/v1/adapters/shared", { key: a.key })).json.sha256).toBe(aShared.json.sha256);
    expect((await call("GET", "/v1/adapters/shared", { key: b.key })).status).toBe(404);
    // and the other way round
    const bList = (await call("GET", "/v1/adapters", { key: b.key })).json.data.map((x: Json) => x.name);
    expect(bList).toEqual(["b-only"]);
  });

  it("a failure between the R2 put and the D1 commit leaves no visible adapter, and the sweeper cleans it", async () => {
    const v1 = await putAdapter(a.key, "atomic", await adapterBytes(20));
    expect(v1.status).toBe(201);
    await call("POST", "/__test/fault");
    const failed = await putAdapter(a.key, "atomic", await adapterBytes(21));
    expect(failed.status).toBe(500);
    // the old version is still the visible one; the new bytes sit in R2 under a pending row
    expect((await call("GET", "/v1/adapters/atomic", { key: a.key })).json.sha256).toBe(v1.json.sha256);
    await call("POST", "/__test/fault");
    expect((await putAdapter(a.key, "atomic-new", await adapterBytes(22))).status).toBe(500);
    expect((await call("GET", "/v1/adapters/atomic-new", { key: a.key })).status).toBe(404);
    expect((await call("GET", "/v1/adapters", { key: a.key })).json.data.map((x: Json) => x.name)).not.toContain("atomic-new");
    const pending = await d1Rows("select name, r2_key from adapters where tenant_id = ? and state = 'pending'", a.tenantId);
    expect(pending.map((r) => r.name).sort()).toEqual(["atomic", "atomic-new"]);
    // an object no row references (e.g. left by a crash before D1 existed for it)
    const bucket = await r2();
    await bucket.put(`adapters/${a.tenantId}/ghost/${crypto.randomUUID()}.lora.safetensors`, new Uint8Array(8));
    // a key of another form (e.g. the runner layout's adapters/<tenant>/<name>.lora.safetensors) is not ours to sweep
    await bucket.put(`adapters/${a.tenantId}/other.lora.safetensors`, new Uint8Array(8));

    // young pending rows are left alone
    const early = (await call("POST", "/__test/sweep?ttl_ms=600000")).json;
    expect(early).toMatchObject({ expired: 0, orphans: 0 });
    const late = (await call("POST", `/__test/sweep?ttl_ms=60000&now=${Date.now() + 3_600_000}`)).json;
    expect(late).toMatchObject({ expired: 2, orphans: 1 });
    expect(await d1Rows("select * from adapters where tenant_id = ? and state != 'ready'", a.tenantId)).toEqual([]);
    const left = await r2Keys(`adapters/${a.tenantId}/`);
    for (const r of pending) expect(left).not.toContain(r.r2_key);
    expect(left.some((k) => k.includes("/ghost/"))).toBe(false);
    expect(left).toContain(`adapters/${a.tenantId}/other.lora.safetensors`);
    expect((await call("GET", "/v1/adapters/atomic", { key: a.key })).json.sha256).toBe(v1.json.sha256);
    expect(left.filter((k) => k.includes("/atomic/"))).toHaveLength(1);
  });

  it("the cron handler runs the sweeper", async () => {
    const worker = (await mf.getWorker()) as unknown as { scheduled(o: { cron: string }): Promise<{ outcome: string }> };
    const result = await worker.scheduled({ cron: "*/15 * * * *" });
    expect(result.outcome).toBe("ok");
  });
});

function float32(...shape: number[]) {
  const n = shape.reduce((x, y) => x * y, 1);
  return { dtype: "float32" as const, shape, data: new Float32Array(n).fill(0.01) };
}

describe("edge worker: forward in the isolate", () => {
  let t: { key: string; tenantId: string };
  beforeAll(async () => {
    t = await tenantWithKey("forward-tenant");
  });

  it("matches Hugging Face on the golden DistilBERT (JSON and octet-stream)", async () => {
    const body = { token_ids: golden.inputIds, padding_mask: golden.attentionMask };
    const res = await call("POST", `/v1/models/${PRESET}/forward`, { key: t.key, body });
    expect(res.status).toBe(200);
    expect(res.headers.get("x-edgebone-backend")).toBe("isolate");
    const out = res.json.sequence_output;
    expect(out.shape).toEqual(golden.lastHiddenState.shape);
    expect(maxAbsDiff({ dtype: "float32", shape: out.shape, data: Float32Array.from(out.data) }, golden.lastHiddenState, golden.validLengths)).toBeLessThanOrEqual(1e-4);

    const bin = await call("POST", `/v1/models/${PRESET}/forward`, { key: t.key, body, headers: { accept: "application/octet-stream" } });
    expect(bin.status).toBe(200);
    expect(bin.headers.get("x-shape")).toBe(out.shape.join(","));
    expect(Array.from(new Float32Array(bin.bytes!))).toEqual(Array.from(Float32Array.from(out.data)));
  });

  it("an adapter (query or body field) changes the output exactly as the library does", async () => {
    const body = { token_ids: golden.inputIds, padding_mask: golden.attentionMask };
    const adapter = initLora(backbone.loraTargets(), 2, 7, true);
    expect((await putAdapter(t.key, "tuned", await loraSafetensorsFormat.encode(adapter, backbone))).status).toBe(201);
    const [viaQuery, viaBody] = await Promise.all([
      call("POST", `/v1/models/${PRESET}/forward?adapter=tuned`, { key: t.key, body }),
      call("POST", `/v1/models/${PRESET}/forward`, { key: t.key, body: { ...body, adapter: "tuned" } }),
    ]);
    expect(viaQuery.status).toBe(200);
    expect(viaBody.json.sequence_output.data).toEqual(viaQuery.json.sequence_output.data);

    const session = await backbone.createSession(wasmRuntime(), { lora: true });
    const decoded = await loraSafetensorsFormat.decode(await loraSafetensorsFormat.encode(adapter, backbone), backbone, "a");
    const expected = (await session.forward(tokenBatch(golden.inputIds, golden.attentionMask), { adapters: [decoded] })).sequenceOutput;
    const got = { dtype: "float32" as const, shape: viaQuery.json.sequence_output.shape, data: Float32Array.from(viaQuery.json.sequence_output.data) };
    expect(maxAbsDiff(got, expected, golden.validLengths)).toBeLessThanOrEqual(1e-4);
    expect(maxAbsDiff(got, golden.lastHiddenState, golden.validLengths)).toBeGreaterThan(1e-3);
  });

  it("errors: 400 bad JSON, 404 unknown preset, 413 too many tokens, 422 ragged / out of range / too many rows, 422 adapter for another base; over budget goes to the runner", async () => {
    const post = (preset: string, body: unknown, q = "") => call("POST", `/v1/models/${preset}/forward${q}`, { key: t.key, body });
    expect((await call("POST", `/v1/models/${PRESET}/forward`, { key: t.key, body: "{", headers: { "content-type": "application/json" } })).status).toBe(400);
    const unknown = await post("no-such-preset", { token_ids: [[1]] });
    expect(unknown.status).toBe(404);
    expect(unknown.json.error.code).toBe("preset_not_found");
    expect((await post("../etc", { token_ids: [[1]] })).status).toBe(404);
    expect((await post(PRESET, { token_ids: [[1, 2], [3]] })).status).toBe(422);
    const range = await post(PRESET, { token_ids: [[1, 1_000_000]] });
    expect(range.status).toBe(422);
    expect(range.json.error.type).toBe("invalid_request_error");
    expect((await post(PRESET, { token_ids: Array.from({ length: 65 }, () => [1]) })).status).toBe(422);
    expect((await post(PRESET, { token_ids: Array.from({ length: 64 }, () => new Array(300).fill(1)) })).status).toBe(413);
    expect((await post(PRESET, { ids: [[1]] })).status).toBe(422);
    // over the isolate budget: routed to the runner pool, whose runner has no such preset (no record.json)
    const huge = await post("huge-distilbert", { token_ids: [[1]] });
    expect(huge.headers.get("x-edgebone-backend")).toBe("runner");
    expect(huge.status).toBe(404);
    expect((await post(PRESET, { token_ids: [[1]] }, "?adapter=missing")).status).toBe(404);
    expect((await putAdapter(t.key, "other-base", await adapterBytes(30), `${PRESET}-copy`)).status).toBe(201);
    const mismatch = await post(PRESET, { token_ids: [[1]] }, "?adapter=other-base");
    expect(mismatch.status).toBe(422);
    expect(mismatch.json.error.code).toBe("adapter_base_mismatch");
    expect((await post(`${PRESET}-copy`, { token_ids: [[101, 102]] }, "?adapter=other-base")).status).toBe(200);
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
  let other: { key: string; tenantId: string };
  beforeAll(async () => {
    t = await tenantWithKey("embeddings-tenant");
    other = await tenantWithKey("embeddings-other");
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

  it("model preset:adapter applies the tenant's adapter, and only the tenant's", async () => {
    const adapter = initLora(backbone.loraTargets(), 2, 41, true);
    expect((await putAdapter(t.key, "emb", await loraSafetensorsFormat.encode(adapter, backbone))).status).toBe(201);
    const rows = [golden.inputIds[0].slice(0, golden.validLengths[0])];
    const res = await embeddings(t.key, { model: `${PRESET}:emb`, input: rows });
    expect(res.status).toBe(200);
    expect(res.json.model).toBe(`${PRESET}:emb`);
    const expected = await referenceEmbeddings([{ ids: rows[0], text: 0 }], 1, adapter);
    expect(maxDiff(res.json.data[0].embedding, expected[0])).toBeLessThanOrEqual(1e-5);
    const foreign = await embeddings(other.key, { model: `${PRESET}:emb`, input: rows });
    expect(foreign.status).toBe(404);
    expect(foreign.json.error.code).toBe("adapter_not_found");
  });

  it("the official openai client works unchanged over HTTP (default base64 transport and float)", async () => {
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
    const anonymous = new OpenAI({ apiKey: "eb_wrong", baseURL: new URL("/v1", baseUrl).href, maxRetries: 0 });
    await expect(anonymous.embeddings.create({ model: PRESET, input })).rejects.toMatchObject({ status: 401, type: "authentication_error" });
  });

  it("forward takes texts too; pooling is configurable per preset (edgebone.json)", async () => {
    const texts = await call("POST", `/v1/models/${PRESET}/forward`, { key: t.key, body: { inputs: ["hello world", "the quick brown fox!"] } });
    expect(texts.status).toBe(200);
    expect(texts.json.token_ids).toEqual([[2, 19, 20, 3, 0, 0, 0], [2, 5, 6, 7, 8, 11, 3]]);
    const ids = await call("POST", `/v1/models/${PRESET}/forward`, { key: t.key, body: { token_ids: texts.json.token_ids, padding_mask: texts.json.padding_mask } });
    expect(texts.json.sequence_output).toEqual(ids.json.sequence_output);
    expect((await call("POST", `/v1/models/${PRESET}/forward`, { key: t.key, body: { inputs: "x", token_ids: [[1]] } })).status).toBe(422);
    const long = "hello world ".repeat(100);
    expect((await call("POST", `/v1/models/${PRESET}/forward`, { key: t.key, body: { inputs: long } })).status).toBe(422);
    expect((await call("POST", `/v1/models/${PRESET}/forward`, { key: t.key, body: { inputs: long, truncate: true } })).json.sequence_output.shape).toEqual([1, 64, 64]);

    // cls pooling on a copy of the preset
    await (await r2()).put(`presets/${PRESET}-copy/edgebone.json`, JSON.stringify({ pooling: "cls" }));
    const cls = await embeddings(t.key, { model: `${PRESET}-copy`, input: [[2, 19, 20, 3]] });
    const out = await call("POST", `/v1/models/${PRESET}-copy/forward`, { key: t.key, body: { token_ids: [[2, 19, 20, 3]] } });
    const first = (out.json.sequence_output.data as number[]).slice(0, 64);
    const n = Math.hypot(...first);
    expect(maxDiff(cls.json.data[0].embedding, first.map((x) => x / n))).toBeLessThanOrEqual(1e-6);
  });

  it("errors in OpenAI shape, and usage recorded per tenant in D1", async () => {
    const bad = async (body: unknown, status: number, code?: string) => {
      const res = await embeddings(t.key, body);
      expect(res.status, JSON.stringify(res.json)).toBe(status);
      expect(res.json.error.type).toBe(status === 404 || status < 500 ? "invalid_request_error" : "server_error");
      if (code) expect(res.json.error.code).toBe(code);
    };
    await bad({ model: "nope", input: "x" }, 404, "preset_not_found");
    await bad({ model: PRESET, input: "" }, 422, "empty_input");
    await bad({ model: PRESET, input: [] }, 422);
    await bad({ model: PRESET, input: [[1, 2], []] }, 422, "empty_input");
    await bad({ model: PRESET, input: [[1, 5000]] }, 422);
    await bad({ model: PRESET, input: "x", dimensions: 4096 }, 422, "invalid_dimensions");
    await bad({ model: PRESET, input: "x", encoding_format: "int8" }, 422);
    await bad({ model: `:${PRESET}`, input: "x" }, 400, "invalid_model");
    await bad({ input: "x" }, 422);
    const usage = await d1Rows("select requests, tokens from usage where tenant_id = ?", t.tenantId);
    expect(usage).toHaveLength(1);
    expect(usage[0].requests).toBeGreaterThanOrEqual(7);
    expect(usage[0].tokens).toBeGreaterThan(100);
  });
});

describe("edge worker: TEI-shaped routes", () => {
  let t: { key: string; tenantId: string };
  beforeAll(async () => {
    t = await tenantWithKey("tei-tenant");
  });

  it("/embed equals /v1/embeddings; normalize false; /embed_all gives per-token vectors", async () => {
    const inputs = ["the quick brown fox!", "hello world"];
    const tei = await call("POST", "/embed", { key: t.key, body: { inputs, model: PRESET } });
    expect(tei.status).toBe(200);
    const oa = await call("POST", "/v1/embeddings", { key: t.key, body: { input: inputs, model: PRESET } });
    expect(tei.json).toEqual(oa.json.data.map((d: Json) => d.embedding));
    const raw = await call("POST", "/embed", { key: t.key, body: { inputs: inputs[0], model: PRESET, normalize: false } });
    expect(Math.hypot(...raw.json[0])).toBeGreaterThan(1.01);

    const all = await call("POST", "/embed_all", { key: t.key, body: { inputs, model: PRESET } });
    expect(all.status).toBe(200);
    const fwd = await call("POST", `/v1/models/${PRESET}/forward`, { key: t.key, body: { token_ids: [[2, 5, 6, 7, 8, 11, 3]] } });
    expect(all.json[0]).toHaveLength(7); // [CLS] the quick brown fox ! [SEP]
    expect(maxDiff(all.json[0].flat(), fwd.json.sequence_output.data)).toBeLessThanOrEqual(1e-5);
  });

  it("/tokenize and /decode use the preset's tokenizer", async () => {
    const tok = await call("POST", "/tokenize", { key: t.key, body: { inputs: "hello world", model: PRESET } });
    expect(tok.status).toBe(200);
    expect(tok.json).toEqual([
      [
        { id: 2, text: "[CLS]", special: true, start: null, stop: null },
        { id: 19, text: "hello", special: false, start: 0, stop: 5 },
        { id: 20, text: "world", special: false, start: 6, stop: 11 },
        { id: 3, text: "[SEP]", special: true, start: null, stop: null },
      ],
    ]);
    expect((await call("POST", "/decode", { key: t.key, body: { ids: [2, 19, 20, 3], model: PRESET } })).json).toBe("hello world");
    expect((await call("POST", "/decode", { key: t.key, body: { ids: [[19], [20]], model: PRESET } })).json).toEqual(["hello", "world"]);
  });

  it("errors in TEI shape: 401 without a key, 422 without a model or out-of-range ids, 404 unknown preset", async () => {
    const anon = await call("POST", "/embed", { body: { inputs: "x", model: PRESET } });
    expect(anon.status).toBe(401);
    expect(anon.json).toMatchObject({ error_type: "Unauthorized" });
    const noModel = await call("POST", "/embed", { key: t.key, body: { inputs: "x" } });
    expect(noModel.status).toBe(422);
    expect(noModel.json).toMatchObject({ error_type: "Validation" });
    expect((await call("POST", "/decode", { key: t.key, body: { ids: [5000], model: PRESET } })).status).toBe(422);
    expect((await call("POST", "/tokenize", { key: t.key, body: { inputs: "x", model: "nope" } })).json).toMatchObject({ error_type: "NotFound" });
    expect((await call("GET", "/health")).status).toBe(200);
  });
});

describe("edge worker: Workers RPC from a second worker (service binding)", () => {
  let t: { key: string; tenantId: string };
  let other: { key: string; tenantId: string };
  const rpc = async (op: string, ...args: unknown[]): Promise<Json> => {
    const client = (await mf.getWorker("client")) as unknown as { fetch(url: string, init: object): Promise<Response> };
    return (await (await client.fetch("http://client/", { method: "POST", body: JSON.stringify({ op, args }) })).json()) as Json;
  };
  beforeAll(async () => {
    t = await tenantWithKey("rpc-tenant");
    other = await tenantWithKey("rpc-other");
  });

  it("embed, forward and tokenize equal the HTTP routes", async () => {
    const body = { token_ids: golden.inputIds, padding_mask: golden.attentionMask };
    const fwd = await rpc("forward", t.key, PRESET, body);
    expect(fwd.ok, fwd.message).toBe(true);
    expect(fwd.float32).toBe(true);
    const http = await call("POST", `/v1/models/${PRESET}/forward`, { key: t.key, body });
    expect(fwd.result.shape).toEqual(http.json.sequence_output.shape);
    expect(fwd.result.data).toEqual(http.json.sequence_output.data);

    const emb = await rpc("embed", t.key, { model: PRESET, input: ["hello world"] });
    expect(emb.ok).toBe(true);
    const httpEmb = await call("POST", "/v1/embeddings", { key: t.key, body: { model: PRESET, input: ["hello world"] } });
    expect(emb.result.data[0].embedding).toEqual(httpEmb.json.data[0].embedding);

    const tok = await rpc("tokenize", t.key, PRESET, "hello world");
    expect(tok.result[0].map((x: Json) => x.id)).toEqual([2, 19, 20, 3]);
  });

  it("is tenant-scoped by the API key and rejects with status and code", async () => {
    expect((await putAdapter(t.key, "rpc-adapter", await adapterBytes(50))).status).toBe(201);
    expect((await rpc("embed", t.key, { model: `${PRESET}:rpc-adapter`, input: "hello" })).ok).toBe(true);
    const foreign = await rpc("embed", other.key, { model: `${PRESET}:rpc-adapter`, input: "hello" });
    expect(foreign).toMatchObject({ ok: false });
    expect(foreign.message).toMatch(/^404 adapter_not_found/);
    expect((await rpc("forward", "eb_nope", PRESET, { token_ids: [[1]] })).message).toMatch(/^401 invalid_api_key/);
    expect((await rpc("forward", t.key, "nope", { token_ids: [[1]] })).message).toMatch(/^404 preset_not_found/);
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

    // auth, names and integrity
    await expect(installPreset({ dir, name: "x", url: baseUrl.href, token: "wrong" })).rejects.toThrow(/403/);
    expect((await call("PUT", "/admin/presets/..%2Fx/config.json", { key: ADMIN, body: "{}" })).status).toBe(422);
    const bad = await fetch(new URL("/admin/presets/x/config.json", baseUrl), { method: "PUT", headers: { authorization: `Bearer ${ADMIN}`, "x-sha256": "0".repeat(64) }, body: "{}" }).then(async (r) => ({ status: r.status, json: (await r.json()) as Json }));
    expect(bad.status, JSON.stringify(bad.json)).toBe(422);
    expect(bad.json.error_type).toBe("Validation");
    expect(await r2Keys("presets/x/")).toEqual([]);
  });
});
