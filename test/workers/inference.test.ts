/**
 * Inference routes in workerd: forward and embeddings (OpenAI shape), the TEI-shaped routes (TEI shape), their
 * error statuses, usage accounting in D1, Workers RPC, and where a preset runs (`x-edgebone-backend`: the
 * isolate, or the runner pool, which answers 503 when none is configured or none is reachable).
 * Numerical agreement with Hugging Face and the library in Node is test/edge.test.ts's.
 */
import { env, exports } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { GEMMA, PRESET, adapterBytes, call, d1Rows, putAdapter, tenantWithKey, type Json, type Tenant } from "./helpers.js";

let t: Tenant;
beforeAll(async () => {
  t = await tenantWithKey("inference-tenant");
});

const forward = (preset: string, body: unknown, q = "", key = t.key) => call("POST", `/v1/models/${preset}/forward${q}`, { key, body });
const embeddings = (body: unknown) => call("POST", "/v1/embeddings", { key: t.key, body });

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

describe("POST /v1/models/:preset/forward", () => {
  it("runs in the isolate; JSON and octet-stream carry the same floats", async () => {
    const body = { token_ids: [[2, 19, 20, 3, 0], [2, 5, 6, 7, 3]], padding_mask: [[1, 1, 1, 1, 0], [1, 1, 1, 1, 1]] };
    const res = await forward(PRESET, body);
    expect(res.status).toBe(200);
    expect(res.headers.get("x-edgebone-backend")).toBe("isolate");
    expect(res.headers.get("x-edgebone-runner")).toBeNull();
    for (const h of ["x-queue-time", "x-inference-time", "x-compute-time"]) expect(Number(res.headers.get(h))).toBeGreaterThanOrEqual(0);
    const out = res.json.sequence_output;
    expect(out.shape).toEqual([2, 5, 64]);
    expect(out.data.every((x: number) => Number.isFinite(x))).toBe(true);
    const bin = await call("POST", `/v1/models/${PRESET}/forward`, { key: t.key, body, headers: { accept: "application/octet-stream" } });
    expect(bin.status).toBe(200);
    expect(bin.headers.get("x-shape")).toBe("2,5,64");
    expect(bin.headers.get("x-dtype")).toBe("float32");
    expect(Array.from(new Float32Array(bin.bytes!))).toEqual(Array.from(Float32Array.from(out.data)));
  });

  it("takes texts (the preset's tokenizer) and an adapter by query or body field", async () => {
    const texts = await forward(PRESET, { inputs: ["hello world", "the quick brown fox!"] });
    expect(texts.status).toBe(200);
    expect(texts.json.token_ids).toEqual([[2, 19, 20, 3, 0, 0, 0], [2, 5, 6, 7, 8, 11, 3]]);
    expect(texts.json.padding_mask).toEqual([[1, 1, 1, 1, 0, 0, 0], [1, 1, 1, 1, 1, 1, 1]]);
    const ids = await forward(PRESET, { token_ids: texts.json.token_ids, padding_mask: texts.json.padding_mask });
    expect(texts.json.sequence_output).toEqual(ids.json.sequence_output);
    const long = "hello world ".repeat(100);
    expect((await forward(PRESET, { inputs: long })).status).toBe(422);
    expect((await forward(PRESET, { inputs: long, truncate: true })).json.sequence_output.shape).toEqual([1, 64, 64]);

    expect((await putAdapter(t.key, "tuned", await adapterBytes(7))).status).toBe(201);
    const body = { token_ids: [[2, 19, 20, 3]] };
    const [plain, viaQuery, viaBody] = await Promise.all([forward(PRESET, body), forward(PRESET, body, "?adapter=tuned"), forward(PRESET, { ...body, adapter: "tuned" })]);
    expect(viaQuery.status).toBe(200);
    expect(viaBody.json.sequence_output.data).toEqual(viaQuery.json.sequence_output.data);
    expect(maxDiff(viaQuery.json.sequence_output.data, plain.json.sequence_output.data)).toBeGreaterThan(1e-3);
  });

  it("errors in OpenAI shape: 400 bad JSON, 404 unknown preset/adapter, 413 too many tokens, 422 invalid, 422 adapter for another base", async () => {
    const badJson = await call("POST", `/v1/models/${PRESET}/forward`, { key: t.key, body: "{", headers: { "content-type": "application/json" } });
    expect(badJson.status).toBe(400);
    expect(badJson.json.error).toMatchObject({ type: "invalid_request_error", code: "invalid_json" });
    const unknown = await forward("no-such-preset", { token_ids: [[1]] });
    expect(unknown.status).toBe(404);
    expect(unknown.json.error).toMatchObject({ type: "invalid_request_error", code: "preset_not_found" });
    expect((await forward("..%2Fetc", { token_ids: [[1]] })).status).toBe(404);
    expect((await forward(PRESET, { token_ids: [[1, 2], [3]] })).status).toBe(422);
    const range = await forward(PRESET, { token_ids: [[1, 1_000_000]] });
    expect(range.status).toBe(422);
    expect(range.json.error.type).toBe("invalid_request_error");
    const rows = await forward(PRESET, { token_ids: Array.from({ length: 65 }, () => [1]) });
    expect(rows.status).toBe(422);
    expect(rows.json.error.code).toBe("too_many_inputs");
    const tokens = await forward(PRESET, { token_ids: Array.from({ length: 32 }, () => new Array(600).fill(1)) });
    expect(tokens.status).toBe(413);
    expect(tokens.json.error).toMatchObject({ type: "invalid_request_error", code: "too_many_tokens", param: "token_ids" });
    const schema = await forward(PRESET, { ids: [[1]] });
    expect(schema.status).toBe(422);
    expect(schema.json.error.code).toBe("validation_error");
    expect((await forward(PRESET, { inputs: "x", token_ids: [[1]] })).status).toBe(422);
    const missing = await forward(PRESET, { token_ids: [[1]] }, "?adapter=missing");
    expect(missing.status).toBe(404);
    expect(missing.json.error.code).toBe("adapter_not_found");
    expect((await putAdapter(t.key, "other-base", await adapterBytes(30), `${PRESET}-copy`)).status).toBe(201);
    const mismatch = await forward(PRESET, { token_ids: [[1]] }, "?adapter=other-base");
    expect(mismatch.status).toBe(422);
    expect(mismatch.json.error).toMatchObject({ code: "adapter_base_mismatch", param: "adapter" });
    expect((await forward(`${PRESET}-copy`, { token_ids: [[101, 102]] }, "?adapter=other-base")).status).toBe(200);
  });
});

describe("POST /v1/embeddings", () => {
  it("mean-pooled, L2-normalised; base64 and dimensions; cls pooling from the preset's edgebone.json", async () => {
    const res = await embeddings({ model: PRESET, input: [[2, 19, 20, 3], [2, 5, 6, 7, 8, 11, 3]] });
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ object: "list", model: PRESET, usage: { prompt_tokens: 11, total_tokens: 11 } });
    expect(res.headers.get("x-edgebone-backend")).toBe("isolate");
    const fwd = await forward(PRESET, { token_ids: [[2, 19, 20, 3]] });
    const H = 64;
    const mean = Array.from({ length: H }, (_, h) => [0, 1, 2, 3].reduce((s, t) => s + fwd.json.sequence_output.data[t * H + h], 0) / 4);
    const n = Math.hypot(...mean);
    expect(maxDiff(res.json.data[0].embedding, mean.map((x) => x / n))).toBeLessThanOrEqual(1e-5);
    res.json.data.forEach((d: Json, i: number) => {
      expect(d).toMatchObject({ object: "embedding", index: i });
      expect(Math.hypot(...d.embedding)).toBeCloseTo(1, 5);
    });

    const b64 = await embeddings({ model: PRESET, input: [[2, 19, 20, 3], [2, 5, 6, 7, 8, 11, 3]], encoding_format: "base64" });
    const bytes = Uint8Array.from(atob(b64.json.data[1].embedding), (c) => c.charCodeAt(0));
    expect(Array.from(new Float32Array(bytes.buffer))).toEqual(res.json.data[1].embedding);
    const small = await embeddings({ model: PRESET, input: [2, 19, 20, 3], dimensions: 16 });
    expect(small.json.data[0].embedding).toHaveLength(16);
    expect(Math.hypot(...small.json.data[0].embedding)).toBeCloseTo(1, 5);

    await env.BUCKET.put(`presets/${PRESET}-copy/edgebone.json`, JSON.stringify({ pooling: "cls" }));
    const cls = await embeddings({ model: `${PRESET}-copy`, input: [[2, 19, 20, 3]] });
    const first = (fwd.json.sequence_output.data as number[]).slice(0, H);
    const norm = Math.hypot(...first);
    expect(maxDiff(cls.json.data[0].embedding, first.map((x) => x / norm))).toBeLessThanOrEqual(1e-6);
  });

  it("errors in OpenAI shape, and usage recorded per tenant in D1", async () => {
    const u = await tenantWithKey("usage-tenant");
    const bad = async (body: unknown, status: number, code?: string) => {
      const res = await call("POST", "/v1/embeddings", { key: u.key, body });
      expect(res.status, JSON.stringify(res.json)).toBe(status);
      expect(Object.keys(res.json.error).sort()).toEqual(["code", "message", "param", "type"]);
      expect(res.json.error.type).toBe("invalid_request_error");
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
    expect(await d1Rows("select requests, tokens from usage where tenant_id = ?", u.tenantId)).toEqual([]);
    for (const input of ["hello world", "the quick brown fox!"]) expect((await call("POST", "/v1/embeddings", { key: u.key, body: { model: PRESET, input } })).status).toBe(200);
    expect((await call("POST", `/v1/models/${PRESET}/forward`, { key: u.key, body: { token_ids: [[2, 3, 0]], padding_mask: [[1, 1, 0]] } })).status).toBe(200);
    const usage = await d1Rows("select day, requests, tokens from usage where tenant_id = ?", u.tenantId);
    expect(usage).toEqual([{ day: new Date().toISOString().slice(0, 10), requests: 3, tokens: 4 + 7 + 2 }]);
  });
});

describe("TEI-shaped routes", () => {
  it("/embed equals /v1/embeddings; normalize false; /embed_all gives per-token vectors", async () => {
    const inputs = ["the quick brown fox!", "hello world"];
    const tei = await call("POST", "/embed", { key: t.key, body: { inputs, model: PRESET } });
    expect(tei.status).toBe(200);
    const oa = await embeddings({ input: inputs, model: PRESET });
    expect(tei.json).toEqual(oa.json.data.map((d: Json) => d.embedding));
    const raw = await call("POST", "/embed", { key: t.key, body: { inputs: inputs[0], model: PRESET, normalize: false } });
    expect(Math.hypot(...raw.json[0])).toBeGreaterThan(1.01);

    const all = await call("POST", "/embed_all", { key: t.key, body: { inputs, model: PRESET } });
    expect(all.status).toBe(200);
    const fwd = await forward(PRESET, { token_ids: [[2, 5, 6, 7, 8, 11, 3]] });
    expect(all.json[0]).toHaveLength(7); // [CLS] the quick brown fox ! [SEP]
    expect(all.json[1]).toHaveLength(4);
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
    const bare = await call("POST", "/tokenize", { key: t.key, body: { inputs: ["hello"], model: PRESET, add_special_tokens: false } });
    expect(bare.json).toEqual([[{ id: 19, text: "hello", special: false, start: 0, stop: 5 }]]);
    expect((await call("POST", "/decode", { key: t.key, body: { ids: [2, 19, 20, 3], model: PRESET } })).json).toBe("hello world");
    expect((await call("POST", "/decode", { key: t.key, body: { ids: [[19], [20]], model: PRESET } })).json).toEqual(["hello", "world"]);
  });

  it("errors in TEI shape: 401 without a key, 400 bad JSON, 422 no model / out-of-range ids, 404 unknown preset", async () => {
    const anon = await call("POST", "/embed", { body: { inputs: "x", model: PRESET } });
    expect(anon.status).toBe(401);
    expect(anon.json).toMatchObject({ error_type: "Unauthorized" });
    expect(typeof anon.json.error).toBe("string");
    const badJson = await call("POST", "/embed", { key: t.key, body: "{", headers: { "content-type": "application/json" } });
    expect(badJson.status).toBe(400);
    expect(badJson.json).toMatchObject({ error_type: "Validation" });
    const noModel = await call("POST", "/embed", { key: t.key, body: { inputs: "x" } });
    expect(noModel.status).toBe(422);
    expect(noModel.json).toEqual({ error: expect.stringContaining("TEI_DEFAULT_PRESET"), error_type: "Validation" });
    const range = await call("POST", "/decode", { key: t.key, body: { ids: [5000], model: PRESET } });
    expect(range.status).toBe(422);
    expect(range.json.error_type).toBe("Validation");
    const unknown = await call("POST", "/tokenize", { key: t.key, body: { inputs: "x", model: "nope" } });
    expect(unknown.status).toBe(404);
    expect(unknown.json).toEqual({ error: 'preset "nope" not found', error_type: "NotFound" });
    // TEI_DEFAULT_PRESET stands in for a missing model
    const defaulted = await call("POST", "/tokenize", { key: t.key, body: { inputs: "hello" }, env: { ...env, TEI_DEFAULT_PRESET: PRESET } });
    expect(defaulted.status).toBe(200);
    expect(defaulted.json[0].map((x: Json) => x.id)).toEqual([2, 19, 3]);
  });
});

describe("Workers RPC (EdgeboneRpc, through the worker's own loopback)", () => {
  it("embed, forward and tokenize equal the HTTP routes; errors reject with status and code", async () => {
    const body = { token_ids: [[2, 19, 20, 3, 0]], padding_mask: [[1, 1, 1, 1, 0]] };
    const fwd = await exports.EdgeboneRpc.forward(t.key, PRESET, body);
    expect(fwd.data).toBeInstanceOf(Float32Array);
    const http = await forward(PRESET, body);
    expect(fwd.shape).toEqual(http.json.sequence_output.shape);
    expect(Array.from(fwd.data)).toEqual(http.json.sequence_output.data);
    const emb = await exports.EdgeboneRpc.embed(t.key, { model: PRESET, input: ["hello world"] });
    expect(emb.data[0].embedding).toEqual((await embeddings({ model: PRESET, input: ["hello world"] })).json.data[0].embedding);
    const tok = await exports.EdgeboneRpc.tokenize(t.key, PRESET, "hello world");
    expect(tok[0].map((x: Json) => x.id)).toEqual([2, 19, 20, 3]);

    const rejection = async (f: () => Promise<unknown>) => {
      try {
        await f();
        return "";
      } catch (e) {
        return String((e as Error).message);
      }
    };
    expect(await rejection(() => exports.EdgeboneRpc.forward("eb_nope", PRESET, { token_ids: [[1]] }))).toMatch(/^401 invalid_api_key/);
    expect(await rejection(() => exports.EdgeboneRpc.forward(t.key, "nope", { token_ids: [[1]] }))).toMatch(/^404 preset_not_found/);
  });
});

describe("routing: isolate or runner pool", () => {
  it("Gemma and presets over the isolate budget go to the runner pool: 503 no_runner_configured without one", async () => {
    for (const preset of [GEMMA, "huge-distilbert"]) {
      const res = await forward(preset, { token_ids: [[2, 10, 20]] });
      expect(res.headers.get("x-edgebone-backend"), preset).toBe("runner");
      expect(res.status).toBe(503);
      expect(res.json.error).toMatchObject({ type: "server_error", code: "no_runner_configured" });
      const emb = await embeddings({ model: preset, input: [[2, 10, 20]] });
      expect(emb.headers.get("x-edgebone-backend")).toBe("runner");
      expect(emb.status).toBe(503);
      expect(emb.json.error.code).toBe("no_runner_configured");
    }
    // texts are tokenized at the edge, then sent to the pool; TEI shape
    const tei = await call("POST", "/embed_all", { key: t.key, body: { model: GEMMA, inputs: "the quick fox" } });
    expect(tei.headers.get("x-edgebone-backend")).toBe("runner");
    expect(tei.status, JSON.stringify(tei.json)).toBe(503);
    expect(tei.json).toEqual({ error: expect.stringContaining("no runner is configured"), error_type: "Unhealthy" });
    // Gemma has no position limit: texts are chunked in 1024-token windows (not a 422 for a missing length)
    for (const body of [{ model: GEMMA, input: "the quick fox" }, { model: GEMMA, input: ["the quick fox"], truncate: true }]) {
      const text = await embeddings(body);
      expect(text.status, JSON.stringify(text.json)).toBe(503);
      expect(text.json.error.code).toBe("no_runner_configured");
    }
    // a preset without a tokenizer cannot take texts, wherever it runs
    const noTok = await call("POST", "/embed", { key: t.key, body: { model: "huge-distilbert", inputs: "hello" } });
    expect(noTok.status).toBe(422);
    // the isolate preset is unaffected
    expect((await forward(PRESET, { token_ids: [[2, 3]] })).headers.get("x-edgebone-backend")).toBe("isolate");
  });

  it("inputs are validated against the runner preset before any runner call (422, not 503)", async () => {
    const range = await forward(GEMMA, { token_ids: [[1, 512]] });
    expect(range.status).toBe(422);
    expect(range.headers.get("x-edgebone-backend")).toBe("runner");
    expect(range.json.error.type).toBe("invalid_request_error");
  });

  it("503 no_healthy_runner when the configured runners cannot be reached", async () => {
    const unreachable = { ...env, RUNNER_URLS: "http://127.0.0.1:9", RUNNER_SIGNING_KEY: "test-signing-key-0123456789abcdef", RUNNER_TIMEOUT_MS: "1000" };
    const res = await call("POST", `/v1/models/${GEMMA}/forward`, { key: t.key, body: { token_ids: [[2, 10, 20]] }, env: unreachable });
    expect(res.headers.get("x-edgebone-backend")).toBe("runner");
    expect(res.status, JSON.stringify(res.json)).toBe(503);
    expect(res.json.error).toMatchObject({ type: "server_error", code: "no_healthy_runner" });
    const tei = await call("POST", "/embed_all", { key: t.key, body: { model: GEMMA, inputs: "the quick fox" }, env: unreachable });
    expect(tei.status).toBe(503);
    expect(tei.json).toMatchObject({ error_type: "Unhealthy" });
  });
});
