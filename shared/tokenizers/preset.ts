/**
 * Tokenizers in presets. Loading resolves a preset like `Backbone.fromPreset` (built-in name, hf://,
 * kaggle://, path, store key) to its files; `loadTokenizer` (tokenizer.ts) builds the Tokenizer from them.
 *
 * Saving writes four things (README "Tokenizers" explains the names):
 * - `tokenizer.hf.json`: the canonical Hugging Face-format tokenizer.
 * - `tokenizer.bin`: its compiled form (tokenizer-binary.ts), which loading prefers while its checksum of the
 *   canonical file matches; the edge loads it without parsing the vocabulary.
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
import type { ImportOptions, TokenizerAssets } from "./assets.js";
import { CompileError } from "./compiled.js";
import { TokenizerError } from "./errors.js";
import { COMPILED_TOKENIZER_FILE } from "./tokenizer-binary.js";
import { CANONICAL_TOKENIZER_FILE } from "./tokenizer-json.js";

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

export interface SavedTokenizer {
  files: PresetFiles;
  /** Files written, relative to the preset. */
  written: string[];
  /** Why the preset is not loadable by KerasHub, when it is not (e.g. no SentencePiece model to copy). */
  kerasIncomplete?: string;
  /** Why no tokenizer.bin was written, when none was (compiled.ts `CompileError`); loading uses the JSON. */
  notCompiled?: string;
}

/** What saving needs of a `Tokenizer` (tokenizer.ts, which imports this module: structural, so no loop). */
interface SavableTokenizer {
  readonly family: TokenizerFamily;
  kerasAssets(): Promise<TokenizerAssets>;
  toJson(): Promise<Uint8Array>;
  toBinary(): Promise<Uint8Array>;
  kerasConfig(): Record<string, unknown>;
}

/** Writes the canonical tokenizer, its compiled form, and KerasHub's config and assets (see the module comment). */
export async function saveTokenizer(
  tokenizer: SavableTokenizer,
  target: string | PresetFiles,
  store: PresetStore = getDefaultPresetStore(),
): Promise<SavedTokenizer> {
  const files = typeof target === "string" ? (store.openPath?.(target) ?? store.open(target)) : target;
  const written: string[] = [];
  const write = async (path: string, bytes: Uint8Array) => {
    try {
      await files.write(path, bytes);
    } catch (e) {
      throw new TokenizerError(`cannot write ${files.location}/${path}: ${(e as Error).message}`);
    }
    written.push(path);
  };
  const spec = FAMILIES[tokenizer.family];
  const assets = await tokenizer.kerasAssets();
  const missing = spec.kerasAssets.filter((name) => !assets[name]);
  // Assets before configs: a reader never sees a config without its vocabulary.
  if (missing.length === 0) for (const name of spec.kerasAssets) await write(`assets/tokenizer/${name}`, assets[name]);
  // Both read first: saving a tokenizer into the preset it was loaded from rewrites the same bytes.
  const json = await tokenizer.toJson();
  let binary: Uint8Array | undefined;
  let notCompiled: string | undefined;
  try {
    binary = await tokenizer.toBinary();
  } catch (e) {
    if (!(e instanceof CompileError)) throw e;
    notCompiled = e.message;
  }
  // The binary after the JSON: a reader between the two sees an old binary, whose checksum no longer matches.
  await write(CANONICAL_TOKENIZER_FILE, json);
  if (binary) await write(COMPILED_TOKENIZER_FILE, binary);
  const result: SavedTokenizer = { files, written, ...(notCompiled ? { notCompiled } : {}) };
  if (missing.length === 0) {
    await writeJson(files, "tokenizer.json", tokenizer.kerasConfig());
    written.push("tokenizer.json");
    return result;
  }
  return { ...result, kerasIncomplete: `no ${missing.join(", ")} to write under assets/tokenizer/ (the source had no SentencePiece model file)` };
}
