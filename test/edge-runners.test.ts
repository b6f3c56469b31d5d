/**
 * End to end through the edge: the production worker (workers/index.ts) in workerd with real D1/R2, two real GPU
 * runner processes (`gpu-runner/main.ts`) that read the tiny Gemma 2 preset and the tenant's adapters from the
 * worker's R2 through its signed `/internal/objects` route, and HTTP clients calling the public forward route.
 * A stream of requests with mixed adapters gives the library's hidden states; one runner is killed (SIGKILL)
 * mid-stream and no request fails; restarted on its port, it passes the edge's health checks and serves its
 * rendezvous share again; the other is stopped with SIGTERM mid-stream (drain), again without a failed request.
 */
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RunnerPool, collectPresetFiles, presetFileKey, publishPreset, type ForwardRequest, type ObjectStore } from "../shared/runner/index.js";
import { DistilBertBackbone, EDGE_MANIFEST, ORT_WEB_VERSION, buildEdgeArtifact, nodeRuntime, parsePlan, tokenBatch } from "../shared/node/index.js";
import { concatBytes } from "../shared/weights/safetensors.js";
import { EdgeStore, StoreUnavailableError } from "../gpu-runner/object-store.js";
import { importSigningKey, presetRecordKey, signRequest } from "../shared/runner/index.js";
import { freePort, type EdgePlatform } from "./helpers/edge-platform.js";
import { PRESET, SIGNING_KEY, maxDiff, type Fixture } from "./helpers/runner-fixtures.js";
import { seededEdge, type SeededEdge } from "./helpers/edge-stream.js";
import { startRunnerProcess, type RunnerProcess } from "./helpers/runner-process.js";

const ADMIN = "edge-runners-admin-token";

interface NamedRunner extends RunnerProcess {
  id: string;
}

let seeded: SeededEdge;
let edge: EdgePlatform;
let fx: Fixture;
let runnerUrls: [string, string];
/** Every process started (for cleanup); `one` and `two` are the first two runners. */
const processes: NamedRunner[] = [];
let one: NamedRunner;
let two: NamedRunner;

async function startRunner(id: string, url: string): Promise<NamedRunner> {
  const proc = await startRunnerProcess({
    RUNNER_HOST: "127.0.0.1",
    RUNNER_PORT: new URL(url).port,
    RUNNER_ID: id,
    RUNNER_SIGNING_KEY: SIGNING_KEY,
    RUNNER_STORE: new URL("/internal/objects", edge.url).href, // the edge's R2, read through the worker
    RUNNER_CACHE_DIR: join(fx.dir, `cache-${id}-${processes.length}`),
    RUNNER_THREADS: "1",
    RUNNER_PRELOAD: PRESET,
    RUNNER_DRAIN_TIMEOUT_MS: "10000",
  }).catch((e: Error) => {
    throw new Error(`runner ${id}: ${e.message}`);
  });
  const named = { ...proc, id };
  processes.push(named);
  return named;
}

/** The runner the edge's pool tries first for request i (same URLs, same rendezvous hashing). */
const owner = (() => {
  let pool: RunnerPool | undefined;
  return (i: number): string => {
    pool ??= new RunnerPool({ runners: runnerUrls, signingKey: SIGNING_KEY });
    const { tokenIds, adapter } = seeded.streamRequest(i);
    const request: ForwardRequest = { preset: PRESET, token_ids: tokenIds, ...(adapter ? { tenant: seeded.tenantId, adapter } : {}) };
    return pool.order(RunnerPool.routingKey(request))[0];
  };
})();

beforeAll(async () => {
  runnerUrls = [`http://127.0.0.1:${await freePort()}`, `http://127.0.0.1:${await freePort()}`];
  seeded = await seededEdge({ RUNNER_URLS: runnerUrls.join(","), RUNNER_SIGNING_KEY: SIGNING_KEY, RUNNER_TIMEOUT_MS: "20000", RUNNER_HEALTH_INTERVAL_MS: "200" }, ADMIN);
  ({ edge, fx } = seeded);
  [one, two] = await Promise.all([startRunner("runner-1", runnerUrls[0]), startRunner("runner-2", runnerUrls[1])]);
}, 120_000);

afterAll(async () => {
  for (const p of processes) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill("SIGKILL");
  await Promise.all(processes.map((p) => p.exited));
  await edge?.dispose();
});

describe("the edge with two runners", () => {
  it("survives a killed runner mid-stream, takes it back after restart, and drains on SIGTERM", async () => {
    // 1. Both runners serve; results equal the library's own forward pass with each request's adapter.
    // 2. Runner 1 is SIGKILLed after 30 of 90 requests: every request still succeeds (the edge retries on runner 2).
    let killed = false;
    const first = await seeded.stream(0, 90, 4, (done) => {
      if (done === 30 && !killed) {
        killed = true;
        one.child.kill("SIGKILL");
      }
    });
    expect(first.failures).toEqual([]);
    expect(first.ok).toBe(90);
    expect(first.worst).toBeLessThan(1e-5);
    // Requests that hit the dead runner first were retried on runner 2; under load the edge's health check (every
    // 200 ms) can take it out of rotation before any does, so their number is not asserted (retries on a dead
    // runner are: test/runner-protocol.test.ts, "fails over to the next runner…").
    expect(first.byRunner.get("runner-1")).toBeGreaterThan(0);
    expect(first.byRunner.get("runner-2")).toBeGreaterThan(30);
    expect(await one.exited).toBeNull(); // killed by a signal

    // 3. Restarted on the same port, it passes the edge's health checks and serves its rendezvous share again.
    await startRunner("runner-1", runnerUrls[0]);
    const ownedByOne = Array.from({ length: 40 }, (_, k) => 90 + k).filter((i) => owner(i) === runnerUrls[0]);
    expect(ownedByOne.length).toBeGreaterThan(0);
    const deadline = Date.now() + 60_000; // the breaker's cooldown grew while runner 1 was down (≤ 30 s)
    while ((await seeded.forward(ownedByOne[0])).runner !== "runner-1") {
      if (Date.now() > deadline) throw new Error("runner 1 never took traffic back");
      await new Promise((r) => setTimeout(r, 250));
    }
    const second = await seeded.stream(90, 40, 4);
    expect(second.failures).toEqual([]);
    expect(second.worst).toBeLessThan(1e-5);
    expect(second.byRunner.get("runner-1")).toBeGreaterThan(ownedByOne.length / 2);

    // 4. Runner 2 gets SIGTERM mid-stream: it drains (in-flight work finishes), exits 0; nothing fails.
    let stopped = false;
    const third = await seeded.stream(130, 40, 4, (done) => {
      if (done === 10 && !stopped) {
        stopped = true;
        two.child.kill("SIGTERM");
      }
    });
    expect(third.failures).toEqual([]);
    expect(third.worst).toBeLessThan(1e-5);
    expect(await two.exited).toBe(0);
    expect(two.log.join("")).toMatch(/"msg":"drained"/);
    expect(third.byRunner.get("runner-1")).toBeGreaterThan(20);
  }, 240_000);
});

describe("an edge artifact the isolate cannot load", () => {
  it("is served by a runner from the preset's float weights, with the isolate's reason in a header", async () => {
    const preset = "broken-edge";
    const backbone = new DistilBertBackbone({ vocabularySize: 300, numLayers: 2, numHeads: 2, hiddenDim: 32, intermediateDim: 64, maxSequenceLength: 32, seed: 5 });
    const files = collectPresetFiles();
    await backbone.saveToPreset(files);
    const bucket: ObjectStore = { description: "edge R2", get: async () => null, put: async (key, bytes) => void (await edge.bucket.put(key, bytes)) };
    await publishPreset(bucket, preset, files.files); // what runners read: config, float weights, record.json
    const artifact = await buildEdgeArtifact(backbone, { plan: parsePlan("int8"), onnxruntimeWeb: ORT_WEB_VERSION });
    for (const [file, chunks] of artifact.files) {
      const bytes = concatBytes(chunks);
      await edge.bucket.put(presetFileKey(preset, file), file.endsWith(".bin") ? bytes.subarray(0, 100) : bytes); // truncated weights
    }
    await edge.bucket.put(presetFileKey(preset, EDGE_MANIFEST), new TextEncoder().encode(JSON.stringify(artifact.manifest)));

    const ids = [[2, 40, 41, 42, 3]];
    const res = await fetch(new URL(`/v1/models/${preset}/forward`, edge.url), {
      method: "POST",
      headers: { authorization: `Bearer ${seeded.apiKey}`, "content-type": "application/json" },
      body: JSON.stringify({ token_ids: ids }),
    });
    const body = (await res.json()) as { sequence_output: { data: number[] } };
    expect(res.status, JSON.stringify(body)).toBe(200);
    expect(res.headers.get("x-edgebone-backend")).toBe("runner");
    expect(res.headers.get("x-edgebone-isolate-failure")).toMatch(/embedding\.bin has 100 bytes, the manifest says \d+: the artifact is truncated/);
    const want = (await (await backbone.createSession(nodeRuntime({ threads: 1 }))).forward(tokenBatch(ids))).sequenceOutput.data as Float32Array;
    expect(maxDiff(Float32Array.from(body.sequence_output.data), want)).toBeLessThan(1e-5);
  });
});

describe("the edge's object route for runners (/internal/objects)", () => {
  it("serves presets and adapters to signed reads only", async () => {
    const store = new EdgeStore(new URL("/internal/objects", edge.url).href, SIGNING_KEY);
    const record = await store.get(presetRecordKey(PRESET));
    expect(JSON.parse(new TextDecoder().decode(record!)).files["config.json"].sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(await store.get("presets/nope/record.json")).toBeNull();
    await expect(store.put("presets/x/y")).rejects.toThrow(/read-only/);
    await expect(new EdgeStore(new URL("/internal/objects", edge.url).href, "another-signing-key-0123456789abcdef").get(presetRecordKey(PRESET))).rejects.toThrow(StoreUnavailableError);

    const path = `/internal/objects/${presetRecordKey(PRESET)}`;
    const unsigned = await fetch(new URL(path, edge.url));
    expect(unsigned.status).toBe(401);
    expect(((await unsigned.json()) as { error: string }).error).toMatch(/not signed/);
    const headers = { ...(await signRequest(await importSigningKey(SIGNING_KEY), "GET", path)) };
    expect((await fetch(new URL(path, edge.url), { headers })).status).toBe(200);
    const replayed = await fetch(new URL(path, edge.url), { headers });
    expect([replayed.status, ((await replayed.json()) as { error: string }).error]).toEqual([401, expect.stringMatching(/replayed/)]);
    const stale = { ...(await signRequest(await importSigningKey(SIGNING_KEY), "GET", path, "", Date.now() - 120_000)) };
    expect((await fetch(new URL(path, edge.url), { headers: stale })).status).toBe(401);
    // signed, but not a preset or adapter object
    const other = "/internal/objects/usage/x";
    expect((await fetch(new URL(other, edge.url), { headers: { ...(await signRequest(await importSigningKey(SIGNING_KEY), "GET", other)) } })).status).toBe(404);
  });
});
