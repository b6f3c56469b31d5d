/**
 * Per-isolate state shared by every request: backbone configs (no weights; for validation and footprints),
 * loaded sessions (one load per preset however many requests wait for it, evicted by estimated bytes), and
 * decoded adapters (by upload id, which never changes meaning).
 */
import { Backbone, NoTokenizerError, PresetNotFoundError, Preprocessor, loraSafetensorsFormat, type BackboneSession, type LoraAdapter, type OnnxRuntime } from "../shared/index.js";
import { defaultPooling, POOLINGS, type Pooling } from "./embeddings.js";
import { AsyncLruCache } from "./cache.js";
import { numberVar, type Env, type R2BucketLike } from "./env.js";
import { ApiError, notFound } from "./errors.js";
import { isPresetName, R2PresetStore } from "./r2-preset-store.js";
import { limiterFor, type Limiter } from "./limiter.js";
import { RunnerBackend } from "./runner-backend.js";

export const MiB = 1024 * 1024;
/** onnxruntime-web's WASM heap, the graph and the per-request activations, beyond the weights. */
export const RUNTIME_OVERHEAD_BYTES = 24 * MiB;

export interface AppHooks {
  /** Runs after an adapter's bytes are in R2 and before its D1 row becomes ready (fault injection in tests). */
  afterAdapterPut?(info: { id: string; tenantId: string; name: string; r2Key: string }): Promise<void> | void;
}

export interface AppOptions {
  /** The onnxruntime the isolate runs models on (workerdWasmRuntime in the worker). */
  runtime: () => OnnxRuntime;
  hooks?: AppHooks;
}

export interface LoadedModel {
  preset: string;
  backbone: Backbone;
  session: BackboneSession;
  bytes: number;
}

/**
 * Estimated isolate footprint of a preset: its float32 weights three times (the backbone's tensors, the ONNX
 * model bytes, onnxruntime's copy in the WASM heap) plus the runtime overhead.
 */
export function estimateFootprint(backbone: Backbone): number {
  return backbone.countParams() * 4 * 3 + RUNTIME_OVERHEAD_BYTES;
}

export function adapterBytes(adapter: LoraAdapter): number {
  let n = 0;
  for (const { a, b } of adapter.factors.values()) n += a.data.byteLength + b.data.byteLength;
  return n;
}

/** Text window of models without a position limit: KerasHub's CausalLMPreprocessor default `sequence_length`. */
export const UNBOUNDED_WINDOW = 1024;

export class Services {
  readonly store: R2PresetStore;
  readonly budgetBytes: number;
  private readonly configs = new AsyncLruCache<Backbone>(Number.POSITIVE_INFINITY, () => 1);
  readonly models: AsyncLruCache<LoadedModel>;
  readonly adapters = new AsyncLruCache<LoraAdapter>(32 * MiB, adapterBytes);
  readonly runners = new RunnerBackend();
  readonly limiter: Limiter;
  private readonly preprocessors = new AsyncLruCache<Preprocessor>(64, () => 1);
  private readonly poolings = new AsyncLruCache<Pooling>(Number.POSITIVE_INFINITY, () => 0);

  constructor(
    readonly bucket: R2BucketLike,
    env: Env,
    readonly options: AppOptions,
  ) {
    this.store = new R2PresetStore(bucket);
    this.budgetBytes = numberVar(env.EDGE_MEMORY_BUDGET_MB, 128) * MiB;
    this.models = new AsyncLruCache<LoadedModel>(this.budgetBytes, (m) => m.bytes);
    this.limiter = limiterFor(env);
  }

  /** Drops what this isolate cached for a preset (after a re-install; other isolates keep theirs until evicted). */
  forgetPreset(preset: string): void {
    this.configs.delete(preset);
    this.models.delete(preset);
    this.preprocessors.delete(preset);
    this.poolings.delete(preset);
  }

  /** The preset's backbone built from its config.json alone (weights are never materialised). 404 if absent. */
  config(preset: string): Promise<Backbone> {
    if (!isPresetName(preset)) return Promise.reject(notFound(`preset "${preset}" not found`, "preset_not_found"));
    return this.configs.get(preset, async () => {
      try {
        return await Backbone.fromPreset(preset, { store: this.store, loadWeights: false });
      } catch (e) {
        if (e instanceof PresetNotFoundError) {
          throw notFound(`preset "${preset}" not found`, "preset_not_found");
        }
        throw e;
      }
    });
  }

  /**
   * Where a preset runs: in this isolate when its estimated footprint fits the budget, on the runner pool
   * otherwise and for every Gemma (decoder-sized vocabularies and unbounded sequences).
   */
  async placement(preset: string): Promise<{ backbone: Backbone; where: "isolate" | "runner"; footprint: number }> {
    const backbone = await this.config(preset);
    const footprint = estimateFootprint(backbone);
    const where = /gemma/i.test(backbone.className) || footprint > this.budgetBytes ? "runner" : "isolate";
    return { backbone, where, footprint };
  }

  /** The preset's session in this isolate (callers check `placement` first). */
  async model(preset: string): Promise<LoadedModel> {
    const footprint = estimateFootprint(await this.config(preset));
    return this.models.get(preset, async () => {
      const backbone = await Backbone.fromPreset(preset, { store: this.store });
      const session = await backbone.createSession(this.options.runtime(), { lora: true });
      return { preset, backbone, session, bytes: footprint };
    });
  }

  /**
   * The preset's tokenizer (`tokenizer.hf.json`), with its backbone's sequence length; 422 if it has none.
   * Backbones without a position limit (Gemma: RoPE) chunk and truncate at `UNBOUNDED_WINDOW` tokens.
   */
  preprocessor(preset: string): Promise<Preprocessor> {
    return this.preprocessors.get(preset, async () => {
      try {
        const p = await Preprocessor.fromPreset(this.store.open(preset));
        return p.sequenceLength === null ? new Preprocessor(p.tokenizer, {}, UNBOUNDED_WINDOW) : p;
      } catch (e) {
        if (e instanceof NoTokenizerError) throw new ApiError(422, `preset "${preset}" has no tokenizer: send token ids instead of text`, "no_tokenizer", "input");
        throw e;
      }
    });
  }

  /** Pooling of the preset: `presets/<name>/edgebone.json` {"pooling"} or the family default. */
  pooling(preset: string, backbone: Backbone): Promise<Pooling> {
    return this.poolings.get(preset, async () => {
      const object = await this.bucket.get(`presets/${preset}/edgebone.json`);
      if (!object) return defaultPooling(backbone);
      const pooling = (JSON.parse(new TextDecoder().decode(await object.arrayBuffer())) as { pooling?: Pooling }).pooling;
      if (pooling === undefined) return defaultPooling(backbone);
      if (!POOLINGS.includes(pooling)) throw new ApiError(500, `presets/${preset}/edgebone.json: pooling must be one of ${POOLINGS.join(", ")}`, "bad_preset_settings");
      return pooling;
    });
  }

  /** A stored adapter, decoded once per upload id. */
  adapter(id: string, r2Key: string, backbone: Backbone): Promise<LoraAdapter> {
    return this.adapters.get(id, async () => {
      const object = await this.bucket.get(r2Key);
      if (!object) throw new ApiError(500, `adapter object ${r2Key} is missing from R2`, "adapter_object_missing");
      return loraSafetensorsFormat.decode(new Uint8Array(await object.arrayBuffer()), backbone, r2Key);
    });
  }
}
