/**
 * `fromPreset` / `saveToPreset` (spec §1.4, §1.6): find a preset in a store, tell KerasHub-format configs
 * (`registered_name`) from Hugging Face ones (`model_type`), build the backbone and load its weights.
 */
import type { Backbone, BackboneArgs, BackboneClassRef } from "../backbone/backbone.js";
import { camelKeys } from "../backbone/config.js";
import { builtinPresets, classByName, hfConverterFor, registeredFamilies, type ConcreteBackboneClass } from "../backbone/registry.js";
import type { FloatDType } from "../tensor/tensor.js";
import { safetensorsParts } from "../weights/safetensors.js";
import { readKerasWeights } from "./keras-weights.js";
import { HfCheckpoint } from "./hf-checkpoint.js";
import { parsePresetHandle } from "./handles.js";
import { openHubPreset, type PresetParts } from "./hub.js";
import { getDefaultPresetStore, hasFile, PresetNotFoundError, readJson, writeFileParts, writeJson, type PresetFiles, type PresetStore } from "./store.js";

export interface FromPresetOptions {
  /** Load the preset's weights (default). False: seeded KerasHub random initialisation. */
  loadWeights?: boolean;
  /** Where built-in names, hf:// and kaggle:// handles and paths are looked up. Default: the default store. */
  store?: PresetStore;
  /** Weight storage dtype; default the preset's, else float32 (bf16/fp16 weights are upcast on load). */
  dtype?: FloatDType;
  /** Seed of the random initialisation when `loadWeights` is false. */
  seed?: number;
  /**
   * Download hf://, kaggle:// and built-in presets that the store lacks into the hubs' caches (needs a
   * registered downloader: the Node entry point). Default: true when no `store` is given.
   */
  download?: boolean;
  /**
   * Leave the weights in the preset's files as lazy tensors (shared/tensor/lazy.ts), read one at a time when
   * the model's ONNX external data is written (`createSession` on onnxruntime-node), so a model of any size is
   * never held in JavaScript memory. Applies to safetensors weights (KerasHub-format presets, and HF checkpoints
   * whose converter only rearranges tensors: `HfConverter.lazyWeights`); others are loaded as usual. The weights'
   * values cannot be read (`mergeLora`, `saveToPreset`, quantized edge artifacts need loaded weights).
   */
  lazyWeights?: boolean;
}

/** Version of KerasHub whose semantics and file formats Edgebone follows. */
const KERAS_HUB_VERSION = "0.18.1";
const EDGEBONE_VERSION = "0.1.0";

export async function loadBackbone(caller: BackboneClassRef, preset: string, options: FromPresetOptions = {}): Promise<Backbone> {
  const store = options.store ?? getDefaultPresetStore();
  const overrides: BackboneArgs = {
    ...(options.dtype ? { dtype: options.dtype } : {}),
    ...(options.seed !== undefined ? { seed: options.seed } : {}),
  };
  const loadWeights = options.loadWeights ?? true;
  const builtin = builtinPresets().get(preset);
  if (builtin && !loadWeights) {
    // The built-in table has the config; nothing needs to be fetched for a randomly initialised model.
    const cls = classByName(builtin.className)!;
    checkSubclass(caller, cls, preset);
    return new cls({ ...camelKeys(builtin.config), ...overrides });
  }
  const { files, config } = await findPreset(preset, store, loadWeights ? "all" : "config", options.download ?? !options.store);

  if ("registered_name" in config) {
    const cls = kerasClass(config, files);
    checkSubclass(caller, cls, preset);
    const backbone = new cls({ ...kerasArgs(config, files), ...overrides });
    if (loadWeights) {
      const { weights, source } = await readKerasWeights(files, backbone, options.lazyWeights);
      backbone.setWeights(weights, source);
    }
    return backbone;
  }

  if ("model_type" in config) {
    const modelType = String(config.model_type);
    const converter = hfConverterFor(modelType);
    if (!converter) {
      const supported = registeredFamilies().flatMap((f) => f.hf?.modelTypes ?? []);
      throw new Error(`${files.location}: Hugging Face model_type "${modelType}" is not supported (supported: ${supported.join(", ")})`);
    }
    const cls = converter.backboneFor(config);
    checkSubclass(caller, cls, preset);
    const backbone = new cls({ ...converter.convertConfig(config), ...overrides });
    if (loadWeights) {
      const checkpoint = await HfCheckpoint.open(files, backbone.dtype, { lazy: options.lazyWeights && converter.lazyWeights });
      checkpoint.detectPrefix(converter.anchorKey);
      backbone.setWeights(await converter.convertWeights(checkpoint, backbone, config), files.location);
    }
    return backbone;
  }

  throw new Error(`${files.location}/config.json is neither a KerasHub config (no "registered_name") nor a Hugging Face config (no "model_type")`);
}

/**
 * The files of a preset, found as `fromPreset` finds them (downloaded into a hub's cache when allowed):
 * for converters that copy its tokenizer and metadata too.
 */
export async function presetFiles(preset: string, options: Pick<FromPresetOptions, "store" | "download"> = {}): Promise<PresetFiles> {
  return (await findPreset(preset, options.store ?? getDefaultPresetStore(), "all", options.download ?? !options.store)).files;
}

/** Writes a KerasHub-format preset: config.json, metadata.json and model.safetensors (KerasHub variable paths). */
export async function savePreset(backbone: Backbone, target: string | PresetFiles, store: PresetStore = getDefaultPresetStore()): Promise<PresetFiles> {
  const files = typeof target === "string" ? (store.openPath?.(target) ?? store.open(target)) : target;
  const cls = backbone.constructor as ConcreteBackboneClass;
  // Weights first, config last: a reader never sees a config.json without its weights.
  const weights = [...backbone.weights.entries()];
  await writeFileParts(files, "model.safetensors", safetensorsParts(weights, { format: "keras_hub" }));
  await writeJson(files, "metadata.json", {
    keras_hub_version: KERAS_HUB_VERSION,
    edgebone_version: EDGEBONE_VERSION,
    parameter_count: backbone.countParams(),
    date_saved: formatDate(new Date()),
  });
  await writeJson(files, "config.json", {
    module: cls.module,
    class_name: cls.className,
    config: backbone.getConfig(),
    registered_name: `keras_hub>${cls.className}`,
  });
  return files;
}

async function findPreset(preset: string, store: PresetStore, parts: PresetParts, download: boolean): Promise<{ files: PresetFiles; config: Record<string, unknown> }> {
  const handle = parsePresetHandle(preset, builtinPresets());
  if (handle.kind === "path") {
    const files = store.openPath?.(preset) ?? null;
    const config = files && (await readJson(files, "config.json"));
    if (files && config) return { files, config };
    // A bare name may also be a key of the store (an installed custom preset).
    if (isStoreKey(preset)) {
      const keyed = store.open(preset);
      const keyedConfig = await readJson(keyed, "config.json");
      if (keyedConfig) return { files: keyed, config: keyedConfig };
    }
    throw new PresetNotFoundError(
      files
        ? `no preset at "${preset}": ${files.location} has no config.json`
        : `unknown preset "${preset}": not a built-in preset name${store.openPath ? ", not a directory," : ""} and not in ${store.description}`,
    );
  }
  const files = await openHubPreset(handle, store, parts, download, (f) => hasFile(f, "config.json"));
  return { files, config: (await readJson(files, "config.json"))! };
}

const isStoreKey = (key: string) => /^[\w.-]+(\/[\w.-]+)*$/.test(key) && !key.split("/").includes("..");

function checkSubclass(caller: BackboneClassRef, cls: ConcreteBackboneClass, preset: string): void {
  if (cls !== (caller as unknown) && !(cls.prototype instanceof caller)) {
    throw new Error(`${caller.className}.fromPreset("${preset}"): the preset is a ${cls.className}, not a ${caller.className}; use ${cls.className}.fromPreset or Backbone.fromPreset`);
  }
}

function kerasClass(config: Record<string, unknown>, files: PresetFiles): ConcreteBackboneClass {
  const registered = String(config.registered_name);
  const match = /^(?:keras_hub|keras_nlp)>(\w+)$/.exec(registered);
  const cls = match ? classByName(match[1]) : undefined;
  if (!cls) throw new Error(`${files.location}/config.json: unsupported backbone "${registered}"`);
  return cls;
}

/** The constructor args stored in a KerasHub config.json (`config` with name/trainable/dtype split off). */
function kerasArgs(config: Record<string, unknown>, files: PresetFiles): BackboneArgs & Record<string, unknown> {
  const inner = config.config;
  if (!inner || typeof inner !== "object") throw new Error(`${files.location}/config.json has no "config" object`);
  const { name, trainable, dtype, ...rest } = inner as Record<string, unknown>;
  return {
    ...camelKeys(rest),
    ...(typeof name === "string" ? { name } : {}),
    ...(typeof trainable === "boolean" ? { trainable } : {}),
    ...(dtype !== undefined && dtype !== null ? { dtype: dtypePolicy(dtype, files) } : {}),
  };
}

/** A Keras dtype policy (string or serialised DTypePolicy) → storage dtype. Mixed policies store float32. */
function dtypePolicy(dtype: unknown, files: PresetFiles): FloatDType {
  const name = typeof dtype === "string" ? dtype : String((dtype as { config?: { name?: unknown } }).config?.name ?? "");
  if (name === "float32" || name === "float16" || name === "bfloat16") return name;
  if (name.startsWith("mixed_")) return "float32";
  throw new Error(`${files.location}/config.json: unsupported dtype policy ${JSON.stringify(dtype)}`);
}

function formatDate(d: Date): string {
  const p = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}@${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}
