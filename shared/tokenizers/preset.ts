/**
 * Tokenizers in presets. Loading resolves a preset like `Backbone.fromPreset` (built-in name, hf://,
 * kaggle://, path, store key) and imports whatever tokenizer files it has (assets.ts).
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
import { FAMILIES } from "./families.js";
import { existingAssets, importTokenizer, presetFamily, type ImportOptions } from "./assets.js";
import { CompileError } from "./compiled.js";
import { TokenizerError } from "./errors.js";
import { checksum, COMPILED_TOKENIZER_FILE, UnusableBinaryError } from "./tokenizer-binary.js";
import { CANONICAL_TOKENIZER_FILE, parseTokenizerJson } from "./tokenizer-json.js";
import { Tokenizer } from "./tokenizer.js";

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

export async function loadTokenizer(preset: string | PresetFiles, options: TokenizerPresetOptions = {}): Promise<Tokenizer> {
  const files = typeof preset === "string" ? await openPreset(preset, options.store, options.download ?? !options.store) : preset;
  const compiled = await loadCompiled(files, options);
  if (compiled) return compiled;
  const { json, assets, sources } = await importTokenizer(files, options);
  return Tokenizer.fromJson(json, assets, `${files.location}/${sources[0]}`);
}

/**
 * The preset's `tokenizer.bin`, when it stands for its `tokenizer.hf.json`: compiled from that very file (its
 * checksum), in this format version, and no option overrides the file's settings. Otherwise null (the JSON is
 * loaded), with a warning when a binary is there but unusable. The canonical file is read for the checksum but
 * not kept: saving reads it again (and checks it did not change meanwhile), as it reads the KerasHub assets.
 */
async function loadCompiled(files: PresetFiles, options: TokenizerPresetOptions): Promise<Tokenizer | null> {
  if (options.lowercase !== undefined || options.stripAccents !== undefined || options.specialTokensInText !== undefined) return null;
  const bin = await files.read(COMPILED_TOKENIZER_FILE);
  if (!bin) return null;
  const where = `${files.location}/${COMPILED_TOKENIZER_FILE}`;
  const jsonBytes = await files.read(CANONICAL_TOKENIZER_FILE);
  if (!jsonBytes) {
    console.warn(`${where} is ignored: the preset has no ${CANONICAL_TOKENIZER_FILE} beside it`);
    return null;
  }
  const sourceChecksum = checksum(jsonBytes);
  const json = async () => {
    const bytes = await files.read(CANONICAL_TOKENIZER_FILE);
    if (!bytes || checksum(bytes) !== sourceChecksum) throw new TokenizerError(`${files.location}/${CANONICAL_TOKENIZER_FILE} changed since its tokenizer was loaded`);
    return bytes;
  };
  let tokenizer: Tokenizer;
  try {
    tokenizer = Tokenizer.fromBinary(bin, { where, sourceChecksum, json, assets: async () => existingAssets(files, parseTokenizerJson(await json(), where)) });
  } catch (e) {
    if (!(e instanceof UnusableBinaryError)) throw e;
    console.warn(`${e.message}; loading ${CANONICAL_TOKENIZER_FILE} instead`);
    return null;
  }
  const family = options.family ?? (await presetFamily(files));
  if (family && family !== tokenizer.family) throw new TokenizerError(`${where} is a ${tokenizer.family} tokenizer, but the preset's model is ${family}`);
  return tokenizer;
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

/** Writes the canonical tokenizer, its compiled form, and KerasHub's config and assets (see the module comment). */
export async function saveTokenizer(
  tokenizer: Tokenizer,
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
