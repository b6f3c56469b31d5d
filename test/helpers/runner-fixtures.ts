/** Shared by the runner tests: a tiny Gemma 2 preset and adapters in a temp store, signed requests, references. */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { GemmaBackbone, initLora, loraSafetensorsFormat, nodeRuntime, tokenBatch, type BackboneSession, type LoraAdapter } from "../../shared/node/index.js";
import { collectPresetFiles, publishAdapter, publishPreset } from "../../shared/runner/layout.js";
import { importSigningKey, signRequest } from "../../shared/runner/signing.js";
import { defaultConfig, type RunnerConfig } from "../../gpu-runner/config.js";
import { LocalDirStore, type RunnerStore } from "../../gpu-runner/object-store.js";
import { silentLogger } from "../../gpu-runner/log.js";
import { Runner } from "../../gpu-runner/runner.js";
import { RunnerMetrics } from "../../gpu-runner/metrics.js";
import type { Execution } from "../../gpu-runner/execution.js";

export const SIGNING_KEY = "test-signing-key-0123456789abcdef-0123456789";
export const PRESET = "gemma2_tiny";
export const TENANT = "acme";

export const tmp = (prefix = "edgebone-runner-") => mkdtempSync(join(tmpdir(), prefix));

/** Gemma 2 architecture in miniature: sliding window on even blocks, post norms, logit soft cap, GQA. */
export function tinyGemma(seed = 7): GemmaBackbone {
  return new GemmaBackbone({
    vocabularySize: 64,
    numLayers: 2,
    numQueryHeads: 4,
    numKeyValueHeads: 2,
    hiddenDim: 32,
    intermediateDim: 64,
    headDim: 8,
    useSlidingWindowAttention: true,
    slidingWindowSize: 4,
    usePostFfwNorm: true,
    usePostAttentionNorm: true,
    attentionLogitSoftCap: 50,
    seed,
  });
}

export interface Fixture {
  dir: string;
  store: RunnerStore;
  backbone: GemmaBackbone;
  /** Adapter objects by name (a0, a1, …), as the library holds them. */
  adapters: Map<string, LoraAdapter>;
  /** Adapter file bytes by name. */
  adapterBytes: Map<string, Uint8Array>;
}

/** A local store with the tiny preset and `count` rank-4 adapters of tenant acme. */
export async function makeFixture(count = 4, dir = tmp()): Promise<Fixture> {
  const store = new LocalDirStore(join(dir, "store"));
  const backbone = tinyGemma();
  const files = collectPresetFiles();
  await backbone.saveToPreset(files);
  await publishPreset(store, PRESET, files.files);
  const adapters = new Map<string, LoraAdapter>();
  const adapterBytes = new Map<string, Uint8Array>();
  for (let i = 0; i < count; i++) {
    const name = `a${i}`;
    const adapter = initLora(backbone.loraTargets(), 4, 100 + i, true);
    const bytes = await loraSafetensorsFormat.encode(adapter, backbone);
    await publishAdapter(store, TENANT, name, bytes);
    // Decode back so the reference uses exactly what the runner will (same float32 values).
    adapters.set(name, await loraSafetensorsFormat.decode(bytes, backbone, name));
    adapterBytes.set(name, bytes);
  }
  return { dir, store, backbone, adapters, adapterBytes };
}

export const cpuExecution = (threads = 1): Execution => ({
  runtime: nodeRuntime({ threads }),
  provider: "cpu",
  requested: "cpu",
  unavailable: {},
  weightDtype: "float32",
});

export async function makeRunner(fixture: Fixture, overrides: Partial<RunnerConfig> = {}, store: RunnerStore = fixture.store): Promise<Runner> {
  const config = defaultConfig({ signingKeys: [SIGNING_KEY], cacheDir: join(fixture.dir, `cache-${Math.random().toString(36).slice(2)}`), id: "test-runner", ...overrides });
  return Runner.create(config, { store, execution: cpuExecution(), log: silentLogger, metrics: new RunnerMetrics(false) });
}

const keyPromise = importSigningKey(SIGNING_KEY);

/** A signed `Request` for `app.request()`. */
export async function signed(method: string, path: string, body?: unknown, options: { key?: string; now?: number; headers?: Record<string, string> } = {}): Promise<Request> {
  const text = body === undefined ? "" : typeof body === "string" ? body : JSON.stringify(body);
  const key = options.key ? await importSigningKey(options.key) : await keyPromise;
  const headers = await signRequest(key, method, path, text, options.now);
  return new Request(`http://runner${path}`, {
    method,
    headers: { ...headers, ...(text ? { "content-type": "application/json" } : {}), ...options.headers },
    ...(text ? { body: text } : {}),
  });
}

/** Deterministic token rows: `rows` × `length`, ids in [1, 64). */
export function tokens(rows: number, length: number, seed = 0): number[][] {
  return Array.from({ length: rows }, (_, b) => Array.from({ length }, (_, t) => 1 + ((seed * 31 + b * 17 + t * 7 + b * t) % 63)));
}

/** The library's own answer for one request run alone. */
export async function reference(session: BackboneSession, tokenIds: number[][], adapters: (LoraAdapter | null)[], mask?: number[][]): Promise<Float32Array> {
  const list = [...new Set(adapters.filter((a): a is LoraAdapter => a !== null))];
  const { sequenceOutput } = await session.forward(tokenBatch(tokenIds, mask), { adapters: list, adapterIds: adapters.map((a) => (a ? list.indexOf(a) : -1)) });
  return sequenceOutput.data as Float32Array;
}

export function maxDiff(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) return Infinity;
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}
