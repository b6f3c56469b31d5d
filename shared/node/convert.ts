/**
 * Converts any preset Edgebone reads (built-in name, hf://, kaggle://, a KerasHub or Hugging Face directory;
 * hub presets are downloaded into the hubs' caches first) into an Edgebone preset directory: KerasHub's
 * config.json + metadata.json + model.safetensors (saveToPreset), the tokenizer (tokenizer.hf.json plus
 * KerasHub's files) and edgebone.json (embedding defaults from sentence-transformers metadata).
 */
import {
  Backbone,
  EMBEDDING_SETTINGS_FILE,
  NoTokenizerError,
  PresetNotFoundError,
  Tokenizer,
  familyByBackbone,
  parseEmbeddingSettings,
  parsePresetHandle,
  presetFiles,
  sentenceTransformersSettings,
  type FloatDType,
  type PresetFiles,
  type PresetStore,
} from "../index.js";
import { builtinPresets } from "../backbone/registry.js";
import { writeJson } from "../presets/store.js";
import { FsPresetStore } from "./fs-preset-store.js";

export interface ConvertOptions {
  /** Where built-in names and hub handles are looked up before downloading (default: $EDGEBONE_PRESETS). */
  store?: PresetStore;
  dtype?: FloatDType;
  /** Seeded random weights instead of the preset's (nothing is downloaded for a built-in name or hub handle). */
  randomWeights?: boolean;
  seed?: number;
  /** Progress lines (default: stderr). */
  log?: (line: string) => void;
}

export async function convertPreset(preset: string, out: string, options: ConvertOptions = {}): Promise<{ backbone: Backbone; files: PresetFiles }> {
  const log = options.log ?? ((line: string) => console.error(line));
  log(`loading ${preset}…`);
  const backbone = await Backbone.fromPreset(preset, {
    loadWeights: !options.randomWeights,
    seed: options.seed,
    store: options.store,
    dtype: options.dtype,
    download: true,
  });
  log(`writing ${backbone.className} (${backbone.countParams().toLocaleString("en-US")} parameters, ${backbone.dtype}) to ${out}…`);
  const files = await backbone.saveToPreset(out, options.store ?? new FsPresetStore());
  log(`saved ${files.location}`);
  const source = await sourceFiles(preset, options);
  if (!source) {
    log(`no tokenizer: ${preset} is not downloaded with random weights`);
    return { backbone, files };
  }
  await copyTokenizer(source, backbone, files, log);
  await copyEmbeddingSettings(source, files, log);
  return { backbone, files };
}

/** The source preset's files (null: a hub preset not downloaded, because only random weights were asked for). */
export async function sourceFiles(preset: string, options: Pick<ConvertOptions, "store" | "randomWeights">): Promise<PresetFiles | null> {
  const hub = parsePresetHandle(preset, builtinPresets()).kind !== "path";
  try {
    return await presetFiles(preset, { store: options.store, download: !(hub && options.randomWeights) });
  } catch (e) {
    if (e instanceof PresetNotFoundError && hub && options.randomWeights) return null;
    throw e;
  }
}

/** Converts the source preset's tokenizer (if it has one) into the saved preset. */
export async function copyTokenizer(source: PresetFiles, backbone: Backbone, target: PresetFiles, log: (line: string) => void): Promise<void> {
  let tokenizer: Tokenizer;
  try {
    tokenizer = await Tokenizer.fromPreset(source, { family: familyByBackbone(backbone.className)?.family });
  } catch (e) {
    if (e instanceof NoTokenizerError) return log(`no tokenizer files in ${source.location}: the preset has no tokenizer`);
    throw e;
  }
  const saved = await tokenizer.saveToPreset(target);
  log(`saved ${tokenizer.className} (${tokenizer.vocabularySize.toLocaleString("en-US")} tokens): ${saved.written.join(", ")}`);
  if (saved.kerasIncomplete) log(`note: KerasHub cannot load this tokenizer: ${saved.kerasIncomplete}`);
}

/** edgebone.json: the source's own, else the embedding defaults of its sentence-transformers metadata. */
async function copyEmbeddingSettings(source: PresetFiles, target: PresetFiles, log: (line: string) => void): Promise<void> {
  const own = await source.read(EMBEDDING_SETTINGS_FILE);
  const settings = own ? parseEmbeddingSettings(own, `${source.location}/${EMBEDDING_SETTINGS_FILE}`) : await sentenceTransformersSettings(source);
  if (!settings) return;
  await writeJson(target, EMBEDDING_SETTINGS_FILE, settings);
  log(`saved ${EMBEDDING_SETTINGS_FILE}: ${JSON.stringify(settings)}`);
}
