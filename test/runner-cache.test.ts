/** Runner units: disk and memory caches, object stores (local, S3 via aws4fetch), config, batcher. */
import { existsSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { Batcher, mergeJobs, splitOutput, type BatchJob } from "../gpu-runner/batcher.js";
import { DiskCache } from "../gpu-runner/caches.js";
import { loadConfig, parseBytes } from "../gpu-runner/config.js";
import { ServeError } from "../gpu-runner/errors.js";
import { selectExecution } from "../gpu-runner/execution.js";
import { jsonLogger } from "../gpu-runner/log.js";
import { LocalDirStore, S3Store, StoreUnavailableError, storeFromConfig } from "../gpu-runner/object-store.js";
import { recordOf } from "../shared/runner/layout.js";
import { initLora, type LoraAdapter } from "../shared/node/index.js";
import { SIGNING_KEY, tinyGemma, tmp } from "./helpers/runner-fixtures.js";

const bytesOf = (n: number, fill: number) => new Uint8Array(n).fill(fill);

async function storeWith(objects: Record<string, Uint8Array>) {
  const store = new LocalDirStore(join(tmp(), "store"));
  for (const [k, v] of Object.entries(objects)) await store.put(k, v);
  return store;
}

describe("DiskCache", () => {
  it("downloads once, verifies, serves hits, and evicts least recently used objects over its budget", async () => {
    const objects = { a: bytesOf(400, 1), b: bytesOf(400, 2), c: bytesOf(400, 3) };
    const store = await storeWith(objects);
    const events = { hit: 0, miss: 0, evict: 0 };
    const cache = new DiskCache(join(tmp(), "cache"), 1000, { hit: () => events.hit++, miss: () => events.miss++, evict: () => events.evict++ });
    await cache.init();
    const get = async (k: keyof typeof objects) => {
      const lease = await cache.fetch(k, await recordOf(objects[k]), () => store.open(k));
      lease.release();
      return lease.path;
    };
    await get("a");
    await get("b");
    await get("a"); // a is now the most recently used
    expect(events).toEqual({ hit: 1, miss: 2, evict: 0 });
    await get("c"); // 1200 > 1000: evicts b (least recently used), keeps a
    expect(events.evict).toBe(1);
    expect(cache.bytes).toBe(800);
    expect(cache.has((await recordOf(objects.a)).sha256)).toBe(true);
    expect(cache.has((await recordOf(objects.b)).sha256)).toBe(false);
    expect(readdirSync(cache.dir).filter((f) => f !== "tmp")).toHaveLength(2);
  });

  it("never deletes an object that is being read", async () => {
    const objects = { a: bytesOf(600, 1), b: bytesOf(600, 2) };
    const store = await storeWith(objects);
    const cache = new DiskCache(join(tmp(), "cache"), 1000);
    await cache.init();
    const a = await cache.fetch("a", await recordOf(objects.a), () => store.open("a"));
    const b = await cache.fetch("b", await recordOf(objects.b), () => store.open("b"));
    expect(existsSync(a.path) && existsSync(b.path)).toBe(true); // over budget while both are leased
    a.release();
    await new Promise((r) => setTimeout(r, 20));
    expect(existsSync(a.path)).toBe(false);
    expect(existsSync(b.path)).toBe(true);
    b.release();
  });

  it("shares one download between concurrent requests", async () => {
    const objects = { a: bytesOf(300, 9) };
    const store = await storeWith(objects);
    let opens = 0;
    const cache = new DiskCache(join(tmp(), "cache"), 10_000);
    await cache.init();
    const record = await recordOf(objects.a);
    const leases = await Promise.all(Array.from({ length: 8 }, () => cache.fetch("a", record, () => (opens++, store.open("a")))));
    expect(opens).toBe(1);
    leases.forEach((l) => l.release());
  });

  it("rejects a corrupt object (size or sha256), leaves nothing behind, and fetches it again next time", async () => {
    const good = bytesOf(256, 5);
    const record = await recordOf(good);
    const store = await storeWith({ a: bytesOf(256, 6) }); // same size, wrong bytes
    const cache = new DiskCache(join(tmp(), "cache"), 10_000);
    await cache.init();
    await expect(cache.fetch("adapters/t/a", record, () => store.open("a"))).rejects.toThrow(/adapters\/t\/a is corrupt: sha256 [0-9a-f]{64}, its record says/);
    await store.put("a", bytesOf(300, 5)); // wrong size
    await expect(cache.fetch("a", record, () => store.open("a"))).rejects.toMatchObject({ code: "corrupt_object", message: expect.stringMatching(/store has 300 bytes, its record says 256/) });
    const unsized = async () => ({ body: (await store.open("a"))!.body, size: null }); // a store without sizes: caught while streaming
    await expect(cache.fetch("a", record, unsized)).rejects.toThrow(/larger than the 256 bytes/);
    expect(cache.count).toBe(0);
    expect(readdirSync(join(cache.dir, "tmp"))).toEqual([]);
    await store.put("a", good); // repaired in the store: served
    const lease = await cache.fetch("a", record, () => store.open("a"));
    expect(cache.count).toBe(1);
    lease.release();
  });

  it("fails a missing object without caching anything", async () => {
    const store = await storeWith({});
    const cache = new DiskCache(join(tmp(), "cache"), 10_000);
    await cache.init();
    const e = await cache.fetch("presets/p/model.safetensors", await recordOf(bytesOf(4, 1)), () => store.open("nope")).catch((x) => x);
    expect(e).toBeInstanceOf(ServeError);
    expect(e).toMatchObject({ code: "not_found", message: "presets/p/model.safetensors is listed in its record but missing from the store" });
    expect(cache.count).toBe(0);
  });

  it("serves an object larger than the whole budget without keeping it", async () => {
    const objects = { big: bytesOf(2000, 1) };
    const store = await storeWith(objects);
    const cache = new DiskCache(join(tmp(), "cache"), 1000);
    await cache.init();
    const lease = await cache.fetch("big", await recordOf(objects.big), () => store.open("big"));
    expect(existsSync(lease.path)).toBe(true);
    expect(cache.count).toBe(0);
    lease.release();
    await new Promise((r) => setTimeout(r, 20));
    expect(existsSync(lease.path)).toBe(false);
  });

  it("adopts the previous run's files in LRU order and evicts down to a smaller budget", async () => {
    const dir = join(tmp(), "cache");
    const first = new DiskCache(dir, 10_000);
    await first.init();
    const store = await storeWith({ a: bytesOf(500, 1), b: bytesOf(500, 2) });
    for (const k of ["a", "b"]) (await first.fetch(k, await recordOf(bytesOf(500, k === "a" ? 1 : 2)), () => store.open(k))).release();
    writeFileSync(join(dir, "not-a-cache-file"), "x");
    const second = new DiskCache(dir, 600);
    await second.init();
    expect(second.count).toBe(1);
    expect(second.bytes).toBe(500);
  });
});

describe("object stores", () => {
  it("local directory: missing objects are null, keys cannot escape the root", async () => {
    const store = new LocalDirStore(tmp());
    expect(await store.get("adapters/t/x.lora.safetensors")).toBeNull();
    await store.put("adapters/t/x", Uint8Array.from([1, 2]));
    expect(Array.from((await store.get("adapters/t/x"))!)).toEqual([1, 2]);
    await expect(store.get("../etc/passwd")).rejects.toThrow(/invalid object key/);
    await expect(store.get("/etc/passwd")).rejects.toThrow(/invalid object key/);
  });

  it("S3 (R2): path-style SigV4 requests; 404 is missing, other failures are store errors", async () => {
    const seen: Request[] = [];
    const responses: Response[] = [new Response(Uint8Array.from([7, 8, 9]), { headers: { "content-length": "3" } }), new Response("no", { status: 404 }), new Response("<Error>SlowDown</Error>", { status: 503 }), new Response(null, { status: 200 })];
    const fetch = (async (req: Request) => (seen.push(req), responses.shift()!)) as typeof globalThis.fetch;
    const store = new S3Store({ endpoint: "https://acct.r2.cloudflarestorage.com", bucket: "edgebone", prefix: "prod", accessKeyId: "AKID", secretAccessKey: "secret", fetch });
    expect(Array.from((await store.get("presets/p/config.json"))!)).toEqual([7, 8, 9]);
    expect(seen[0].url).toBe("https://acct.r2.cloudflarestorage.com/edgebone/prod/presets/p/config.json");
    expect(seen[0].headers.get("authorization")).toMatch(/^AWS4-HMAC-SHA256 Credential=AKID\/\d{8}\/auto\/s3\/aws4_request/);
    expect(await store.get("missing")).toBeNull();
    await expect(store.get("x")).rejects.toThrow(StoreUnavailableError);
    await store.put("adapters/t/a.lora.safetensors", Uint8Array.from([1]));
    expect(seen[3].method).toBe("PUT");
  });

  it("RUNNER_STORE picks the store; s3:// needs an endpoint and keys", () => {
    const none = { region: "auto", endpoint: undefined, accessKeyId: undefined, secretAccessKey: undefined };
    expect(storeFromConfig({ store: "/tmp/x", s3: none })).toBeInstanceOf(LocalDirStore);
    expect(() => storeFromConfig({ store: "s3://bucket", s3: none })).toThrow(/RUNNER_S3_ENDPOINT/);
    const s3 = storeFromConfig({ store: "s3://bucket/pre", s3: { region: "auto", endpoint: "https://a.r2.cloudflarestorage.com", accessKeyId: "k", secretAccessKey: "s" } });
    expect((s3 as S3Store).url("presets/x/config.json")).toBe("https://a.r2.cloudflarestorage.com/bucket/pre/presets/x/config.json");
  });
});

describe("config", () => {
  it("parses RUNNER_* with defaults and byte sizes", () => {
    const c = loadConfig({ RUNNER_SIGNING_KEY: SIGNING_KEY, RUNNER_DISK_CACHE_BYTES: "2GiB", RUNNER_PORT: "0", RUNNER_UNSIGNED_PATHS: "/health, /metrics", AWS_ACCESS_KEY_ID: "ak" });
    expect(c).toMatchObject({ port: 0, diskCacheBytes: 2 * 2 ** 30, maxBatchTokens: 16384, executionProvider: "cpu", unsignedPaths: ["/health", "/metrics"], store: ".edgebone/store" });
    expect(c.s3.accessKeyId).toBe("ak");
    expect(parseBytes("1.5GB")).toBe(1.5e9);
  });

  it("names the bad variable in one line", () => {
    expect(() => loadConfig({})).toThrow(/^RUNNER_SIGNING_KEY/);
    expect(() => loadConfig({ RUNNER_SIGNING_KEY: "short" })).toThrow(/RUNNER_SIGNING_KEY every key must be at least 32 characters/);
    expect(() => loadConfig({ RUNNER_SIGNING_KEY: SIGNING_KEY, RUNNER_DISK_CACHE_BYTES: "lots" })).toThrow(/RUNNER_DISK_CACHE_BYTES "lots" is not a byte size/);
    expect(() => loadConfig({ RUNNER_SIGNING_KEY: SIGNING_KEY, RUNNER_EXECUTION_PROVIDER: "tpu" })).toThrow(/RUNNER_EXECUTION_PROVIDER/);
  });
});

describe("execution provider", () => {
  it("logs the choice at start and falls back to CPU when a requested GPU provider cannot run", async () => {
    const lines: { level: string; msg: string }[] = [];
    const log = jsonLogger({}, (line) => lines.push(JSON.parse(line)));
    const cpu = await selectExecution({ executionProvider: "cpu", threads: 1, gpuDtype: "float16" }, log);
    expect(cpu).toMatchObject({ provider: "cpu", weightDtype: "float32" });
    expect(lines[0]).toMatchObject({ level: "info", msg: "execution provider: cpu (requested cpu)" });
    const auto = await selectExecution({ executionProvider: "auto", threads: 1, gpuDtype: "float16" }, log);
    if (auto.provider === "cpu") {
      // No GPU here: both providers are tried, each reason is logged, and the runner keeps working on CPU.
      expect(lines[1]).toMatchObject({ level: "warn", msg: expect.stringMatching(/^execution provider: cpu \(requested auto; cuda unavailable: .+; webgpu unavailable: .+\): falling back to CPU$/) });
      expect(auto.weightDtype).toBe("float32");
    } else {
      expect(lines[1]).toMatchObject({ level: "info", msg: expect.stringContaining(`execution provider: ${auto.provider} (requested auto`) });
      expect(auto.weightDtype).toBe("float16");
    }
  });
});

describe("batcher", () => {
  const job = (rows: number, length: number, deadline = Date.now() + 10_000, adapters: (LoraAdapter | null)[] = Array(rows).fill(null)): BatchJob => ({
    rows,
    length,
    tokenIds: Int32Array.from({ length: rows * length }, (_, i) => i + 1),
    paddingMask: new Int32Array(rows * length).fill(1),
    adapters,
    deadline,
  });

  it("merges jobs right-padded, shares adapter slots, and splits outputs back", () => {
    const targets = tinyGemma().loraTargets();
    const x = initLora(targets, 2, 1);
    const y = initLora(targets, 2, 2);
    mergeJobs([job(1, 1, undefined, [x]), job(1, 1, undefined, [y])]); // x seen first: slot order x, y from now on
    const jobs = [job(1, 2, undefined, [x]), job(2, 3, undefined, [y, x])];
    const { batch, adapters, adapterIds } = mergeJobs(jobs);
    expect([batch.batchSize, batch.sequenceLength]).toEqual([3, 3]);
    expect(Array.from(batch.tokenIds)).toEqual([1, 2, 0, 1, 2, 3, 4, 5, 6]);
    expect(Array.from(batch.paddingMask)).toEqual([1, 1, 0, 1, 1, 1, 1, 1, 1]);
    expect(adapters[0]).toBe(x);
    expect(adapters[1]).toBe(y);
    expect(adapterIds).toEqual([0, 1, 0]);
    const again = mergeJobs([job(2, 1, undefined, [y, x])]); // same set in another row order: same slot order
    expect(again.adapters[0]).toBe(x);
    expect(again.adapterIds).toEqual([1, 0]);
    const out = Float32Array.from({ length: 3 * 3 * 2 }, (_, i) => i);
    const [a, b] = splitOutput(out, jobs, 2);
    expect(Array.from(a)).toEqual([0, 1, 2, 3]);
    expect(Array.from(b)).toEqual(Array.from(out.slice(6)));
  });

  function recorder(maxBatchTokens: number, delayMs = 5) {
    const batches: { queue: string; sizes: number[] }[] = [];
    const batcher = new Batcher({
      maxBatchTokens,
      maxConcurrentBatches: 1,
      execute: async (queue, jobs) => {
        batches.push({ queue, sizes: jobs.map((j) => j.rows * j.length) });
        await new Promise((r) => setTimeout(r, delayMs));
        return { outputs: jobs.map((j) => new Float32Array(j.rows * j.length)), hidden: 1 };
      },
    });
    return { batcher, batches };
  }

  it("fills batches up to the token budget, in arrival order (a large job is never overtaken)", async () => {
    const { batcher, batches } = recorder(16);
    const sizes = [[1, 4], [1, 4], [1, 12], [1, 2], [2, 2], [1, 16]] as const;
    const results = await Promise.all(sizes.map(([r, l]) => batcher.submit("p", job(r, l))));
    // The budget counts padded tokens: 1×4 then 1×12 would be 2×12 = 24 > 16, so they run apart; 1×2 and 2×2 share
    // a batch (3×2); 1×16 waits its turn behind them although it arrived last, and nothing jumps ahead of 1×12.
    expect(batches.map((b) => b.sizes)).toEqual([[4], [4], [12], [2, 4], [16]]);
    expect(results[4].batchRows).toBe(3);
    for (const b of batches) expect(b.sizes.reduce((x, y) => x + y, 0)).toBeLessThanOrEqual(16);
  });

  it("takes turns between presets: a flooded preset does not starve another", async () => {
    const { batcher, batches } = recorder(4);
    const flood = Array.from({ length: 10 }, () => batcher.submit("a", job(1, 4)));
    const other = batcher.submit("b", job(1, 4));
    await Promise.all([...flood, other]);
    const bAt = batches.findIndex((b) => b.queue === "b");
    expect(bAt).toBeLessThanOrEqual(2); // served right after the batch running when it arrived and one more of a
  });

  it("drops a job from the queue with a 504 when its deadline passes, and rejects jobs over the budget", async () => {
    const { batcher, batches } = recorder(8, 60);
    const first = batcher.submit("p", job(1, 8));
    const late = batcher.submit("p", job(1, 8, Date.now() + 20));
    await expect(late).rejects.toMatchObject({ code: "timeout", message: "request timed out waiting in the batch queue" });
    await first;
    expect(batches).toHaveLength(1);
    await expect(batcher.submit("p", job(3, 3))).rejects.toMatchObject({ code: "too_large" });
  });
});
