/**
 * Where presets live. A preset is a flat set of files (config.json, metadata.json, model.safetensors, …);
 * a store maps keys (`distil_bert_base_en_uncased`, `hf/org/model`, `kaggle/keras/gemma/keras/gemma_2b_en/2`)
 * to presets. Stores are pluggable: memory (tests, workerd), local directory (node), R2/S3 (platform).
 */
import { concatBytes } from "../weights/safetensors.js";

export interface PresetFiles {
  /** Human-readable location, used in error messages. */
  readonly location: string;
  /** The file's bytes, or null when it does not exist. */
  read(file: string): Promise<Uint8Array | null>;
  write(file: string, bytes: Uint8Array): Promise<void>;
  /**
   * `length` bytes of a file from `offset` (fewer at its end), or null when it does not exist. Stores that
   * can (files, object stores) implement it, so a checkpoint is read tensor by tensor and never whole.
   */
  readRange?(file: string, offset: number, length: number): Promise<Uint8Array | null>;
  /** Writes a file from parts, in order, without joining them into one buffer (files beyond 4 GiB). */
  writeParts?(file: string, parts: readonly Uint8Array[]): Promise<void>;
}

export interface PresetStore {
  /** Human-readable description, used in error messages ("local directory /x/presets"). */
  readonly description: string;
  /** The preset stored under `key` (it may not exist yet: read() then returns null). */
  open(key: string): PresetFiles;
  /** A preset addressed by a filesystem path; only stores with filesystem access implement it. */
  openPath?(path: string): PresetFiles | null;
}

export class PresetNotFoundError extends Error {
  override name = "PresetNotFoundError";
}

/** In-memory store: tests, and runtimes without a filesystem. */
export class MemoryPresetStore implements PresetStore {
  readonly description = "in-memory preset store";
  private readonly files = new Map<string, Uint8Array>();

  open(key: string): PresetFiles {
    return {
      location: `memory:${key}`,
      read: async (file) => this.files.get(`${key}/${file}`) ?? null,
      write: async (file, bytes) => void this.files.set(`${key}/${file}`, bytes),
    };
  }
}

let defaultStore: PresetStore = new MemoryPresetStore();

/** The store `fromPreset`/`saveToPreset` use when none is passed (node entry points set a directory store). */
export function getDefaultPresetStore(): PresetStore {
  return defaultStore;
}

export function setDefaultPresetStore(store: PresetStore): void {
  defaultStore = store;
}

/** Whether the preset has `file`, without reading a large file whole. */
export async function hasFile(files: PresetFiles, file: string): Promise<boolean> {
  return (files.readRange ? await files.readRange(file, 0, 0) : await files.read(file)) !== null;
}

/** Writes `parts` as one file: streamed where the store can, joined otherwise. */
export async function writeFileParts(files: PresetFiles, file: string, parts: readonly Uint8Array[]): Promise<void> {
  if (files.writeParts) return files.writeParts(file, parts);
  await files.write(file, concatBytes(parts));
}

export async function readJson(files: PresetFiles, file: string): Promise<Record<string, unknown> | null> {
  const bytes = await files.read(file);
  if (bytes === null) return null;
  try {
    const value = JSON.parse(new TextDecoder().decode(bytes));
    if (value === null || typeof value !== "object" || Array.isArray(value)) throw new Error("not an object");
    return value;
  } catch (e) {
    throw new Error(`${files.location}/${file} is not a valid JSON object (${(e as Error).message})`);
  }
}

export async function writeJson(files: PresetFiles, file: string, value: unknown): Promise<void> {
  await files.write(file, new TextEncoder().encode(JSON.stringify(value, null, 4) + "\n"));
}
