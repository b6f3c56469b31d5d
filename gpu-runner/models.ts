/**
 * Presets and adapters, from records to ready-to-run objects:
 *
 *   record (store, trusted for RUNNER_RECORD_TTL_MS) → verified files (DiskCache) → decoded (ByteLru)
 *
 * A preset becomes one onnxruntime session built with LoRA inputs, so rows with any mix of adapters share its
 * batches. Models are keyed by preset name and the sha256 of their files: when the record changes, the next
 * request loads the new version and the old one ages out. A model in use (referenced by a request or a running
 * batch) is never evicted. Concurrent requests for the same object share one download and one load
 * (SingleFlight); a failed load is forgotten, never cached.
 */
import { readFile } from "node:fs/promises";
import {
  loraSafetensorsFormat,
  validateAdapter,
  type Backbone,
  type BackboneSession,
  type FloatDType,
  type LoraAdapter,
  type OnnxRuntime,
} from "../shared/node/index.js";
import { adapterRecordKey, publishedAdapterKey, tenantAdapterPrefix, presetFileKey, presetRecordKey, presetRecordSchema, type PresetRecord } from "../shared/runner/layout.js";
import { hash53 } from "../shared/runner/pool.js";
import { objectRecordSchema, type ObjectRecord } from "../shared/runner/protocol.js";
import { ByteLru } from "../shared/cache/byte-lru.js";
import { SingleFlight } from "../shared/cache/single-flight.js";
import type { DiskCache, Lease } from "./caches.js";
import { ServeError } from "./errors.js";
import { createPresetSession, type PresetSession } from "./preset-session.js";
import type { Logger } from "./log.js";
import type { RunnerMetrics } from "./metrics.js";
import type { RunnerStore } from "./object-store.js";

export interface LoadedModel {
  /** `<preset>@<version>`: the batch queue and memory-cache key. */
  key: string;
  preset: string;
  session: BackboneSession;
  /** Config-only twin of the loaded backbone (no weights): LoRA targets, limits, adapter decoding. */
  shape: Backbone;
  /** Serialized graph size (weights included): what the model holds in memory. */
  bytes: number;
  hidden: number;
  refs: number;
  loadedAt: number;
}

export interface ModelsOptions {
  store: RunnerStore;
  disk: DiskCache;
  runtime: OnnxRuntime;
  weightDtype: FloatDType;
  modelMemoryBytes: number;
  adapterMemoryBytes: number;
  recordTtlMs: number;
  storeTimeoutMs: number;
  metrics: RunnerMetrics;
  log: Logger;
}

interface CachedRecord<T> {
  value: T;
  expires: number;
}

const MAX_RECORDS = 10_000;
/** `max_lora` before any adapter is decoded (its size is unknown until then). */
const DEFAULT_MAX_ADAPTERS = 64;

export class Models {
  private readonly models: ByteLru<LoadedModel>;
  private readonly adapters: ByteLru<LoraAdapter>;
  private readonly loading = new SingleFlight<LoadedModel>();
  private readonly decoding = new SingleFlight<LoraAdapter>();
  private readonly records = new Map<string, CachedRecord<unknown>>();
  private readonly reading = new SingleFlight<unknown>();

  constructor(private readonly o: ModelsOptions) {
    this.models = new ByteLru<LoadedModel>(o.modelMemoryBytes, {
      busy: (m) => m.refs > 0,
      onEvict: (key, m) => {
        o.metrics.cacheEvictions.inc({ cache: "model" });
        this.unload(key, m);
      },
    });
    this.adapters = new ByteLru<LoraAdapter>(o.adapterMemoryBytes, { onEvict: () => o.metrics.cacheEvictions.inc({ cache: "adapter" }) });
  }

  /** Loaded models (for /info). */
  loaded(): { key: string; bytes: number; refs: number }[] {
    return this.models.keys().map((key) => {
      const m = this.models.peek(key)!;
      return { key, bytes: m.bytes, refs: m.refs };
    });
  }

  get modelBytes(): number {
    return this.models.bytes;
  }

  get adapterBytes(): number {
    return this.adapters.bytes;
  }

  /**
   * Decoded adapters and those being downloaded or decoded, by the first 12 hex digits of their sha256, and how
   * many the adapter budget holds at the mean size of the decoded ones (every adapter counts once, whatever
   * preset it was decoded for).
   */
  adapterCache(): { running: string[]; waiting: string[]; max: number } {
    const id = (key: string) => key.slice(key.lastIndexOf("|") + 1, key.lastIndexOf("|") + 13);
    const running = [...new Set(this.adapters.keys().map(id))];
    const waiting = [...new Set(this.decoding.keys().map(id))].filter((a) => !running.includes(a));
    const mean = this.adapters.size ? this.adapters.bytes / this.adapters.size : 0;
    const max = mean > 0 ? Math.max(running.length, Math.floor(this.adapters.budgetBytes / mean)) : DEFAULT_MAX_ADAPTERS;
    return { running, waiting, max };
  }

  /** The preset's current model, loaded if needed, with a reference held: call `release` when done. */
  async acquire(preset: string): Promise<LoadedModel> {
    const record = await this.presetRecord(preset);
    const key = `${preset}@${versionOf(record)}`;
    for (;;) {
      const cached = this.models.get(key);
      if (cached) {
        this.o.metrics.cacheHits.inc({ cache: "model" });
        cached.refs++;
        return cached;
      }
      if (!this.loading.has(key)) this.o.metrics.cacheMisses.inc({ cache: "model" });
      const model = await this.loading.run(key, () => this.load(preset, key, record));
      if (this.models.peek(key) === model) {
        model.refs++;
        return model;
      }
      // Loaded but not kept (evicted at once under memory pressure): loop to load again.
    }
  }

  release(model: LoadedModel): void {
    model.refs = Math.max(0, model.refs - 1);
  }

  /** A model by key that a caller already holds a reference to (the batcher pins it while a batch runs). */
  pin(key: string): LoadedModel {
    const model = this.models.peek(key);
    if (!model) throw new ServeError("internal", `model ${key} is not loaded`);
    model.refs++;
    return model;
  }

  /** A tenant's adapter for a model: named (record read from the store) or with the record the edge sent. */
  async adapter(model: LoadedModel, tenant: string, name: string, given?: ObjectRecord & { key?: string }): Promise<LoraAdapter> {
    const objectKey = given?.key ?? publishedAdapterKey(tenant, name);
    // a key from the request must be the row tenant's: the edge is trusted, but isolation should not hinge on it
    if (!objectKey.startsWith(tenantAdapterPrefix(tenant))) throw new ServeError("bad_request", `adapter key ${objectKey} is not under ${tenantAdapterPrefix(tenant)}`);
    const record = given ?? (await this.adapterRecord(tenant, name));
    const key = `${model.key}|${record.sha256}`;
    const cached = this.adapters.get(key);
    if (cached) {
      this.o.metrics.cacheHits.inc({ cache: "adapter" });
      return cached;
    }
    if (!this.decoding.has(key)) this.o.metrics.cacheMisses.inc({ cache: "adapter" });
    return this.decoding.run(key, () => this.decodeAdapter(model, tenant, name, objectKey, record, key));
  }

  async close(): Promise<void> {
    for (const key of this.models.keys()) this.unload(key, this.models.delete(key)!);
    this.adapters.clear();
  }

  /** Releases a model that left the cache. */
  private unload(key: string, m: LoadedModel): void {
    this.o.metrics.presetMemory.remove({ preset: m.preset, version: key.slice(m.preset.length + 1) });
    this.o.log.info(`unloaded ${key}`, { bytes: m.bytes });
    void m.session.release().catch(() => {});
    this.updateBytes();
  }

  private async decodeAdapter(model: LoadedModel, tenant: string, name: string, objectKey: string, record: ObjectRecord, key: string): Promise<LoraAdapter> {
    const bytes = await this.download(objectKey, record);
    const source = `adapter ${tenant}/${name}`;
    let adapter: LoraAdapter;
    try {
      adapter = await loraSafetensorsFormat.decode(bytes, model.shape, source);
      validateAdapter(adapter, model.shape.loraTargets(), source);
    } catch (e) {
      throw new ServeError("bad_adapter", `${(e as Error).message.split("\n")[0]} (preset ${model.preset})`);
    }
    let size = 0;
    for (const { a, b } of adapter.factors.values()) size += a.data.byteLength + b.data.byteLength;
    this.adapters.set(key, adapter, size); // too large for the budget: used for this request, not kept
    this.o.metrics.cacheBytes.set({ cache: "adapter" }, this.adapters.bytes);
    return adapter;
  }

  private async load(preset: string, key: string, record: PresetRecord): Promise<LoadedModel> {
    const started = Date.now();
    const taken = (bytes: number) => new ServeError("busy", `model memory (${this.o.modelMemoryBytes} bytes) is taken by presets in use; preset ${preset} needs ${bytes}`);
    // The verified files stay leased until onnxruntime has the weights: they are read from disk tensor by tensor.
    const leases = new Map<string, Lease>();
    let loaded: PresetSession;
    try {
      for (const [file, fileRecord] of Object.entries(record.files)) leases.set(file, await this.lease(presetFileKey(preset, file), fileRecord));
      loaded = await createPresetSession(preset, new Map([...leases].map(([file, lease]) => [file, lease.path])), {
        runtime: this.o.runtime,
        weightDtype: this.o.weightDtype,
        reserve: (bytes) => {
          if (this.models.makeRoom(bytes)) return;
          if (bytes > this.o.modelMemoryBytes) throw new ServeError("busy", `preset ${preset} needs ${bytes} bytes, more than this runner's model memory budget (${this.o.modelMemoryBytes})`);
          throw taken(bytes);
        },
      });
    } finally {
      for (const lease of leases.values()) lease.release();
    }
    const { session, shape, bytes } = loaded;
    const model: LoadedModel = { key, preset, session, shape, bytes, hidden: shape.hiddenDim, refs: 0, loadedAt: Date.now() };
    if (!this.models.set(key, model, model.bytes)) {
      await session.release();
      throw taken(bytes);
    }
    this.o.metrics.presetMemory.set({ preset, version: key.slice(preset.length + 1) }, model.bytes);
    this.updateBytes();
    this.o.log.info(`loaded ${key}`, { bytes: model.bytes, ms: Date.now() - started, provider: this.o.runtime.name });
    return model;
  }

  private updateBytes(): void {
    this.o.metrics.cacheBytes.set({ cache: "model" }, this.models.bytes);
  }

  /** A verified object as a local file, through the disk cache: release the lease when done reading. */
  private lease(key: string, record: ObjectRecord): Promise<Lease> {
    return this.o.disk.fetch(key, record, () => this.o.store.open(key, AbortSignal.timeout(this.o.storeTimeoutMs)));
  }

  /** Verified bytes of an object, through the disk cache. */
  private async download(key: string, record: ObjectRecord): Promise<Uint8Array> {
    const lease = await this.lease(key, record);
    try {
      return await readFile(lease.path);
    } finally {
      lease.release();
      this.o.metrics.cacheBytes.set({ cache: "disk" }, this.o.disk.bytes);
    }
  }

  private async presetRecord(preset: string): Promise<PresetRecord> {
    const record = await this.readRecord(presetRecordKey(preset), (v) => presetRecordSchema.parse(v));
    if (!record) throw new ServeError("not_found", `preset ${preset} is not in ${this.o.store.description} (no ${presetRecordKey(preset)})`);
    return record;
  }

  private async adapterRecord(tenant: string, name: string): Promise<ObjectRecord> {
    const record = await this.readRecord(adapterRecordKey(tenant, name), (v) => objectRecordSchema.parse(v));
    if (!record) throw new ServeError("not_found", `adapter ${tenant}/${name} is not in ${this.o.store.description} (no ${adapterRecordKey(tenant, name)})`);
    return record;
  }

  /** A record from the store, trusted for the TTL. Missing records are not remembered. */
  private async readRecord<T>(key: string, parse: (value: unknown) => T): Promise<T | null> {
    const now = Date.now();
    const cached = this.records.get(key);
    if (cached && cached.expires > now) return cached.value as T;
    return this.reading.run(key, async () => {
      const bytes = await this.o.store.get(key, AbortSignal.timeout(this.o.storeTimeoutMs));
      if (!bytes) return null;
      let value: T;
      try {
        value = parse(JSON.parse(new TextDecoder().decode(bytes)));
      } catch (e) {
        throw new ServeError("corrupt_object", `${key} is not a valid record (${(e as Error).message.split("\n")[0].slice(0, 160)})`);
      }
      if (this.records.size >= MAX_RECORDS) this.records.delete(this.records.keys().next().value!);
      this.records.delete(key);
      this.records.set(key, { value, expires: Date.now() + this.o.recordTtlMs });
      return value;
    }) as Promise<T | null>;
  }
}

/** Short version id of a preset: a hash of its files' hashes (a new file version is a new model). */
function versionOf(record: PresetRecord): string {
  const files = Object.entries(record.files).sort(([a], [b]) => (a < b ? -1 : 1)).map(([f, r]) => `${f}:${r.sha256}`);
  return hash53(files.join(";")).toString(16).padStart(14, "0");
}
