/**
 * The runner over HTTP (Hono `app.request()`, no socket): signatures, forward results against the library,
 * batching of mixed adapters and lengths, every error path, budgets, draining, health and metrics.
 */
import { execFileSync } from "node:child_process";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../gpu-runner/app.js";
import type { RunnerConfig } from "../gpu-runner/config.js";
import type { RunnerStore } from "../gpu-runner/object-store.js";
import type { Runner } from "../gpu-runner/runner.js";
import { GemmaBackbone, initLora, loraSafetensorsFormat, nodeRuntime, type BackboneSession } from "../shared/node/index.js";
import { adapterRecordKey, publishedAdapterKey, collectPresetFiles, presetFileKey, presetRecordKey, publishAdapter, publishPreset } from "../shared/runner/layout.js";
import { HEADERS, decodeTensor, type ForwardRequest } from "../shared/runner/index.js";
import { LocalDirStore } from "../gpu-runner/object-store.js";
import { PRESET, SIGNING_KEY, TENANT, makeFixture, makeRunner, maxDiff, reference, signed, tinyGemma, tmp, tokens, type Fixture } from "./helpers/runner-fixtures.js";

let fx: Fixture;
let session: BackboneSession;

beforeAll(async () => {
  fx = await makeFixture(4);
  session = await fx.backbone.createSession(nodeRuntime({ threads: 1 }), { lora: true });
});

async function serve(overrides: Partial<RunnerConfig> = {}, store?: RunnerStore, fixture = fx) {
  const runner = await makeRunner(fixture, overrides, store);
  const app = await createApp(runner);
  const post = async (body: unknown) => app.request(await signed("POST", "/v1/forward", body));
  return { runner, app, post };
}

async function tensorOf(res: Response) {
  const bytes = await res.arrayBuffer();
  if (res.status !== 200) throw new Error(`${res.status}: ${new TextDecoder().decode(bytes)}`);
  return decodeTensor((n) => res.headers.get(n), bytes);
}

async function errorOf(res: Response) {
  return { status: res.status, ...((await res.json()) as { error: string; code: string }) };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A store that answers `delayMs` late (for queueing, timeouts and draining). */
function slowStore(inner: RunnerStore, delayMs: number): RunnerStore {
  return {
    description: inner.description,
    get: async (k, s) => (await sleep(delayMs), inner.get(k, s)),
    open: async (k, s) => (await sleep(delayMs), inner.open(k, s)),
    put: (k, b) => inner.put(k, b),
  };
}

describe("signatures", () => {
  it("rejects unsigned, stale, wrongly keyed, tampered and replayed requests with 401", async () => {
    const { app } = await serve();
    const body = { preset: PRESET, token_ids: [[1, 2]] };
    const plain = await app.request(new Request("http://runner/v1/forward", { method: "POST", body: JSON.stringify(body) }));
    expect(await errorOf(plain)).toMatchObject({ status: 401, code: "unauthorized", error: expect.stringMatching(/not signed/) });
    const stale = await app.request(await signed("POST", "/v1/forward", body, { now: Date.now() - 120_000 }));
    expect(await errorOf(stale)).toMatchObject({ status: 401, error: expect.stringMatching(/120 s old/) });
    const wrongKey = await app.request(await signed("POST", "/v1/forward", body, { key: "x".repeat(40) }));
    expect(await errorOf(wrongKey)).toMatchObject({ status: 401, error: expect.stringMatching(/signature does not match/) });
    const good = await signed("POST", "/v1/forward", body);
    const tampered = new Request(good.url, { method: "POST", headers: good.headers, body: JSON.stringify({ ...body, token_ids: [[3, 4]] }) });
    expect((await app.request(tampered)).status).toBe(401);
    const original = await signed("POST", "/v1/forward", body);
    const copy = original.clone();
    expect((await app.request(original)).status).toBe(200);
    expect(await errorOf(await app.request(copy))).toMatchObject({ status: 401, error: expect.stringMatching(/replayed/) });
    for (const path of ["/health", "/ready", "/info", "/metrics", "/nope"]) expect((await app.request(`http://runner${path}`)).status).toBe(401);
  });

  it("serves RUNNER_UNSIGNED_PATHS without a signature, nothing else", async () => {
    const { app } = await serve({ unsignedPaths: ["/health", "/metrics"] });
    expect((await app.request("http://runner/health")).status).toBe(200);
    expect((await app.request("http://runner/metrics")).status).toBe(200);
    expect((await app.request("http://runner/info")).status).toBe(401);
  });
});

describe("POST /v1/forward", () => {
  it("returns the library's hidden states: base rows, one adapter, per-row adapters, inline records", async () => {
    const { post } = await serve();
    const a = (n: string) => fx.adapters.get(n)!;
    const record = JSON.parse(readFileSync(join(fx.dir, "store", adapterRecordKey(TENANT, "a3")), "utf8"));
    const cases: [ForwardRequest, (ReturnType<typeof a> | null)[]][] = [
      [{ preset: PRESET, token_ids: tokens(2, 7) }, [null, null]],
      [{ preset: PRESET, tenant: TENANT, adapter: "a1", token_ids: tokens(3, 5, 1) }, [a("a1"), a("a1"), a("a1")]],
      [{ preset: PRESET, tenant: TENANT, adapter: ["a0", null, "a2", "a0"], token_ids: tokens(4, 6, 2) }, [a("a0"), null, a("a2"), a("a0")]],
      [{ preset: PRESET, tenant: TENANT, adapter: [{ name: "a3", ...record }], token_ids: tokens(1, 9, 3) }, [a("a3")]],
    ];
    for (const [request, adapters] of cases) {
      const res = await post(request);
      const t = await tensorOf(res);
      expect(t.shape).toEqual([request.token_ids.length, request.token_ids[0].length, 32]);
      expect(res.headers.get(HEADERS.runner)).toBe("test-runner");
      expect(maxDiff(t.data, await reference(session, request.token_ids, adapters))).toBeLessThan(1e-5);
    }
    // Different adapters really give different states (the test would pass vacuously otherwise).
    const base = await tensorOf(await post({ preset: PRESET, token_ids: tokens(1, 6) }));
    const adapted = await tensorOf(await post({ preset: PRESET, tenant: TENANT, adapter: "a0", token_ids: tokens(1, 6) }));
    expect(maxDiff(base.data, adapted.data)).toBeGreaterThan(1e-3);
  });

  it("batches concurrent requests of different lengths and adapters; each equals its run alone", async () => {
    const { post } = await serve();
    await post({ preset: PRESET, token_ids: [[1]] }); // load first, so the requests below meet in the queue
    const requests: [ForwardRequest, (string | null)[]][] = [];
    for (let i = 0; i < 8; i++) {
      const rows = 1 + (i % 3);
      const adapter = Array.from({ length: rows }, (_, r) => ((i + r) % 5 === 4 ? null : `a${(i + r) % 4}`));
      const mask = tokens(rows, 3 + i, i).map((row, r) => row.map((_, t) => (t < 3 + i - (r % 2) ? 1 : 0))); // some rows end in padding
      requests.push([{ preset: PRESET, tenant: TENANT, adapter, token_ids: tokens(rows, 3 + i, i), padding_mask: mask }, adapter]);
    }
    const responses = await Promise.all(requests.map(([r]) => post(r)));
    const batchRows = responses.map((r) => Number(r.headers.get(HEADERS.batchRows)));
    expect(Math.max(...batchRows)).toBeGreaterThan(3); // rows of several requests (and adapters) shared a batch
    for (const [i, res] of responses.entries()) {
      const [request, names] = requests[i];
      const t = await tensorOf(res);
      const ref = await reference(session, request.token_ids, names.map((n) => (n ? fx.adapters.get(n)! : null)), request.padding_mask);
      // Compare real positions only (padded positions are not meaningful).
      const hidden = 32;
      const L = request.token_ids[0].length;
      let worst = 0;
      request.padding_mask!.forEach((row, r) =>
        row.forEach((m, p) => {
          if (!m) return;
          for (let h = 0; h < hidden; h++) worst = Math.max(worst, Math.abs(t.data[(r * L + p) * hidden + h] - ref[(r * L + p) * hidden + h]));
        }),
      );
      expect(worst).toBeLessThan(1e-5);
    }
  });

  it("picks up a new version of an adapter (cached by sha256, records re-read after their TTL)", async () => {
    const fixture = await makeFixture(1);
    const { post } = await serve({ recordTtlMs: 0 }, undefined, fixture);
    const request = { preset: PRESET, tenant: TENANT, adapter: "a0", token_ids: tokens(1, 5) };
    const before = await tensorOf(await post(request));
    const replacement = initLora(fixture.backbone.loraTargets(), 2, 999, true);
    await publishAdapter(fixture.store, TENANT, "a0", await loraSafetensorsFormat.encode(replacement, fixture.backbone));
    const after = await tensorOf(await post(request));
    const s = await fixture.backbone.createSession(nodeRuntime({ threads: 1 }), { lora: true });
    expect(maxDiff(after.data, await reference(s, request.token_ids, [replacement]))).toBeLessThan(1e-5);
    expect(maxDiff(after.data, before.data)).toBeGreaterThan(1e-3);
  });
});

describe("errors", () => {
  let post: (body: unknown) => Promise<Response>;
  let app: Awaited<ReturnType<typeof serve>>["app"];
  beforeAll(async () => {
    ({ post, app } = await serve({ maxClientBatchSize: 4, maxBatchTokens: 64, maxBodyBytes: 4096 }));
    // An adapter made for another architecture, stored under the same tenant.
    const alien = new GemmaBackbone({ vocabularySize: 64, numLayers: 1, numQueryHeads: 2, numKeyValueHeads: 1, hiddenDim: 16, intermediateDim: 32, headDim: 8 });
    await publishAdapter(fx.store, TENANT, "alien", await loraSafetensorsFormat.encode(initLora(alien.loraTargets(), 2, 1), alien));
  });

  it.each([
    ["a body that is not JSON", "{oops", 400, "bad_request", /request body is not JSON/],
    ["a schema violation", { preset: PRESET, token_ids: [[1, 2], [3]] }, 400, "bad_request", /token_ids\[1\] has 1 values/],
    ["a token id out of range", { preset: PRESET, token_ids: [[1, 64]] }, 400, "bad_request", /token_ids\[0\]\[1\] = 64 is out of range for vocabulary size 64/],
    ["an unknown preset", { preset: "nope", token_ids: [[1]] }, 404, "not_found", /preset nope is not in local directory .* \(no presets\/nope\/record\.json\)/],
    ["an unknown adapter", { preset: PRESET, tenant: TENANT, adapter: "ghost", token_ids: [[1]] }, 404, "not_found", /adapter acme\/ghost is not in/],
    ["another tenant's adapter name", { preset: PRESET, tenant: "other", adapter: "a0", token_ids: [[1]] }, 404, "not_found", /adapter other\/a0/],
    ["an adapter of another architecture", { preset: PRESET, tenant: TENANT, adapter: "alien", token_ids: [[1]] }, 400, "bad_adapter", /adapter acme\/alien.*\(preset gemma2_tiny\)/],
    ["an inline record the object does not match", { preset: PRESET, tenant: TENANT, adapter: { name: "a0", size: 10, sha256: "0".repeat(64) }, token_ids: [[1]] }, 502, "corrupt_object", /adapters\/acme\/a0\.lora\.safetensors is corrupt/],
    ["a pinned object key of another tenant", { preset: PRESET, tenant: "other", adapter: { name: "a0", size: 10, sha256: "0".repeat(64), key: "adapters/acme/a0.lora.safetensors" }, token_ids: [[1]] }, 400, "bad_request", /adapter key adapters\/acme\/a0\.lora\.safetensors is not under adapters\/other\//],
    ["a pinned object key outside adapters/", { preset: PRESET, tenant: TENANT, adapter: { name: "a0", size: 10, sha256: "0".repeat(64), key: "presets/x/config.json" }, token_ids: [[1]] }, 400, "bad_request", /must be an object key under adapters\//],
    ["too many rows", { preset: PRESET, token_ids: tokens(5, 2) }, 413, "too_large", /5 rows, this runner accepts at most 4/],
    ["too many tokens", { preset: PRESET, token_ids: tokens(2, 40) }, 413, "too_large", /2 × 40 = 80 tokens, max batch tokens is 64/],
    ["a body over the limit", { preset: PRESET, token_ids: [Array(3000).fill(1)] }, 413, "too_large", /request body exceeds 4096 bytes/],
  ])("%s → %i", async (_, body, status, code, message) => {
    const res = await post(body);
    const e = await errorOf(res);
    expect(e).toMatchObject({ status, code });
    expect(e.error).toMatch(message);
    expect(e.error).not.toContain("\n");
  });

  it("unknown routes → 404", async () => {
    expect(await errorOf(await app.request(await signed("GET", "/v2/whatever")))).toMatchObject({ status: 404, code: "not_found" });
    expect((await app.request(await signed("GET", "/v1/forward"))).status).toBe(404);
  });
});

describe("corrupt and missing objects", () => {
  it("fails a corrupt preset or adapter with 502, caches nothing, and serves once the store is repaired", async () => {
    const fixture = await makeFixture(1);
    const { post, runner } = await serve({}, undefined, fixture);
    const storeDir = join(fixture.dir, "store");
    const modelPath = join(storeDir, presetFileKey(PRESET, "model.safetensors"));
    const good = readFileSync(modelPath);
    const bad = Buffer.from(good);
    bad[bad.length - 1] ^= 0xff; // one flipped bit in the last weight
    writeFileSync(modelPath, bad);
    const request = { preset: PRESET, tenant: TENANT, adapter: "a0", token_ids: tokens(1, 4) };
    expect(await errorOf(await post(request))).toMatchObject({ status: 502, code: "corrupt_object", error: expect.stringMatching(/presets\/gemma2_tiny\/model\.safetensors is corrupt: sha256/) });
    expect(runner.disk.count).toBeLessThanOrEqual(2); // config.json / metadata.json, never the corrupt file
    expect(runner.models.loaded()).toEqual([]);
    writeFileSync(modelPath, good);
    const adapterPath = join(storeDir, publishedAdapterKey(TENANT, "a0"));
    const adapterBytes = readFileSync(adapterPath);
    writeFileSync(adapterPath, adapterBytes.subarray(0, adapterBytes.length - 4)); // truncated
    expect(await errorOf(await post(request))).toMatchObject({ status: 502, error: expect.stringMatching(/a0\.lora\.safetensors is corrupt: the store has \d+ bytes, its record says \d+/) });
    writeFileSync(adapterPath, adapterBytes);
    expect((await post(request)).status).toBe(200);
  });

  it("fails a listed-but-missing file with 404 and an invalid record with 502", async () => {
    const fixture = await makeFixture(1);
    const { post } = await serve({ recordTtlMs: 0 }, undefined, fixture);
    const storeDir = join(fixture.dir, "store");
    rmSync(join(storeDir, presetFileKey(PRESET, "model.safetensors")));
    expect(await errorOf(await post({ preset: PRESET, token_ids: [[1]] }))).toMatchObject({ status: 404, error: "presets/gemma2_tiny/model.safetensors is listed in its record but missing from the store" });
    writeFileSync(join(storeDir, presetRecordKey(PRESET)), "{not json");
    expect(await errorOf(await post({ preset: PRESET, token_ids: [[1]] }))).toMatchObject({ status: 502, code: "corrupt_object", error: expect.stringMatching(/presets\/gemma2_tiny\/record\.json is not a valid record/) });
  });
});

describe("load limits", () => {
  it("answers 429 beyond max concurrent requests and keeps in-flight work bounded", async () => {
    const { post, runner } = await serve({ maxConcurrentRequests: 3 }, slowStore(fx.store, 150));
    let peak = 0;
    const watch = setInterval(() => (peak = Math.max(peak, runner.inflightRequests)), 2);
    const responses = await Promise.all(Array.from({ length: 12 }, (_, i) => post({ preset: PRESET, token_ids: tokens(1, 4, i) })));
    clearInterval(watch);
    const statuses = responses.map((r) => r.status).sort();
    expect(statuses.filter((s) => s === 200)).toHaveLength(3);
    expect(statuses.filter((s) => s === 429)).toHaveLength(9);
    const overloaded = responses.find((r) => r.status === 429)!;
    expect(await errorOf(overloaded)).toMatchObject({ code: "overloaded", error: "runner test-runner is at its limit of 3 concurrent requests" });
    expect(peak).toBeLessThanOrEqual(3);
    expect(runner.inflightRequests).toBe(0);
  });

  it("times out a stage that outlives the request's budget with 504, and keeps the late-loaded model", async () => {
    const { post, runner } = await serve({}, slowStore(fx.store, 100));
    const res = await post({ preset: PRESET, token_ids: [[1, 2]], timeout_ms: 50 });
    expect(await errorOf(res)).toMatchObject({ status: 504, code: "timeout", error: "request timed out while loading preset gemma2_tiny" });
    for (let i = 0; i < 100 && !runner.models.loaded().length; i++) await sleep(20);
    expect(runner.models.loaded()).toEqual([expect.objectContaining({ refs: 0 })]); // finished loading, reference returned
    expect((await post({ preset: PRESET, token_ids: [[1, 2]], timeout_ms: 5000 })).status).toBe(200);
  });

  it("keeps loaded models within the memory budget, evicting the least recently used idle one", async () => {
    const fixture = await makeFixture(0);
    const files = collectPresetFiles();
    await tinyGemma(8).saveToPreset(files);
    await publishPreset(fixture.store, "second", files.files);
    const { post, runner } = await serve({ modelMemoryBytes: 150_000 }, undefined, fixture);
    expect((await post({ preset: PRESET, token_ids: [[1]] })).status).toBe(200);
    expect((await post({ preset: "second", token_ids: [[1]] })).status).toBe(200);
    expect(runner.models.loaded().map((m) => m.key.split("@")[0])).toEqual(["second"]);
    expect(runner.models.modelBytes).toBeLessThanOrEqual(150_000);
    const small = await serve({ modelMemoryBytes: 50_000 }, undefined, fixture);
    expect(await errorOf(await small.post({ preset: PRESET, token_ids: [[1]] }))).toMatchObject({ status: 503, code: "busy", error: expect.stringMatching(/needs \d+ bytes, more than this runner's model memory budget \(50000\)/) });
  });

  it("keeps decoded adapters within their own budget", async () => {
    const { post, runner } = await serve({ adapterMemoryBytes: 10_000 });
    for (const name of ["a0", "a1", "a0"]) expect((await post({ preset: PRESET, tenant: TENANT, adapter: name, token_ids: [[1]] })).status).toBe(200);
    expect(runner.models.adapterBytes).toBeLessThanOrEqual(10_000);
    const metrics = await runner.metrics.text();
    expect(metrics.body).toMatch(/edgebone_runner_cache_evictions_total\{cache="adapter"\} 2/);
    expect(metrics.body).toMatch(/edgebone_runner_cache_misses_total\{cache="adapter"\} 3/);
    expect(metrics.body).toMatch(/edgebone_runner_cache_hits_total\{cache="disk"\} 1/); // a0's file came from disk the second time
  });
});

describe("fairness across presets (HTTP)", () => {
  it("serves a request for another preset while one preset's queue is long", async () => {
    const fixture = await makeFixture(0);
    // A model large enough that batches take a few ms, so a queue builds up.
    const medium = new GemmaBackbone({ vocabularySize: 64, numLayers: 2, numQueryHeads: 4, numKeyValueHeads: 2, hiddenDim: 256, intermediateDim: 1024, headDim: 64 });
    for (const name of ["busy", "quiet"]) {
      const files = collectPresetFiles();
      await medium.saveToPreset(files);
      await publishPreset(fixture.store, name, files.files);
    }
    const { post, runner } = await serve({ maxBatchTokens: 128 }, undefined, fixture);
    await Promise.all([post({ preset: "busy", token_ids: [[1]] }), post({ preset: "quiet", token_ids: [[1]] })]);
    // Observe the batcher: the order jobs finish in, and how far along it was when the quiet request arrived.
    const finished: string[] = [];
    let finishedAtArrival = -1;
    let queuedAhead = -1;
    const submit = runner.batcher.submit.bind(runner.batcher);
    runner.batcher.submit = (queue, job) => {
      if (queue.startsWith("quiet@")) {
        finishedAtArrival = finished.length;
        queuedAhead = runner.batcher.queued;
      }
      const result = submit(queue, job);
      void result.then(() => finished.push(queue.split("@")[0]));
      return result;
    };
    const flood = Array.from({ length: 24 }, (_, i) => post({ preset: "busy", token_ids: tokens(1, 128, i) }));
    for (let i = 0; i < 500 && runner.batcher.queued < 8; i++) await sleep(2);
    const quiet = await post({ preset: "quiet", token_ids: tokens(1, 128, 99) });
    expect(quiet.status).toBe(200);
    expect((await Promise.all(flood)).every((r) => r.status === 200)).toBe(true);
    expect(queuedAhead).toBeGreaterThanOrEqual(4); // FIFO across presets would make it wait for all of these
    const servedBefore = finished.indexOf("quiet") - finishedAtArrival;
    expect(servedBefore).toBeLessThanOrEqual(2); // the batch running when it arrived, and at most one more
  });
});

describe("draining", () => {
  it("finishes in-flight work, refuses new work with 503, and reports not ready", async () => {
    const { post, app, runner } = await serve({}, slowStore(fx.store, 150));
    const inflight = post({ preset: PRESET, token_ids: [[1, 2, 3]] });
    await sleep(30);
    const drained = runner.drain(5000);
    expect(await errorOf(await post({ preset: PRESET, token_ids: [[1]] }))).toMatchObject({ status: 503, code: "draining" });
    expect(await errorOf(await app.request(await signed("GET", "/ready")))).toMatchObject({ status: 503, code: "draining" });
    expect((await app.request(await signed("GET", "/health"))).status).toBe(200);
    expect((await inflight).status).toBe(200);
    expect(await drained).toBe(true);
  });
});

describe("health, info and metrics", () => {
  it("reports state, execution provider, models, caches and Prometheus metrics", async () => {
    const { post, app } = await serve();
    await post({ preset: PRESET, tenant: TENANT, adapter: ["a0", "a1"], token_ids: tokens(2, 4) });
    await post({ preset: PRESET, token_ids: tokens(1, 4) });
    expect(await (await app.request(await signed("GET", "/health"))).json()).toEqual({ status: "ok", runner: "test-runner" });
    expect(await (await app.request(await signed("GET", "/ready"))).json()).toMatchObject({ ready: true });
    const info = (await (await app.request(await signed("GET", "/info"))).json()) as Record<string, any>;
    expect(info).toMatchObject({ runner: "test-runner", state: "ready", execution: { provider: "cpu", requested: "cpu", weight_dtype: "float32" } });
    expect(info.models).toEqual([expect.objectContaining({ key: expect.stringMatching(/^gemma2_tiny@[0-9a-f]+$/), refs: 0 })]);
    expect(info.disk_cache.objects).toBe(5); // config, metadata, model, two adapters
    expect(JSON.stringify(info)).not.toContain(SIGNING_KEY);
    const res = await app.request(await signed("GET", "/metrics"));
    expect(res.headers.get("content-type")).toMatch(/text\/plain/);
    const text = await res.text();
    for (const line of [
      /edgebone_runner_requests_total\{route="\/v1\/forward",status="200"\} 2/,
      /edgebone_runner_request_duration_seconds_count\{route="\/v1\/forward"\} 2/,
      /edgebone_runner_queue_size\{preset="gemma2_tiny"\} 0/,
      /edgebone_runner_batch_size_bucket\{le="2",preset="gemma2_tiny"\} 2/,
      /edgebone_runner_batch_tokens_sum\{preset="gemma2_tiny"\} 12/,
      /edgebone_runner_tokens_total\{preset="gemma2_tiny"\} 12/,
      /edgebone_runner_cache_hits_total\{cache="model"\} 1/,
      /edgebone_runner_cache_misses_total\{cache="disk"\} 5/,
      /edgebone_runner_preset_memory_bytes\{preset="gemma2_tiny",version="[0-9a-f]+"\} \d+/,
      /edgebone_runner_inflight_requests 0/,
    ]) expect(text).toMatch(line);
  });
});

describe("publish CLI", () => {
  it("puts a preset directory and an adapter file into a store the runner serves from", async () => {
    const dir = tmp();
    const backbone = tinyGemma(3);
    await backbone.saveToPreset(join(dir, "preset"));
    const adapter = initLora(backbone.loraTargets(), 2, 5, true);
    writeFileSync(join(dir, "x.lora.safetensors"), await loraSafetensorsFormat.encode(adapter, backbone));
    const env = { ...process.env, RUNNER_STORE: join(dir, "store") };
    const cli = (...args: string[]) => execFileSync(process.execPath, ["--import", "tsx", "gpu-runner/publish.ts", ...args], { cwd: new URL("..", import.meta.url).pathname, env, encoding: "utf8" });
    expect(JSON.parse(cli("preset", join(dir, "preset"), "published"))).toMatchObject({ preset: "published", files: { "model.safetensors": { sha256: expect.any(String) } } });
    expect(JSON.parse(cli("adapter", join(dir, "x.lora.safetensors"), "published", "acme", "x"))).toMatchObject({ tenant: "acme", name: "x", rank: 2 });
    const fixture = { ...fx, dir, store: new LocalDirStore(join(dir, "store")) };
    const { post } = await serve({}, undefined, fixture);
    const out = await tensorOf(await post({ preset: "published", tenant: "acme", adapter: "x", token_ids: tokens(1, 5) }));
    const s = await backbone.createSession(nodeRuntime({ threads: 1 }), { lora: true });
    expect(maxDiff(out.data, await reference(s, tokens(1, 5), [adapter]))).toBeLessThan(1e-5);
  });
});
