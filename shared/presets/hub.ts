/**
 * Downloading presets from the hubs (Hugging Face, Kaggle). The library only defines the interface: the Node
 * entry point registers a downloader (shared/node/hub) that fills huggingface_hub's and kagglehub's caches;
 * workerd registers none, so there a preset comes from its store (R2) or not at all.
 */
import { storeKeys, type PresetHandle } from "./handles.js";
import { PresetNotFoundError, type PresetFiles, type PresetStore } from "./store.js";

export type HubHandle = Exclude<PresetHandle, { kind: "path" }>;

/**
 * What a caller needs from a preset: `config` (config.json alone: `loadWeights: false`), `tokenizer`
 * (config and tokenizer files), or `all` (also weights and sentence-transformers metadata).
 */
export type PresetParts = "config" | "tokenizer" | "all";

export interface PresetDownloader {
  /** The preset's files in a local cache, after downloading whatever `parts` needs that the cache lacks. */
  download(handle: HubHandle, parts: PresetParts): Promise<PresetFiles>;
}

let downloader: PresetDownloader | null = null;

export function setPresetDownloader(d: PresetDownloader | null): void {
  downloader = d;
}

function getPresetDownloader(): PresetDownloader | null {
  return downloader;
}

/**
 * A hub handle's preset: from the store when it is installed there (`isPreset`), else downloaded into the
 * hub's cache when `download` is allowed and a downloader is registered.
 */
export async function openHubPreset(
  handle: HubHandle,
  store: PresetStore,
  parts: PresetParts,
  download: boolean,
  isPreset: (files: PresetFiles) => Promise<boolean>,
): Promise<PresetFiles> {
  const keys = storeKeys(handle);
  for (const key of keys) {
    const files = store.open(key);
    if (await isPreset(files)) return files;
  }
  const missing = notInstalled(handle, keys, store);
  const downloader = download ? getPresetDownloader() : null;
  if (!downloader) {
    throw new PresetNotFoundError(
      `${missing}. ${download ? "Downloads need the Node entry point (shared/node)" : "Downloading is off for an explicit store (pass download: true)"}: ` +
        `install it with "npm run preset:install -- ${hubSource(handle)}" or pass a local directory`,
    );
  }
  let files: PresetFiles;
  try {
    files = await downloader.download(handle, parts);
  } catch (e) {
    throw new Error(`${missing}, and downloading ${hubSource(handle)} failed: ${(e as Error).message}`, { cause: e });
  }
  if (!(await isPreset(files))) throw new PresetNotFoundError(`${hubSource(handle)}: the download in ${files.location} has no config.json`);
  return files;
}

/** The hub address a handle downloads from (a built-in name: its Kaggle handle). */
function hubSource(handle: HubHandle): string {
  return handle.kind === "builtin" ? handle.info.kaggleHandle : handle.handle;
}

function notInstalled(handle: HubHandle, keys: string[], store: PresetStore): string {
  const name = handle.kind === "builtin" ? `built-in preset "${handle.name}"` : `"${handle.handle}"`;
  return `${name} is not installed in ${store.description} (looked under ${keys.map((k) => `"${k}"`).join(", ")})`;
}
