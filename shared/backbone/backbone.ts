/**
 * The `Backbone` base class: the KerasHub Backbone API in TypeScript. A backbone is a config plus weights
 * keyed by KerasHub variable paths (`decoder_block_0/attention/query/kernel`, …); it emits its forward pass
 * as an ONNX graph that onnxruntime (web/WASM or node) runs.
 */
import { GraphBuilder, MAX_EMBEDDED_BYTES, type SplitModel, type WeightEncoder } from "../graph/graph-builder.js";
import { castTensor, sizeOf, toFloat32, type FloatDType, type Tensor } from "../tensor/tensor.js";
import { initializeTensor, type Initializer } from "../tensor/random.js";
import type { OnnxRuntime } from "../runtime/runtime.js";
import { BackboneSession } from "./session.js";
import { withLora } from "../graph/lora.js";
import { adapterParams, initLora, kernelDelta, validateAdapter, type LoraAdapter, type LoraTarget } from "../lora/adapter.js";
import { loraFileFormat, loraFileAccess } from "../lora/files.js";
import { camelKeys, snakeKeys } from "./config.js";
import { builtinPresets, classByName } from "./registry.js";
import { loadBackbone, savePreset, type FromPresetOptions } from "../presets/loader.js";
import { formatParams, type PresetInfo } from "../presets/preset-info.js";
import type { PresetFiles, PresetStore } from "../presets/store.js";

/** A built-in preset as listed by `Backbone.presets`. */
export interface PresetSummary extends PresetInfo {
  /** Parameter count computed from the config, formatted like the KerasHub tables (66.36M, 2.51B). */
  parameters: string;
}

export interface VariableSpec {
  /** KerasHub `variable.path`, e.g. `decoder_block_0/attention/query/kernel`. */
  path: string;
  shape: number[];
  init: Initializer;
}

/** Arguments every backbone accepts besides its architecture config. */
export interface BackboneArgs {
  /**
   * Storage dtype of the weights (the Keras dtype policy). `float32` by default; `float16`/`bfloat16` keep
   * weights 16-bit in memory, in saved presets and in the ONNX model. Compute is always float32.
   */
  dtype?: FloatDType;
  name?: string;
  trainable?: boolean;
  /** Seed for the random initialisation used when no weights are loaded (`loadWeights: false`). */
  seed?: number;
}

export interface GraphOptions {
  /** Also output `hidden_states.{i}` (i = 0: embeddings; i = L: the final output), as HF does. */
  hiddenStates?: boolean;
  /**
   * Take LoRA adapters as graph inputs (stacked factors + per-row `adapter_ids`), so one session serves
   * any mix of adapters. Default: on when LoRA is enabled on the backbone.
   */
  lora?: boolean;
  /** How dense layers and the embedding table are encoded (quantized plans: `shared/quant`); default float32. */
  weights?: WeightEncoder;
}

export interface SessionOptions extends GraphOptions {
  /** Put the weights in an ONNX external data file even when they would fit in the model (default: only > 2 GiB). */
  externalData?: boolean;
}

/** The value names a backbone's graph starts from. */
export interface GraphInputs {
  tokenIds: string;
  paddingMask: string;
  /** Present when the graph takes LoRA adapters. */
  adapterIds?: string;
}

export interface GraphResult {
  sequenceOutput: string;
  /** HF `hidden_states`: the embedding output, then each block's output; the last equals the final output. */
  hiddenStates: string[];
}

/** `Backbone` or one of its subclasses, as a value (its constructor may be protected or abstract). */
export type BackboneClassRef<B extends Backbone = Backbone> = Function & { prototype: B; readonly className: string };

export abstract class Backbone {
  /** KerasHub class name (`registered_name` is `keras_hub>` + this). */
  static readonly className: string = "Backbone";
  /** Python module KerasHub serialises into config.json. */
  static readonly module: string = "keras_hub.src.models.backbone";

  readonly dtype: FloatDType;
  readonly name: string;
  readonly trainable: boolean;
  readonly seed: number;
  private weightMap: Map<string, Tensor> | null = null;
  private loraAdapter: LoraAdapter | null = null;

  protected constructor(args: BackboneArgs, defaultName: string) {
    this.dtype = args.dtype ?? "float32";
    this.name = args.name ?? defaultName;
    this.trainable = args.trainable ?? true;
    this.seed = args.seed ?? 0;
  }

  /** The architecture config, camelCase (what the constructor took, after defaults). */
  abstract readonly config: Readonly<Record<string, unknown>>;
  abstract readonly hiddenDim: number;
  abstract readonly vocabularySize: number;
  /** Longest sequence the model accepts; null when unbounded (RoPE models). */
  abstract readonly maxSequenceLength: number | null;
  /** Every variable with its shape and KerasHub initialiser, in KerasHub creation order. */
  abstract variables(): VariableSpec[];
  /** Emits the forward pass into `g`. */
  protected abstract buildGraph(g: GraphBuilder, inputs: GraphInputs, options: GraphOptions): GraphResult;
  /** The projections LoRA adapts (query and value of every attention layer), block by block. */
  abstract loraTargets(): LoraTarget[];
  /** Index of a target's layer in KerasHub's flattened layer list (the `.lora.h5` group name, spec §1.7.5). */
  abstract kerasLoraIndex(target: LoraTarget): number;
  /**
   * Where each variable lives in KerasHub's `model.weights.h5` (spec §2.6): dataset paths to try, in order.
   * Groups are named by snake-cased class name with a per-class counter (`gemma_decoder_block`, `…_1`).
   */
  abstract kerasH5Paths(): Map<string, string[]>;

  /**
   * Builds a backbone from a built-in preset name, `hf://org/model`, `kaggle://…`, a local KerasHub- or
   * HF-format directory, or a preset store key. On a subclass the preset must be of that family; on
   * `Backbone` itself the right subclass is returned.
   */
  static async fromPreset<B extends Backbone>(
    this: BackboneClassRef<B>,
    preset: string,
    options: FromPresetOptions = {},
  ): Promise<B> {
    return (await loadBackbone(this, preset, options)) as B;
  }

  /** Built-in presets of this class and its subclasses, by name. */
  static get presets(): Record<string, PresetSummary> {
    const out: Record<string, PresetSummary> = {};
    for (const info of builtinPresets().values()) {
      const cls = classByName(info.className);
      if (!cls || !(cls === (this as unknown) || cls.prototype instanceof this)) continue;
      const params = new cls(camelKeys(info.config)).countParams();
      out[info.name] = { ...info, parameters: formatParams(params) };
    }
    return out;
  }

  /** Writes a KerasHub-format preset (config.json, metadata.json, model.safetensors) to a directory or store key. */
  async saveToPreset(target: string | PresetFiles, store?: PresetStore): Promise<PresetFiles> {
    return savePreset(this, target, store);
  }

  /**
   * KerasHub `enable_lora(rank)`: adapts query and value projections (A he_uniform, B zeros, scale 1) and
   * freezes everything else. `randomB` draws B too (for tests: a zero B is a no-op).
   */
  enableLora(rank: number, options: { seed?: number; randomB?: boolean } = {}): void {
    if (this.loraAdapter) throw new Error(`LoRA is already enabled on this ${this.className} (rank ${this.loraAdapter.rank})`);
    this.loraAdapter = initLora(this.loraTargets(), rank, options.seed ?? this.seed, options.randomB);
  }

  /** The backbone's own adapter (enabled or loaded), or null. */
  get lora(): LoraAdapter | null {
    return this.loraAdapter;
  }

  /** Sets (validated) or clears the backbone's own adapter. */
  setLora(adapter: LoraAdapter | null, source = "adapter"): void {
    if (adapter) validateAdapter(adapter, this.loraTargets(), source);
    this.loraAdapter = adapter;
  }

  /** KerasHub's trainable / non-trainable split: with LoRA on, only the A/B factors train. */
  weightSummary(): { trainableWeights: number; nonTrainableWeights: number; trainableParams: number; nonTrainableParams: number } {
    const base = { weights: this.variables().length, params: this.countParams() };
    if (!this.loraAdapter) return { trainableWeights: base.weights, nonTrainableWeights: 0, trainableParams: base.params, nonTrainableParams: 0 };
    return {
      trainableWeights: this.loraAdapter.factors.size * 2,
      nonTrainableWeights: base.weights,
      trainableParams: adapterParams(this.loraAdapter),
      nonTrainableParams: base.params,
    };
  }

  /** Folds an adapter (default: the backbone's own) into the base kernels, W ← W + scale·A·B, and disables LoRA. */
  mergeLora(adapter: LoraAdapter | null = this.loraAdapter): void {
    if (!adapter) throw new Error(`no LoRA adapter to merge: enable or load one first`);
    const targets = this.loraTargets();
    validateAdapter(adapter, targets);
    const merged = new Map(this.weights);
    for (const t of targets) {
      const factors = adapter.factors.get(t.kernelPath);
      if (!factors) continue;
      const delta = kernelDelta(t, factors, adapter.layout, adapter.scale);
      const base = toFloat32(this.weight(t.kernelPath));
      const out = new Float32Array(base.length);
      for (let i = 0; i < out.length; i++) out[i] = base[i] + delta[i];
      merged.set(t.kernelPath, { dtype: "float32", shape: t.kernelShape, data: out });
    }
    this.setWeights(merged);
    if (adapter === this.loraAdapter) this.loraAdapter = null;
  }

  /** KerasHub `save_lora_weights`: `.lora.h5` (KerasHub layout; Node) or `.lora.safetensors` (any runtime). */
  async saveLoraWeights(path: string): Promise<void> {
    if (!this.loraAdapter) throw new Error("no LoRA layers are enabled: call enableLora(rank) or loadLoraWeights() first");
    const format = loraFileFormat(path);
    await loraFileAccess().write(path, await format.encode(this.loraAdapter, this));
  }

  /** KerasHub `load_lora_weights`: enables LoRA at the file's rank, or checks that both ranks match. */
  async loadLoraWeights(path: string): Promise<void> {
    const format = loraFileFormat(path);
    const adapter = await format.decode(await loraFileAccess().read(path), this, path);
    if (this.loraAdapter && this.loraAdapter.rank !== adapter.rank) {
      throw new Error(`LoRA rank mismatch: the model has rank ${this.loraAdapter.rank}, ${path} has rank ${adapter.rank}. Both ranks must match`);
    }
    this.setLora(adapter, path);
  }

  /** Emits q/v + LoRA Δ when the graph takes adapters; the projection unchanged otherwise. */
  protected adaptProjection(g: GraphBuilder, inputs: GraphInputs, x: string, projected: string, kernelPath: string): string {
    if (!inputs.adapterIds) return projected;
    const target = this.loraTargets().find((t) => t.kernelPath === kernelPath);
    if (!target) throw new Error(`internal: ${kernelPath} is not a LoRA target`);
    return withLora(g, x, projected, target, inputs.adapterIds);
  }

  get className(): string {
    return (this.constructor as typeof Backbone).className;
  }

  /** KerasHub `get_config()`: name, trainable and the constructor arguments, snake_case. */
  getConfig(): Record<string, unknown> {
    const config: Record<string, unknown> = { name: this.name, trainable: this.trainable, ...snakeKeys({ ...this.config }) };
    if (this.dtype !== "float32") config.dtype = this.dtype;
    return config;
  }

  /** KerasHub `count_params()`. */
  countParams(): number {
    return this.variables().reduce((n, v) => n + sizeOf(v.shape), 0);
  }

  /** Weights by variable path. Materialised on first use from the seeded KerasHub initialisers. */
  get weights(): ReadonlyMap<string, Tensor> {
    if (!this.weightMap) {
      const map = new Map<string, Tensor>();
      for (const v of this.variables()) map.set(v.path, castTensor(initializeTensor(v.shape, v.init, this.seed, v.path), this.dtype));
      this.weightMap = map;
    }
    return this.weightMap;
  }

  /** Replaces all weights; every variable must be present with its exact shape. Casts to `dtype`. */
  setWeights(weights: ReadonlyMap<string, Tensor>, source = "weights"): void {
    const specs = this.variables();
    const missing = specs.filter((v) => !weights.has(v.path)).map((v) => v.path);
    if (missing.length) {
      throw new Error(`${source} lack ${missing.length} variable(s) of ${this.className}: ${missing.slice(0, 5).join(", ")}${missing.length > 5 ? ", …" : ""}`);
    }
    const map = new Map<string, Tensor>();
    for (const v of specs) {
      const t = weights.get(v.path)!;
      if (t.shape.join() !== v.shape.join()) {
        throw new Error(`${source}: ${v.path} has shape [${t.shape}], ${this.className} expects [${v.shape}]`);
      }
      map.set(v.path, castTensor(t, this.dtype));
    }
    this.weightMap = map;
  }

  /** One weight by KerasHub variable path. */
  weight(path: string): Tensor {
    const t = this.weights.get(path);
    if (!t) throw new Error(`${this.className} has no variable ${path}`);
    return t;
  }

  /** The token embedding matrix [vocabulary, hidden] (tied with the LM head in KerasHub). */
  abstract get tokenEmbedding(): Tensor;

  /** The forward pass as a serialised ONNX model (token_ids, padding_mask → sequence_output). */
  toOnnx(options: GraphOptions = {}): Uint8Array {
    return this.graph(options).encode();
  }

  /**
   * The model as one protobuf, or with its weights in an external data file when they exceed 2 GiB, are read
   * lazily (`fromPreset(…, { lazyWeights: true })`), or when asked to.
   */
  toOnnxModel(options: SessionOptions = {}): Uint8Array | SplitModel {
    const g = this.graph(options);
    const split = options.externalData || g.hasLazyWeights || g.initializerBytes > MAX_EMBEDDED_BYTES;
    return split ? g.encodeSplitLazy("weights.bin") : g.encode();
  }

  private graph(options: GraphOptions): GraphBuilder {
    const g = new GraphBuilder(this.name, { weights: options.weights });
    const tokenIds = g.input("token_ids", "int32", ["batch", "sequence"]);
    const paddingMask = g.input("padding_mask", "int32", ["batch", "sequence"]);
    const adapterIds = options.lora ? g.input("adapter_ids", "int32", ["batch"]) : undefined;
    const { sequenceOutput, hiddenStates } = this.buildGraph(g, { tokenIds, paddingMask, adapterIds }, options);
    const dims = ["batch", "sequence", this.hiddenDim];
    g.output(sequenceOutput, "sequence_output", "float32", dims);
    if (options.hiddenStates) {
      hiddenStates.forEach((h, i) => g.output(h, `hidden_states.${i}`, "float32", dims));
    }
    return g;
  }

  /**
   * Builds the graph and loads it into an inference session of the given runtime. Weights beyond one protobuf
   * (2 GiB: full-size Gemma) go to an ONNX external data file, which onnxruntime-node reads.
   */
  async createSession(runtime: OnnxRuntime, options: SessionOptions = {}): Promise<BackboneSession> {
    const lora = options.lora ?? this.loraAdapter !== null;
    const model = this.toOnnxModel({ ...options, lora });
    return BackboneSession.create(this, runtime, model, lora ? { targets: this.loraTargets(), defaultAdapter: this.loraAdapter } : null);
  }
}
