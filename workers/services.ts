/**
 * Per-isolate state shared by every request: backbone configs (no weights; for validation and footprints),
 * loaded sessions (one load per preset however many requests wait for it, evicted by estimated bytes), decoded
 * adapters (by upload id, which never changes meaning), the runner pool, admission control and the metrics.
 */
import {
  Backbone,
  EdgeModel,
  ISOLATE_ALLOWANCE_BYTES,
  NoTokenizerError,
  PresetNotFoundError,
  Preprocessor,
  EMBEDDING_SETTINGS_FILE,
  familyTraits,
  loraSafetensorsFormat,
  parseEmbeddingSettings,
  readEdgeManifest,
  stagePeak,
  type BackboneSession,
  type EdgeManifest,
  type LoraAdapter,
  type EmbeddingSettings,
  type OnnxRuntime,
} from "../shared/index.js";
import { PipelineBackend } from "./pipeline.js";
import type { EmbeddingDefaults } from "./embeddings.js";
import { presetFileKey, presetRecordKey } from "../shared/runner/layout.js";
import { AsyncLruCache } from "./cache.js";
import { numberVar, type Env, type R2BucketLike } from "./env.js";
import { ApiError, notFound } from "./errors.js";
import { isPresetName, R2PresetStore } from "./r2-preset-store.js";
import { limiterFor, type Limiter } from "./limiter.js";
import { requestLimits, type RequestLimits } from "./limits.js";
import { EdgeMetrics } from "./metrics.js";
import { RunnerBackend } from "./runner-backend.js";

export const MiB = 1024 * 1024;
/** onnxruntime-web's WASM heap, the graph and the per-request activations, beyond the weights. */
const RUNTIME_OVERHEAD_BYTES = 24 * MiB;
/** How long a preset whose edge artifact failed to load is sent to the runner pool before the isolate tries again. */
const EDGE_RETRY_MS = 60_000;

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
  /** The edge artifact's model, or (presets without one) the float graph built in the isolate. */
  session: Pick<BackboneSession, "forward">;
  bytes: number;
}

export type Backend = "isolate" | "pipeline" | "runner";

export interface Placement {
  backbone: Backbone;
  where: Backend;
  /** Peak isolate memory the preset takes (a pipeline's: its largest stage's): measured for edge artifacts, estimated otherwise. */
  footprint: number;
  edge: EdgeManifest | null;
}

/**
 * Isolate footprint of a preset: an edge artifact's measured peak (or its files plus the runtime's overhead when
 * unmeasured), a pipeline's largest stage; for float presets their weights three times (the backbone's tensors,
 * the ONNX model bytes, onnxruntime's copy in the WASM heap) plus the overhead.
 */
export function footprint(backbone: Backbone, edge: EdgeManifest | null): number {
  if (!edge) return backbone.countParams() * 4 * 3 + RUNTIME_OVERHEAD_BYTES;
  if (edge.pipeline) return Math.max(...edge.pipeline.stages.map(stagePeak));
  const peak = edge.measured ? Math.max(...Object.values(edge.measured.peak_bytes)) : 0;
  return peak || edge.total_bytes + RUNTIME_OVERHEAD_BYTES;
}

/**
 * Where a backbone (with its edge artifact, if any) runs under an isolate budget; the install tool prints it. An
 * artifact with a pipeline plan (made at install because no plan fit one isolate) runs on its pipeline.
 */
export function placementFor(backbone: Backbone, edge: EdgeManifest | null, budgetBytes: number): { where: Backend; footprint: number } {
  const bytes = footprint(backbone, edge);
  if (familyTraits(backbone.className).decoder) return { where: "runner", footprint: bytes };
  if (edge?.pipeline) return { where: "pipeline", footprint: bytes };
  return { where: bytes > budgetBytes ? "runner" : "isolate", footprint: bytes };
}

/** The isolate could not load a preset it should run (a broken artifact, memory): the runner pool may take it. */
export class IsolateLoadError extends ApiError {
  constructor(preset: string, reason: string) {
    super(503, `preset "${preset}" could not be loaded in this isolate: ${reason}`, "isolate_load_failed");
  }
}

export function adapterBytes(adapter: LoraAdapter): number {
  let n = 0;
  for (const { a, b } of adapter.factors.values()) n += a.data.byteLength + b.data.byteLength;
  return n;
}

/** Text window of models without a position limit: KerasHub's CausalLMPreprocessor default `sequence_length`. */
const UNBOUNDED_WINDOW = 1024;

export class Services {
  readonly store: R2PresetStore;
  readonly budgetBytes: number;
  private readonly configs = new AsyncLruCache<Backbone>(Number.POSITIVE_INFINITY, () => 1);
  private readonly edges = new AsyncLruCache<EdgeManifest | null>(Number.POSITIVE_INFINITY, () => 0);
  /** Presets whose isolate load or pipeline failed recently, with the reason (they go to the runner pool meanwhile). */
  private readonly loadFailures = new Map<string, { reason: string; at: number }>();
  readonly models: AsyncLruCache<LoadedModel>;
  readonly adapters = new AsyncLruCache<LoraAdapter>(32 * MiB, adapterBytes);
  readonly runners = new RunnerBackend();
  readonly pipelines = new PipelineBackend();
  readonly limiter: Limiter;
  /** What one request may ask for (workers/limits.ts). */
  readonly limits: RequestLimits;
  readonly metrics = new EdgeMetrics();
  private readonly preprocessors = new AsyncLruCache<Preprocessor>(64, () => 1);
  private readonly embeddingSettings = new AsyncLruCache<EmbeddingDefaults>(Number.POSITIVE_INFINITY, () => 0);

  constructor(
    readonly bucket: R2BucketLike,
    env: Env,
    readonly options: AppOptions,
  ) {
    this.store = new R2PresetStore(bucket);
    this.budgetBytes = numberVar(env.EDGE_MEMORY_BUDGET_MB, 128) * MiB;
    this.models = new AsyncLruCache<LoadedModel>(this.budgetBytes, (m) => m.bytes);
    this.limiter = limiterFor(env);
    this.limits = requestLimits(env);
  }

  /** Drops what this isolate cached for a preset (after a re-install; other isolates keep theirs until evicted). */
  forgetPreset(preset: string): void {
    this.configs.delete(preset);
    this.edges.delete(preset);
    this.loadFailures.delete(preset);
    this.models.delete(preset);
    this.preprocessors.delete(preset);
    this.embeddingSettings.delete(preset);
  }

  /**
   * The preset's backbone built from its config.json alone (weights are never materialised). 404 if absent or not
   * committed (no record.json yet: workers/preset-install.ts).
   */
  config(preset: string): Promise<Backbone> {
    if (!isPresetName(preset)) return Promise.reject(notFound(`preset "${preset}" not found`, "preset_not_found"));
    return this.configs.get(preset, async () => {
      if (!(await this.bucket.head(presetRecordKey(preset)))) throw notFound(`preset "${preset}" not found`, "preset_not_found");
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

  /** The preset's edge artifact manifest (`edge/manifest.json`), or null. */
  edgeManifest(preset: string): Promise<EdgeManifest | null> {
    return this.edges.get(preset, () => readEdgeManifest(this.store.open(preset)));
  }

  /**
   * Where a preset runs: in this isolate when its footprint fits the budget (an edge artifact's measured peak), on
   * its isolate pipeline when its artifact has one, on the runner pool otherwise, for every decoder family
   * (decoder-sized vocabularies and unbounded sequences), and for a while after the isolate or the pipeline failed.
   */
  async placement(preset: string): Promise<Placement> {
    const backbone = await this.config(preset);
    const edge = familyTraits(backbone.className).decoder ? null : await this.edgeManifest(preset);
    const failure = this.loadFailures.get(preset);
    if (failure && Date.now() - failure.at > EDGE_RETRY_MS) this.loadFailures.delete(preset);
    const placed = placementFor(backbone, edge, this.budgetBytes);
    return { backbone, edge, ...placed, where: this.loadFailures.has(preset) ? "runner" : placed.where };
  }

  /** Why the isolate does not run a preset it could (its last load or pipeline failure), or null. */
  loadFailure(preset: string): string | null {
    return this.loadFailures.get(preset)?.reason ?? null;
  }

  /** Sends the preset to the runner pool for `EDGE_RETRY_MS`, for this reason. */
  recordFailure(preset: string, reason: string): void {
    console.error(`${preset} fails at the edge: ${reason}`);
    this.loadFailures.set(preset, { reason, at: Date.now() });
  }

  /**
   * The preset's model in this isolate (callers check `placement` first): its edge artifact, loaded within the
   * memory left beside the token table and the isolate's own needs, or the float graph. A failed load is
   * remembered (the preset goes to the runner pool for `EDGE_RETRY_MS`) and thrown as an IsolateLoadError.
   */
  async model(preset: string): Promise<LoadedModel> {
    const { backbone, edge, footprint: bytes } = await this.placement(preset);
    return this.models.get(preset, async () => {
      try {
        if (edge) {
          const memoryLimitBytes = this.budgetBytes - (edge.embedding?.bytes ?? 0) - ISOLATE_ALLOWANCE_BYTES;
          const session = await EdgeModel.load(this.store.open(preset), backbone, this.options.runtime(), { memoryLimitBytes });
          return { preset, backbone, session, bytes };
        }
        const full = await Backbone.fromPreset(preset, { store: this.store });
        return { preset, backbone: full, session: await full.createSession(this.options.runtime(), { lora: true }), bytes };
      } catch (e) {
        const reason = (e as Error).message;
        this.recordFailure(preset, reason);
        throw new IsolateLoadError(preset, reason);
      }
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

  /**
   * The preset's embedding defaults (pooling, normalize, prompts): `presets/<name>/edgebone.json` over the
   * family's (its pooling, normalised, no prompt).
   */
  embeddingDefaults(preset: string, backbone: Backbone): Promise<EmbeddingDefaults> {
    return this.embeddingSettings.get(preset, async () => {
      const key = presetFileKey(preset, EMBEDDING_SETTINGS_FILE);
      const object = await this.bucket.get(key);
      let settings: EmbeddingSettings = {};
      if (object) {
        try {
          settings = parseEmbeddingSettings(new Uint8Array(await object.arrayBuffer()), key);
        } catch (e) {
          throw new ApiError(500, (e as Error).message, "bad_preset_settings");
        }
      }
      const prompts = settings.prompts ?? {};
      return {
        pooling: settings.pooling ?? familyTraits(backbone.className).defaultPooling,
        normalize: settings.normalize ?? true,
        prompts,
        defaultPrompt: settings.default_prompt_name ? prompts[settings.default_prompt_name] : null,
      };
    });
  }

  /** A stored adapter, decoded once per upload id. */
  adapter(id: string, r2Key: string, backbone: Backbone): Promise<LoraAdapter> {
    return this.adapters.get(id, () => readAdapter(this.bucket, r2Key, backbone));
  }
}

/** An adapter's R2 object, decoded for `backbone`. */
export async function readAdapter(bucket: R2BucketLike, r2Key: string, backbone: Backbone): Promise<LoraAdapter> {
  const object = await bucket.get(r2Key);
  if (!object) throw new ApiError(500, `adapter object ${r2Key} is missing from R2`, "adapter_object_missing");
  return loraSafetensorsFormat.decode(new Uint8Array(await object.arrayBuffer()), backbone, r2Key);
}
