/**
 * Tokenizers in presets. Loading resolves a preset like `Backbone.fromPreset` (built-in name, hf://,
 * kaggle://, path, store key) and imports whatever tokenizer files it has (assets.ts).
 *
 * Saving writes three things (README "Tokenizers" explains the names):
 * - `tokenizer.hf.json`: the canonical Hugging Face-format tokenizer; the only file the edge loads.
 * - `tokenizer.json`: KerasHub's serialized tokenizer config, so KerasHub's `from_preset` still works.
 * - `assets/tokenizer/<vocabulary.txt | vocabulary.json + merges.txt | vocabulary.spm>`: KerasHub's assets.
 * The canonical file cannot take the name `tokenizer.json` (KerasHub's config owns it), and it does not go
 * under `assets/tokenizer/` either: that folder is KerasHub's asset namespace for the `tokenizer.json`
 * config (`config_file.split(".")[0]`), where a second, different "tokenizer.json" would be ambiguous.
 */
import { builtinPresets } from "../backbone/registry.js";
import { parsePresetHandle } from "../presets/handles.js";
import { openHubPreset } from "../presets/hub.js";
import { getDefaultPresetStore, hasFile, PresetNotFoundError, writeJson, type PresetFiles, type PresetStore } from "../presets/store.js";
import { FAMILIES, type TokenizerFamily } from "./families.js";
import { importTokenizer, type ImportOptions, type TokenizerAssets } from "./assets.js";
import { TokenizerError } from "./errors.js";
import { CANONICAL_TOKENIZER_FILE, type TokenizerJson } from "./tokenizer-json.js";

export interface TokenizerPresetOptions extends ImportOptions {
  store?: PresetStore;
  /** Download hub presets missing from the store (as `Backbone.fromPreset`; default: when no store is given). */
  download?: boolean;
}

const PROBES = ["config.json", CANONICAL_TOKENIZER_FILE, "tokenizer.json", "vocab.txt", "vocab.json", "tokenizer.model", "sentencepiece.bpe.model"];

async function hasPresetFiles(files: PresetFiles): Promise<boolean> {
  for (const probe of PROBES) if (await hasFile(files, probe)) return true;
  return false;
}

/** The preset's files: a directory (or any store key) holding a config.json or tokenizer files. */
export async function openPreset(preset: string, store: PresetStore = getDefaultPresetStore(), download = false): Promise<PresetFiles> {
  const handle = parsePresetHandle(preset, builtinPresets());
  if (handle.kind !== "path") return openHubPreset(handle, store, "tokenizer", download, hasPresetFiles);
  const candidates: PresetFiles[] = [];
  const files = store.openPath?.(preset);
  if (files) candidates.push(files);
  if (/^[\w.-]+(\/[\w.-]+)*$/.test(preset)) candidates.push(store.open(preset));
  for (const files of candidates) if (await hasPresetFiles(files)) return files;
  throw new PresetNotFoundError(
    candidates.length
      ? `no preset at "${preset}": ${candidates.map((c) => c.location).join(" or ")} has no config.json or tokenizer files`
      : `unknown preset "${preset}": not a built-in preset name, not a directory, and not in ${store.description}`,
  );
}

/**
 * A preset's tokenizer files, imported into one canonical tokenizer.json (assets.ts); `where` names the file it came
 * from. `loadTokenizer` (tokenizer.ts) builds the Tokenizer: this module never imports the class.
 */
export async function importPresetTokenizer(
  preset: string | PresetFiles,
  options: TokenizerPresetOptions = {},
): Promise<{ json: TokenizerJson; assets: TokenizerAssets; where: string }> {
  const files = typeof preset === "string" ? await openPreset(preset, options.store, options.download ?? !options.store) : preset;
  const { json, assets, sources } = await importTokenizer(files, options);
  return { json, assets, where: `${files.location}/${sources[0]}` };
}

export interface SavedTokenizer {
  files: PresetFiles;
  /** Files written, relative to the preset. */
  written: string[];
  /** Why the preset is not loadable by KerasHub, when it is not (e.g. no SentencePiece model to copy). */
  kerasIncomplete?: string;
}

/** What saving needs of a `Tokenizer` (tokenizer.ts, which imports this module: structural, so no loop). */
interface SavableTokenizer {
  readonly family: TokenizerFamily;
  readonly assets: TokenizerAssets;
  toJson(): Uint8Array;
  kerasConfig(): Record<string, unknown>;
}

/** Writes the canonical tokenizer and KerasHub's config and assets (see the module comment). */
export async function saveTokenizer(
  tokenizer: SavableTokenizer,
  target: string | PresetFiles,
  store: PresetStore = getDefaultPresetStore(),
): Promise<SavedTokenizer> {
  const files = typeof target === "string" ? (store.openPath?.(target) ?? store.open(target)) : target;
  const written: string[] = [];
  const spec = FAMILIES[tokenizer.family];
  const missing = spec.kerasAssets.filter((name) => !tokenizer.assets[name]);
  // Assets before configs: a reader never sees a config without its vocabulary.
  if (missing.length === 0) {
    for (const name of spec.kerasAssets) {
      const path = `assets/tokenizer/${name}`;
      try {
        await files.write(path, tokenizer.assets[name]);
      } catch (e) {
        throw new TokenizerError(`cannot write ${files.location}/${path}: ${(e as Error).message}`);
      }
      written.push(path);
    }
  }
  await files.write(CANONICAL_TOKENIZER_FILE, tokenizer.toJson());
  written.push(CANONICAL_TOKENIZER_FILE);
  if (missing.length === 0) {
    await writeJson(files, "tokenizer.json", tokenizer.kerasConfig());
    written.push("tokenizer.json");
    return { files, written };
  }
  return { files, written, kerasIncomplete: `no ${missing.join(", ")} to write under assets/tokenizer/ (the source had no SentencePiece model file)` };
}
